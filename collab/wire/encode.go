package wire

import (
	"encoding/json"
	"strconv"

	"github.com/collabd/collab/ot"
)

// Encode is the JSON of a message or an HTTP API body. The hot messages,
// *Op (once per committed op for all other editors) and *Ack (once per
// op for its author), are written without reflection; their bytes can
// differ from encoding/json's, which also escapes <, > and &, but decode
// to the same message (FuzzEncode). Anything else goes through
// encoding/json.
func Encode(m any) ([]byte, error) {
	switch m := m.(type) {
	case *Op:
		return appendOp(make([]byte, 0, 64+len(m.Doc)+len(m.Client)+len(m.Name)+m.Op.JSONSize()), m), nil
	case *Ack:
		return appendAck(make([]byte, 0, 48+len(m.Doc)), m), nil
	}
	return json.Marshal(m)
}

func appendOp(b []byte, m *Op) []byte {
	b = appendHead(b, m.Type, m.Doc)
	b = append(b, `,"rev":`...)
	b = strconv.AppendUint(b, m.Rev, 10)
	b = append(b, `,"op":`...)
	b = m.Op.AppendJSON(b)
	if m.Client != "" {
		b = append(b, `,"client":`...)
		b = ot.AppendJSONString(b, m.Client)
	}
	if m.Seq != 0 {
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, m.Seq, 10)
	}
	if m.Name != "" {
		b = append(b, `,"name":`...)
		b = ot.AppendJSONString(b, m.Name)
	}
	return append(b, '}')
}

func appendAck(b []byte, m *Ack) []byte {
	b = appendHead(b, m.Type, m.Doc)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, m.Seq, 10)
	b = append(b, `,"rev":`...)
	b = strconv.AppendUint(b, m.Rev, 10)
	return append(b, '}')
}

// appendHead opens a message: its type and document.
func appendHead(b []byte, typ, doc string) []byte {
	b = append(b, `{"type":`...)
	b = ot.AppendJSONString(b, typ)
	b = append(b, `,"doc":`...)
	return ot.AppendJSONString(b, doc)
}
