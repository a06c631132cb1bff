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
		`{"type":"nope"}`, `[]`, `null`, `{"type":`, `{"type":"join","doc":"\\u"}`,
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
		case *wire.Hello, *wire.Join, *wire.Leave:
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
