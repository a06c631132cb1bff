package wire

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/collabd/collab/ot"
)

func mustOp(s string) ot.Op {
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		panic(err)
	}
	return op
}

func ptr[T any](v T) *T { return &v }

// roundTripClient and roundTripServer are a message of every type, with
// every field set and strings that need every kind of escape.
var (
	roundTripClient = []any{
		&Hello{Type: TypeHello, Version: Version, Client: "c-1", Name: "Ada <a&b>", Color: "#d33", Token: "t.k.n"},
		&Join{Type: TypeJoin, Doc: "notes", Rev: ptr(uint64(7)), Token: "tok"},
		&Join{Type: TypeJoin, Doc: "notes"},
		&Leave{Type: TypeLeave, Doc: "notes"},
		&Ping{Type: TypePing},
		&Submit{Type: TypeSubmit, Doc: "d\u2028", Rev: 4, Seq: MaxSeq, Op: mustOp(`[2," there 👋\"\\",-3,1]`)},
		&Presence{Type: TypePresence, Doc: "notes", Rev: 6, Anchor: 1, Head: 2},
	}
	roundTripServer = []any{
		&Welcome{Type: TypeWelcome, Version: Version, Client: "c9ed", Limits: &DefaultLimits},
		&Joined{Type: TypeJoined, Doc: "d", Rev: 3, Seq: 2, Text: ptr("hé\n😀"), ReadOnly: true},
		&Joined{Type: TypeJoined, Doc: "d", Rev: 3, Ops: []Record{{Rev: 3, Op: mustOp(`[1,"x"]`), Client: "c", Seq: 1, Name: "n"}}, Reset: true},
		&Ack{Type: TypeAck, Doc: "notes", Seq: 1, Rev: 5},
		&Op{Type: TypeOp, Doc: "notes", Rev: 6, Op: mustOp(`[10,"<!>"]`), Client: "c9ed", Seq: 8, Name: "Bo"},
		&Presence{Type: TypePresence, Doc: "notes", Client: "c9ed", Name: "Bo", Color: "#123", Rev: 6, Anchor: 0, Head: 2},
		&Editor{Type: TypeEditor, Doc: "notes", Client: "c9ed", Name: "Bo", Color: "#123", Event: EventJoin},
		&Error{Type: TypeError, Code: CodeNotFound, Message: "gone", Doc: "d", Seq: 3, By: "admin"},
		&Pong{Type: TypePong},
	}
)

// TestRoundTrip: every message Encode writes decodes, on the side that
// reads it, to the same message.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		msgs   []any
		decode func([]byte) (any, error)
	}{{roundTripClient, DecodeClient}, {roundTripServer, DecodeServer}} {
		for _, m := range tc.msgs {
			data, err := Encode(m)
			if err != nil {
				t.Fatalf("Encode(%+v): %v", m, err)
			}
			got, err := tc.decode(data)
			if err != nil {
				t.Fatalf("%s: %v", data, err)
			}
			if !sameMessage(got, m) || reflect.TypeOf(got) != reflect.TypeOf(m) {
				t.Errorf("%s decoded as %+v, want %+v", data, got, m)
			}
		}
	}
}

// encodeCases are op messages whose strings need every kind of escape.
var encodeCases = []Op{
	{Type: TypeOp, Doc: "notes", Rev: 6, Op: ot.Op{}, Client: "c9ed350128bfc5520ca43669", Seq: 8, Name: "Bo"},
	{Type: TypeOp, Doc: "d", Rev: 1, Op: mustOp(`[3,"<b>\"x\"\\ &\n\t\u0001é😀\u2028",-2,1]`)},
	{Type: TypeOp, Doc: "a.b-c_d", Rev: 1 << 60, Op: mustOp(`[-5]`), Name: "Ada <ada@example.com>\u2029\u007f"},
}

func TestEncodeFast(t *testing.T) {
	for _, m := range encodeCases {
		checkSameOp(t, &m)
		checkSameAck(t, &Ack{Type: TypeAck, Doc: m.Doc, Seq: m.Seq, Rev: m.Rev})
	}
}

// FuzzEncode: Encode's fast paths give JSON that decodes to the message,
// as encoding/json's does, whatever the strings (invalid UTF-8 becomes
// U+FFFD in both).
func FuzzEncode(f *testing.F) {
	for _, m := range encodeCases {
		f.Add(m.Doc, m.Name, m.Client, "ins\u2028<", m.Rev, m.Seq)
	}
	f.Fuzz(func(t *testing.T, doc, name, client, text string, rev, seq uint64) {
		var b ot.Builder
		op := b.Retain(2).Insert(text).Delete(1).Op()
		checkSameOp(t, &Op{Type: TypeOp, Doc: doc, Rev: rev, Op: op, Client: client, Seq: seq, Name: name})
		checkSameAck(t, &Ack{Type: TypeAck, Doc: doc, Seq: seq, Rev: rev})
	})
}

func checkSameOp(t *testing.T, m *Op) {
	t.Helper()
	var got, want Op
	fast, general := encodeBoth(t, m, &got, &want)
	if !reflect.DeepEqual(got, want) || got.Op.String() != want.Op.String() {
		t.Fatalf("Encode gave %s, encoding/json %s", fast, general)
	}
}

func checkSameAck(t *testing.T, m *Ack) {
	t.Helper()
	var got, want Ack
	fast, _ := encodeBoth(t, m, &got, &want)
	if got != want {
		t.Fatalf("Encode gave %s for %+v", fast, m)
	}
}

// encodeBoth encodes m with Encode and with encoding/json and decodes each
// with encoding/json, into got and want.
func encodeBoth(t *testing.T, m, got, want any) (fast, general []byte) {
	t.Helper()
	fast, err := Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if general, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fast, got); err != nil {
		t.Fatalf("fast encoding %s does not decode: %v", fast, err)
	}
	if err := json.Unmarshal(general, want); err != nil {
		t.Fatalf("encoding/json's %s does not decode: %v", general, err)
	}
	return fast, general
}

func BenchmarkEncodeOp(b *testing.B) {
	m := &Op{Type: TypeOp, Doc: "doc-00042", Rev: 1234, Op: mustOp(`[512,"hé 😀",-3,1200]`), Client: "c9ed350128bfc5520ca43669", Seq: 77, Name: "Ada"}
	for _, bc := range []struct {
		name   string
		encode func(any) ([]byte, error)
	}{{"fast", Encode}, {"json", json.Marshal}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.encode(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
