package wire

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"
)

// clientSeeds are client messages of every type, in usual and unusual
// forms, and near misses.
var clientSeeds = []string{
	`{"type":"hello","version":1,"client":"c-7f3a","name":"Ada","color":"#d33"}`,
	`{"type":"join","doc":"notes","rev":7}`,
	`{"type":"leave","doc":"notes"}`,
	`{"type":"submit","doc":"notes","rev":4,"seq":1,"op":[2," there 👋",-3,1]}`,
	`{"type":"presence","doc":"notes","rev":6,"anchor":0,"head":2,"client":"x"}`,
	`{"type":"presence","doc":"notes","rev":6,"anchor":-1,"head":2}`,
	`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d"]}`,
	`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d\ude00"]}`,
	`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[1e3]}`,
	`{"type":"join","doc":"\ud800"}`,
	`{"type":"ping"}`, `{"type":"nope"}`, `[]`, `null`, `{"type":`, `{"type":"join","doc":"\\u"}`,
}

// FuzzDecodeClient checks DecodeClient against encoding/json as the
// reference: no input makes it panic; what it accepts, encoding/json
// decodes into the message's type as the same value; what it refuses,
// encoding/json refuses too, or one of the protocol's rules beyond JSON
// does (lone surrogates, seq, required fields, positions, op validity).
func FuzzDecodeClient(f *testing.F) {
	for _, s := range clientSeeds {
		f.Add([]byte(s))
	}
	for _, tc := range fastSubmitCases {
		f.Add([]byte(tc.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := DecodeClient(data)
		if err != nil {
			checkClientRefusal(t, data, msg, err)
			return
		}
		ref := reflect.New(reflect.TypeOf(msg).Elem()).Interface()
		if err := json.Unmarshal(data, ref); err != nil {
			t.Fatalf("%q: decoded %+v, encoding/json refuses: %v", data, msg, err)
		}
		if p, ok := ref.(*Presence); ok {
			p.Client, p.Name, p.Color = "", "", ""
		}
		if !sameMessage(msg, ref) {
			t.Fatalf("%q: decoded %+v, encoding/json %+v", data, msg, ref)
		}
		checkAccepted(t, msg)
	})
}

// checkClientRefusal: a refusal has no message, wraps one of the two
// sentinels, and is explained by encoding/json or a protocol rule.
func checkClientRefusal(t *testing.T, data []byte, msg any, err error) {
	t.Helper()
	if msg != nil {
		t.Fatalf("message %v with error %v", msg, err)
	}
	if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrInvalidOp) {
		t.Fatalf("error %v is neither ErrBadMessage nor ErrInvalidOp", err)
	}
	var env struct{ Type string }
	if json.Unmarshal(data, &env) != nil || HasLoneSurrogate(data) {
		return // encoding/json refuses it, or it would change it
	}
	switch env.Type {
	case "":
		if !errors.Is(err, ErrNoType) {
			t.Fatalf("%q: no type refused with %v, want ErrNoType", data, err)
		}
	case TypeSubmit, TypePresence:
		return // rules beyond JSON: required fields, seq, op, positions
	case TypeHello, TypeJoin, TypeLeave, TypePing:
		v := map[string]any{TypeHello: &Hello{}, TypeJoin: &Join{}, TypeLeave: &Leave{}, TypePing: &Ping{}}[env.Type]
		if json.Unmarshal(data, v) == nil {
			t.Fatalf("%q: refused (%v), encoding/json accepts it", data, err)
		}
	default:
		if !errors.Is(err, ErrUnknownType) {
			t.Fatalf("%q: type %q refused with %v, want ErrUnknownType", data, env.Type, err)
		}
	}
}

// checkAccepted: what is accepted keeps the protocol's rules.
func checkAccepted(t *testing.T, msg any) {
	t.Helper()
	switch m := msg.(type) {
	case *Hello, *Join, *Leave, *Ping:
	case *Presence:
		if m.Anchor < 0 || m.Head < 0 || m.Client != "" {
			t.Fatalf("presence %+v accepted", m)
		}
	case *Submit:
		if m.Seq == 0 || m.Seq > MaxSeq {
			t.Fatalf("seq %d accepted", m.Seq)
		}
		for i := 0; i < m.Op.Len(); i++ {
			if c := m.Op.Component(i); !utf8.ValidString(c.Text) || c.N <= 0 {
				t.Fatalf("bad component %+v accepted", c)
			}
		}
	default:
		t.Fatalf("decoded unknown %T", msg)
	}
}

// sameMessage compares two decoded messages, ops by value.
func sameMessage(a, b any) bool {
	return reflect.DeepEqual(canonical(a), canonical(b))
}

// canonical replaces a message's op by its JSON, so that two equal ops
// built differently compare equal.
func canonical(m any) any {
	data, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	return v
}

func TestLoneSurrogate(t *testing.T) {
	for s, want := range map[string]bool{
		`"\ud83d"`: true, `"\ude00"`: true, `"\ud83d\ude00"`: false, `"\\ud83d"`: false,
		`"\ud83dx"`: true, `"a\u00e9"`: false, `"\ud83d\u0041"`: true, `"\`: false,
	} {
		if got := HasLoneSurrogate([]byte(s)); got != want {
			t.Errorf("HasLoneSurrogate(%s) = %v, want %v", s, got, want)
		}
	}
}

// TestSubmitError: a refused submit says which submit it was, as far as
// it could be read.
func TestSubmitError(t *testing.T) {
	_, err := DecodeClient([]byte(`{"type":"submit","doc":"n","rev":1,"seq":7,"op":[3,"\ud83d"]}`))
	var se *SubmitError
	if !errors.As(err, &se) || se.Doc != "n" || se.Seq != 7 || !errors.Is(err, ErrInvalidOp) {
		t.Fatalf("err = %v (%#v), want a SubmitError for n/7 wrapping ErrInvalidOp", err, se)
	}
}

var fastSubmitCases = []struct {
	data string
	fast bool // taken by the fast path; if not, the general decoder decides
}{
	{`{"type":"submit","doc":"notes","rev":4,"seq":1,"op":[2," there 👋",-3,1]}`, true},
	{` { "op" : [ "a\"b\\c" , 3 ] , "seq" : 9 , "rev" : 0 , "doc" : "d" , "type" : "submit" } `, true},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d\ude00"]}`, true},
	{`{"type":"submit","doc":"n","rev":18446744073709551615,"seq":1,"op":["x"]}`, true},
	{`{"type":"submit","doc":"n","rev":18446744073709551616,"seq":1,"op":["x"]}`, false}, // overflow
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d"]}`, false},             // lone surrogate
	{`{"type":"submit","doc":"n","rev":1,"seq":0,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[1e3]}`, false},
	{`{"type":"submit","doc":"n","rev":1.0,"seq":1,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n","rev":01,"seq":1,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n","rev":-1,"seq":1,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n","rev":null,"seq":1,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n\u0041","rev":1,"seq":1,"op":["x"]}`, false}, // escape in doc
	{`{"type":"submit","Doc":"n","rev":1,"seq":1,"op":["x"]}`, false},       // encoding/json matches keys in any case
	{`{"type":"submit","doc":"a","doc":"b","rev":1,"seq":1,"op":["x"]}`, false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":["x"],"extra":1}`, false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":["x"]}x`, false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[["x"]]}`, false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[0]}`, false}, // invalid op: the general path says why
	{`{"type":"join","doc":"n","rev":1,"seq":1,"op":["x"]}`, false},
	{"{\"type\":\"submit\",\"doc\":\"\xff\",\"rev\":1,\"seq\":1,\"op\":[\"x\"]}", false},
	{`{"type":"submit","doc":"n","rev":1,"seq":1}`, false},
}

// TestFastSubmit: the fast path takes the usual submits and leaves every
// other form, and every error, to the general decoder; what it takes, it
// decodes as the general decoder does.
func TestFastSubmit(t *testing.T) {
	for _, tc := range fastSubmitCases {
		m, ok := fastSubmit([]byte(tc.data))
		if ok != tc.fast {
			t.Errorf("%s: fast path took it: %v, want %v", tc.data, ok, tc.fast)
			continue
		}
		if ok {
			checkSameSubmit(t, []byte(tc.data), m)
		}
	}
}

// FuzzFastSubmit: whatever the fast path for submits accepts, the general
// decoder decodes to the same submit.
func FuzzFastSubmit(f *testing.F) {
	for _, s := range fastSubmitCases {
		f.Add([]byte(s.data))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if fast, ok := fastSubmit(data); ok {
			checkSameSubmit(t, data, fast)
		}
	})
}

func checkSameSubmit(t *testing.T, data []byte, fast *Submit) {
	t.Helper()
	msg, err := decodeClientJSON(data)
	if err != nil {
		t.Fatalf("%q: fast path gave %+v, general decoder %v", data, fast, err)
	}
	slow, ok := msg.(*Submit)
	if !ok || slow.Type != fast.Type || slow.Doc != fast.Doc || slow.Rev != fast.Rev || slow.Seq != fast.Seq || !slow.Op.Equal(fast.Op) {
		t.Fatalf("%q: fast path gave %+v, general decoder %+v", data, fast, msg)
	}
}

// BenchmarkDecodeSubmit decodes a typical submit through DecodeClient
// (its fast path) and through the general decoder (encoding/json).
func BenchmarkDecodeSubmit(b *testing.B) {
	data := []byte(`{"type":"submit","doc":"doc-00042","rev":1234,"seq":77,"op":[512,"hé 😀",-3,1200]}`)
	for _, bc := range []struct {
		name   string
		decode func([]byte) (any, error)
	}{{"fast", DecodeClient}, {"general", decodeClientJSON}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
