package collab

import (
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// FuzzDecode: every message the wire codec refuses is answered with
// bad_message or invalid_op (the codec's own tests check what it decodes).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[3,"\ud83d"]}`,
		`{"type":"submit","doc":"n","rev":1,"seq":1,"op":[0]}`,
		`{"type":"presence","doc":"notes","rev":6,"anchor":-1,"head":2}`,
		`{"type":"nope"}`, `[]`, `null`, `{"type":`, `{"type":"join","doc":"\\u"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := wire.DecodeClient(data)
		if err == nil {
			return
		}
		if code, _ := codeOf(err); code != wire.CodeBadMessage && code != wire.CodeInvalidOp {
			t.Fatalf("%q: %v has code %q", data, err, code)
		}
	})
}
