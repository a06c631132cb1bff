package client

import (
	"encoding/json"

	"github.com/collabd/collab/collab/wire"
)

// decodeServerMsg decodes any message from the server: the hot ones, op
// and ack, in their usual form without reflection (fastServerMsg), the
// rest through encoding/json.
func decodeServerMsg(data []byte) (*serverMsg, error) {
	if m, ok := fastServerMsg(data); ok {
		return m, nil
	}
	m := new(serverMsg)
	return m, json.Unmarshal(data, m)
}

// Keys of the messages fastServerMsg reads, a bit each.
const (
	keyType = 1 << iota
	keyDoc
	keyRev
	keySeq
	keyOp
	keyClient
	keyName
)

// fastServerMsg decodes an op or an ack as the server writes them,
//
//	{"type":"op","doc":"notes","rev":6,"op":[10,"!"],"client":"c9ed…","seq":8,"name":"Bo"}
//	{"type":"ack","doc":"notes","seq":1,"rev":5}
//
// with each key once, in any order, strings without escapes and plain
// integers. An editor receives one of these for every op anyone commits:
// through encoding/json they were the largest part of the Go client's CPU.
// For anything else, including every error, ok is false and
// decodeServerMsg uses encoding/json (FuzzFastServerMsg checks that the
// two agree).
func fastServerMsg(data []byte) (m *serverMsg, ok bool) {
	p := wire.Parser{Data: data}
	m = new(serverMsg)
	var opStart, opEnd int
	seen, ok := p.Object(func(key []byte) (int, bool) {
		switch string(key) {
		case "type":
			return keyType, p.StringTo(&m.Type)
		case "doc":
			return keyDoc, p.StringTo(&m.Doc)
		case "rev":
			m.Rev, ok = p.Uint()
			return keyRev, ok
		case "seq":
			m.Seq, ok = p.Uint()
			return keySeq, ok
		case "op":
			opStart, opEnd, ok = p.Array()
			return keyOp, ok
		case "client":
			return keyClient, p.StringTo(&m.Client)
		case "name":
			return keyName, p.StringTo(&m.Name)
		}
		return 0, false
	})
	switch {
	case !ok:
		return nil, false
	case m.Type == wire.TypeAck && seen == keyType|keyDoc|keySeq|keyRev:
		return m, true
	case m.Type == wire.TypeOp && seen&(keyType|keyDoc|keyRev|keyOp) == keyType|keyDoc|keyRev|keyOp:
		return m, m.Op.UnmarshalJSON(data[opStart:opEnd]) == nil
	}
	return nil, false
}
