package collab

import (
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// fastSubmit decodes the usual form of the hot message, a submit whose
// doc id needs no escapes:
//
//	{"type":"submit","doc":"notes","rev":4,"seq":1,"op":[2," there",-3,1]}
//
// with its five keys once each in any order, plain integers, and a valid
// op. It gives what decodeClient's general path (encoding/json, which is
// 10% of collabd's CPU at saturation) gives for such a message; for
// anything else, including every error, ok is false and the general path
// decides (FuzzFastSubmit checks that the two agree).
func fastSubmit(data []byte) (m *wire.Submit, ok bool) {
	p := wire.Parser{Data: data}
	var (
		typ          []byte
		doc          string
		rev, seq     uint64
		opStart, end int
	)
	seen, ok := p.Object(func(key []byte) (int, bool) {
		switch string(key) {
		case "type":
			typ, ok = p.PlainString()
			return 1, ok
		case "doc":
			return 2, p.StringTo(&doc)
		case "rev":
			rev, ok = p.Uint()
			return 4, ok
		case "seq":
			seq, ok = p.Uint()
			return 8, ok
		case "op":
			opStart, end, ok = p.Array()
			return 16, ok
		}
		return 0, false
	})
	if !ok || seen != 31 || string(typ) != wire.TypeSubmit || seq == 0 || seq > wire.MaxSeq || hasLoneSurrogate(data) {
		return nil, false
	}
	var op ot.Op
	if err := op.UnmarshalJSON(data[opStart:end]); err != nil {
		return nil, false
	}
	return &wire.Submit{Type: wire.TypeSubmit, Doc: doc, Rev: rev, Seq: seq, Op: op}, true
}
