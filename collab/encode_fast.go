package collab

import (
	"strconv"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// encodeOp is encode(m) without reflection. An op message is encoded once
// per committed op for all other editors, an ack once per op for its
// author: through encoding/json the two were 3-4% of the server's CPU at
// saturation. The bytes can differ from encoding/json's, which also escapes
// <, > and &; they decode to the same message (FuzzEncodeFast).
func encodeOp(m *wire.Op) []byte {
	b := appendHead(make([]byte, 0, 64+len(m.Doc)+len(m.Client)+len(m.Name)+m.Op.JSONSize()), m.Type, m.Doc)
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

// encodeAck is encode(m) without reflection (see encodeOp).
func encodeAck(m *wire.Ack) []byte {
	b := appendHead(make([]byte, 0, 48+len(m.Doc)), m.Type, m.Doc)
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
