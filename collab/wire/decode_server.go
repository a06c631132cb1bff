package wire

import (
	"encoding/json"
	"fmt"

	"github.com/collabd/collab/ot"
)

// DecodeServer decodes one server → client message into *Welcome,
// *Joined, *Ack, *Op, *Presence, *Editor, *Error or *Pong. Errors wrap
// ErrBadMessage; a message of a type this package does not know also
// wraps ErrUnknownType. An op and an ack in the form the server writes
// them are decoded without reflection (an editor receives one for every
// op anyone commits); everything else goes through encoding/json.
func DecodeServer(data []byte) (any, error) {
	m, ok := fastServer(data)
	if !ok {
		m = new(serverMsg)
		if err := json.Unmarshal(data, m); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
	}
	if m.Type == "" {
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, ErrNoType)
	}
	if msg := m.typed(); msg != nil {
		return msg, nil
	}
	return nil, fmt.Errorf("%w: %w %q", ErrBadMessage, ErrUnknownType, truncate(m.Type, 32))
}

// serverMsg is any message from the server, decoded in one pass: the
// message types share their field names, each with one meaning and type.
type serverMsg struct {
	Type     string   `json:"type"`
	Version  int      `json:"version"`
	Doc      string   `json:"doc"`
	Rev      uint64   `json:"rev"`
	Seq      uint64   `json:"seq"`
	Op       ot.Op    `json:"op"`
	Client   string   `json:"client"`
	Name     string   `json:"name"`
	Color    string   `json:"color"`
	Text     *string  `json:"text"`
	Ops      []Record `json:"ops"`
	Reset    bool     `json:"reset"`
	ReadOnly bool     `json:"readonly"`
	Anchor   int      `json:"anchor"`
	Head     int      `json:"head"`
	Event    string   `json:"event"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	By       string   `json:"by"`
	Limits   *Limits  `json:"limits"`
	Exp      int64    `json:"exp"`
	Perm     string   `json:"perm"`
	Docs     []string `json:"docs"`
}

// typed returns m as the message type of its Type, or nil for a type
// this package does not know.
func (m *serverMsg) typed() any {
	switch m.Type {
	case TypeWelcome:
		return &Welcome{Type: m.Type, Version: m.Version, Client: m.Client, Limits: m.Limits}
	case TypeJoined:
		return &Joined{Type: m.Type, Doc: m.Doc, Rev: m.Rev, Seq: m.Seq, Text: m.Text, Ops: m.Ops, Reset: m.Reset, ReadOnly: m.ReadOnly}
	case TypeAck:
		return &Ack{Type: m.Type, Doc: m.Doc, Seq: m.Seq, Rev: m.Rev}
	case TypeOp:
		return &Op{Type: m.Type, Doc: m.Doc, Rev: m.Rev, Op: m.Op, Client: m.Client, Seq: m.Seq, Name: m.Name}
	case TypePresence:
		return &Presence{Type: m.Type, Doc: m.Doc, Client: m.Client, Name: m.Name, Color: m.Color, Rev: m.Rev, Anchor: m.Anchor, Head: m.Head}
	case TypeEditor:
		return &Editor{Type: m.Type, Doc: m.Doc, Client: m.Client, Name: m.Name, Color: m.Color, Event: m.Event}
	case TypeError:
		return &Error{Type: m.Type, Code: m.Code, Message: m.Message, Doc: m.Doc, Seq: m.Seq, By: m.By}
	case TypePong:
		return &Pong{Type: m.Type}
	case TypeAuthed:
		return &Authed{Type: m.Type, Exp: m.Exp, Perm: m.Perm, Docs: m.Docs}
	}
	return nil
}

// Keys of the messages fastServer reads, a bit each.
const (
	keyType = 1 << iota
	keyDoc
	keyRev
	keySeq
	keyOp
	keyClient
	keyName
)

// fastServer decodes an op or an ack as the server writes them,
//
//	{"type":"op","doc":"notes","rev":6,"op":[10,"!"],"client":"c9ed…","seq":8,"name":"Bo"}
//	{"type":"ack","doc":"notes","seq":1,"rev":5}
//
// with each key once, in any order, strings without escapes and plain
// integers. For anything else, including every error, ok is false and
// DecodeServer uses encoding/json (FuzzDecodeServer checks that the two
// agree).
func fastServer(data []byte) (m *serverMsg, ok bool) {
	p := scanner{data: data}
	m = new(serverMsg)
	var opStart, opEnd int
	seen, ok := p.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "type":
			return keyType, p.stringTo(&m.Type)
		case "doc":
			return keyDoc, p.stringTo(&m.Doc)
		case "rev":
			m.Rev, ok = p.integer()
			return keyRev, ok
		case "seq":
			m.Seq, ok = p.integer()
			return keySeq, ok
		case "op":
			opStart, opEnd, ok = p.array()
			return keyOp, ok
		case "client":
			return keyClient, p.stringTo(&m.Client)
		case "name":
			return keyName, p.stringTo(&m.Name)
		}
		return 0, false
	})
	switch {
	case !ok:
		return nil, false
	case m.Type == TypeAck && seen == keyType|keyDoc|keySeq|keyRev:
		return m, true
	case m.Type == TypeOp && seen&(keyType|keyDoc|keyRev|keyOp) == keyType|keyDoc|keyRev|keyOp:
		return m, m.Op.UnmarshalJSON(data[opStart:opEnd]) == nil
	}
	return nil, false
}
