package collab

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// encodeCases are op messages whose strings need every kind of escape.
var encodeCases = []wire.Op{
	{Type: wire.TypeOp, Doc: "notes", Rev: 6, Op: ot.Op{}, Client: "c9ed350128bfc5520ca43669", Seq: 8, Name: "Bo"},
	{Type: wire.TypeOp, Doc: "d", Rev: 1, Op: mustOp(`[3,"<b>\"x\"\\ &\n\t\u0001é😀\u2028",-2,1]`)},
	{Type: wire.TypeOp, Doc: "a.b-c_d", Rev: 1 << 60, Op: mustOp(`[-5]`), Name: "Ada <ada@example.com>\u2029\u007f"},
}

func mustOp(s string) ot.Op {
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		panic(err)
	}
	return op
}

func TestEncodeFast(t *testing.T) {
	for _, m := range encodeCases {
		checkSameOp(t, &m)
		checkSameAck(t, &wire.Ack{Type: wire.TypeAck, Doc: m.Doc, Seq: m.Seq, Rev: m.Rev})
	}
}

// FuzzEncodeFast: encodeOp and encodeAck give JSON that decodes to the
// message, as encode's does, whatever the strings (invalid UTF-8 becomes
// U+FFFD in both).
func FuzzEncodeFast(f *testing.F) {
	for _, m := range encodeCases {
		f.Add(m.Doc, m.Name, m.Client, "ins\u2028<", m.Rev, m.Seq)
	}
	f.Fuzz(func(t *testing.T, doc, name, client, text string, rev, seq uint64) {
		var b ot.Builder
		op := b.Retain(2).Insert(text).Delete(1).Op()
		checkSameOp(t, &wire.Op{Type: wire.TypeOp, Doc: doc, Rev: rev, Op: op, Client: client, Seq: seq, Name: name})
		checkSameAck(t, &wire.Ack{Type: wire.TypeAck, Doc: doc, Seq: seq, Rev: rev})
	})
}

func checkSameOp(t *testing.T, m *wire.Op) {
	t.Helper()
	var got, want wire.Op
	decodeBoth(t, encodeOp(m), encode(m), &got, &want)
	if !reflect.DeepEqual(got, want) || got.Op.String() != want.Op.String() {
		t.Fatalf("encodeOp gave %s, encode %s", encodeOp(m), encode(m))
	}
}

func checkSameAck(t *testing.T, m *wire.Ack) {
	t.Helper()
	var got, want wire.Ack
	decodeBoth(t, encodeAck(m), encode(m), &got, &want)
	if got != want {
		t.Fatalf("encodeAck gave %s for %+v", encodeAck(m), m)
	}
}

func decodeBoth(t *testing.T, fast, general []byte, got, want any) {
	t.Helper()
	if err := json.Unmarshal(fast, got); err != nil {
		t.Fatalf("fast encoding %s does not decode: %v", fast, err)
	}
	if err := json.Unmarshal(general, want); err != nil {
		t.Fatalf("encode's %s does not decode: %v", general, err)
	}
}

func BenchmarkEncodeOp(b *testing.B) {
	m := &wire.Op{Type: wire.TypeOp, Doc: "doc-00042", Rev: 1234, Op: mustOp(`[512,"hé 😀",-3,1200]`), Client: "c9ed350128bfc5520ca43669", Seq: 77, Name: "Ada"}
	for _, bc := range []struct {
		name   string
		encode func() []byte
	}{{"fast", func() []byte { return encodeOp(m) }}, {"json", func() []byte { return encode(m) }}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.encode()
			}
		})
	}
}
