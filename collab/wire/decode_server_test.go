package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// fastServerCases are messages as the server writes them, and near misses
// that the general path must decide.
var fastServerCases = []string{
	`{"type":"op","doc":"notes","rev":6,"op":[10,"!"],"client":"c9ed350128bfc5520ca43669","seq":8,"name":"Bo"}`,
	`{"type":"op","doc":"d","rev":1,"op":["h\u00e9 \ud83d\ude00\n",-2,1]}`,
	`{"type":"ack","doc":"notes","seq":1,"rev":5}`,
	` { "seq" : 1 , "rev":5, "doc":"notes", "type":"ack" } `,
	`{"type":"op","doc":"d","rev":1,"op":[1],"name":"A\"da"}`,
	`{"type":"ack","doc":"d","seq":1,"rev":5,"rev":6}`,
	`{"type":"ack","doc":"d","seq":1}`,
	`{"type":"op","doc":"d","rev":1.0,"op":[1]}`,
	`{"type":"op","doc":"d","rev":1,"op":["\ud83d"]}`,
	`{"type":"presence","doc":"d","client":"x","rev":1,"anchor":0,"head":0}`,
	`{"Type":"ack","doc":"d","seq":1,"rev":2}`,
}

func TestFastServer(t *testing.T) {
	fast := 0
	for _, data := range fastServerCases {
		if checkSameServerMsg(t, []byte(data)) {
			fast++
		}
	}
	if fast != 4 {
		t.Errorf("%d of the cases took the fast path, want the first 4", fast)
	}
}

// FuzzDecodeServer checks DecodeServer against encoding/json as the
// reference: what the fast path decodes, encoding/json decodes to the
// same message; DecodeServer accepts exactly what encoding/json accepts
// with a known type, as the same value.
func FuzzDecodeServer(f *testing.F) {
	for _, data := range fastServerCases {
		f.Add([]byte(data))
	}
	for _, m := range roundTripServer {
		data, _ := json.Marshal(m)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSameServerMsg(t, data)
		msg, err := DecodeServer(data)
		var ref serverMsg
		refErr := json.Unmarshal(data, &ref)
		switch {
		case err == nil && refErr != nil:
			t.Fatalf("%q: decoded %+v, encoding/json refuses: %v", data, msg, refErr)
		case err != nil && !errors.Is(err, ErrBadMessage):
			t.Fatalf("%q: error %v does not wrap ErrBadMessage", data, err)
		case err != nil && refErr == nil && ref.typed() != nil:
			t.Fatalf("%q: refused (%v), encoding/json accepts it", data, err)
		case err == nil && !sameMessage(msg, ref.typed()):
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, msg, ref.typed())
		}
	})
}

// checkSameServerMsg reports whether data took the fast path, failing if
// encoding/json decodes it otherwise.
func checkSameServerMsg(t *testing.T, data []byte) bool {
	t.Helper()
	fast, ok := fastServer(data)
	if !ok {
		return false
	}
	var general serverMsg
	if err := json.Unmarshal(data, &general); err != nil {
		t.Fatalf("fast path took %s, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(fast.typed(), general.typed()) || fast.Op.String() != general.Op.String() {
		t.Fatalf("%s: fast %+v, encoding/json %+v", data, fast, general)
	}
	return true
}

func TestDecodeServerRefuses(t *testing.T) {
	for data, want := range map[string]error{
		`{"type":"newer","doc":"d"}`: ErrUnknownType,
		`{"doc":"d"}`:                ErrNoType,
		`{"type":"op","rev":"x"}`:    ErrBadMessage,
		`nope`:                       ErrBadMessage,
	} {
		if m, err := DecodeServer([]byte(data)); !errors.Is(err, want) || !errors.Is(err, ErrBadMessage) || m != nil {
			t.Errorf("DecodeServer(%s) = %v, %v; want an error wrapping %v", data, m, err, want)
		}
	}
}

func BenchmarkDecodeServer(b *testing.B) {
	data := []byte(fastServerCases[0])
	for _, bc := range []struct {
		name   string
		decode func() error
	}{
		{"fast", func() error { _, err := DecodeServer(data); return err }},
		{"json", func() error { var m serverMsg; return json.Unmarshal(data, &m) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bc.decode(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
