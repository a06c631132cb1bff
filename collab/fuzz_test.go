package collab

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
)

// FuzzDecode: no input makes the decoder panic; a decoded message has a
// known type, errors carry a protocol code, and a decoded submit's op
// re-encodes to JSON that decodes to the same op.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","version":1,"client":"c-7f3a","name":"Ada","color":"#d33"}`,
		`{"type":"join","doc":"notes","rev":7}`,
		`{"type":"leave","doc":"notes"}`,
		`{"type":"submit","doc":"notes","rev":4,"seq":1,"op":[2," there 👋",-3,1]}`,
		`{"type":"presence","doc":"notes","rev":6,"anchor":0,"head":2}`,
		`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d"]}`,
		`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d\ude00"]}`,
		`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[1e3]}`,
		`{"type":"ping"}`, `{"type":"nope"}`, `[]`, `null`, `{"type":`, `{"type":"join","doc":"\\u"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := decodeClient(data)
		if err != nil {
			if msg != nil {
				t.Fatalf("message %v with error %v", msg, err)
			}
			if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrInvalidOp) {
				t.Fatalf("error %v is neither bad_message nor invalid_op", err)
			}
			if code, _ := codeOf(err); code != wire.CodeBadMessage && code != wire.CodeInvalidOp {
				t.Fatalf("code %q", code)
			}
			return
		}
		switch m := msg.(type) {
		case *wire.Hello, *wire.Join, *wire.Leave, *wire.Ping:
		case *wire.Presence:
			if m.Anchor < 0 || m.Head < 0 {
				t.Fatalf("negative caret accepted: %+v", m)
			}
		case *wire.Submit:
			if m.Seq == 0 {
				t.Fatal("seq 0 accepted")
			}
			for i := 0; i < m.Op.Len(); i++ {
				if c := m.Op.Component(i); !utf8.ValidString(c.Text) || c.N <= 0 {
					t.Fatalf("bad component %+v accepted", c)
				}
			}
			enc, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			again, err := decodeClient(enc)
			if err != nil {
				t.Fatalf("re-decode %s: %v", enc, err)
			}
			if !again.(*wire.Submit).Op.Equal(m.Op) {
				t.Fatalf("op changed through %s", enc)
			}
		default:
			t.Fatalf("decoded unknown %T", msg)
		}
	})
}

func TestLoneSurrogate(t *testing.T) {
	for s, want := range map[string]bool{
		`"\ud83d"`: true, `"\ude00"`: true, `"\ud83d\ude00"`: false, `"\\ud83d"`: false,
		`"\ud83dx"`: true, `"a\u00e9"`: false, `"\ud83d\u0041"`: true, `"\`: false,
	} {
		if got := hasLoneSurrogate([]byte(s)); got != want {
			t.Errorf("hasLoneSurrogate(%s) = %v, want %v", s, got, want)
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
		fast, ok := fastSubmit(data)
		if !ok {
			return
		}
		checkSameSubmit(t, data, fast)
	})
}

func checkSameSubmit(t *testing.T, data []byte, fast *wire.Submit) {
	t.Helper()
	msg, err := decodeGeneral(data)
	if err != nil {
		t.Fatalf("%q: fast path gave %+v, general decoder %v", data, fast, err)
	}
	slow, ok := msg.(*wire.Submit)
	if !ok || slow.Type != fast.Type || slow.Doc != fast.Doc || slow.Rev != fast.Rev || slow.Seq != fast.Seq || !slow.Op.Equal(fast.Op) {
		t.Fatalf("%q: fast path gave %+v, general decoder %+v", data, fast, msg)
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
