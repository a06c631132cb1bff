package wire

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/collabd/collab/ot"
)

// Errors of the decoders. The server answers the first with the code
// bad_message and the second with invalid_op.
var (
	ErrBadMessage = errors.New("collab: malformed message")
	ErrInvalidOp  = errors.New("collab: invalid operation")
	// ErrUnknownType wraps ErrBadMessage's reason for a message whose type
	// this package does not know; a client may ignore such messages from a
	// newer server.
	ErrUnknownType = errors.New("unknown type")
)

// SubmitError is a submit refused while decoding, with the doc and seq it
// named as far as they could be read, so that the error answering it can
// say which submit it answers.
type SubmitError struct {
	Doc string
	Seq uint64
	Err error // wraps ErrBadMessage or ErrInvalidOp
}

func (e *SubmitError) Error() string { return e.Err.Error() }
func (e *SubmitError) Unwrap() error { return e.Err }

// DecodeClient decodes one client → server message into *Hello, *Join,
// *Leave, *Ping, *Auth, *Submit or *Presence. Errors wrap ErrBadMessage, or
// ErrInvalidOp for a submit whose op is invalid; a refused submit's error
// is a *SubmitError. A presence's Client, Name and Color are cleared: the
// server fills them in. It never panics, whatever data holds.
//
// A submit in its usual form is decoded without reflection; everything
// else goes through encoding/json, with lone surrogate escapes refused
// (encoding/json would turn them into U+FFFD, so client and server texts
// would differ).
func DecodeClient(data []byte) (any, error) {
	if m, ok := fastSubmit(data); ok {
		return m, nil
	}
	return decodeClientJSON(data)
}

// decodeClientJSON is DecodeClient through encoding/json, the reference
// the fast path is tested against.
func decodeClientJSON(data []byte) (any, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	switch env.Type {
	case "":
		return nil, fmt.Errorf("%w: %w", ErrBadMessage, ErrNoType)
	case TypeHello:
		return decodeAs[Hello](data)
	case TypeJoin:
		return decodeAs[Join](data)
	case TypeLeave:
		return decodeAs[Leave](data)
	case TypePing:
		return decodeAs[Ping](data)
	case TypeAuth:
		return decodeAs[Auth](data)
	case TypePresence:
		return decodePresence(data)
	case TypeSubmit:
		return decodeSubmit(data, &env)
	default:
		return nil, fmt.Errorf("%w: %w %q", ErrBadMessage, ErrUnknownType, truncate(env.Type, 32))
	}
}

// decodeAs decodes data into a new T; on error the result is a nil any,
// never a nil *T.
func decodeAs[T any](data []byte) (any, error) {
	m := new(T)
	if err := Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return m, nil
}

func decodePresence(data []byte) (any, error) {
	var m Presence
	if err := Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	if m.Anchor < 0 || m.Head < 0 {
		return nil, fmt.Errorf("%w: negative position", ErrBadMessage)
	}
	m.Client, m.Name, m.Color = "", "", ""
	return &m, nil
}

// Unmarshal is json.Unmarshal refusing lone surrogate escapes, which
// encoding/json would turn into U+FFFD unsaid. It is for the HTTP API's
// bodies as much as for messages.
func Unmarshal(data []byte, v any) error {
	if HasLoneSurrogate(data) {
		return errors.New("lone surrogate escape")
	}
	return json.Unmarshal(data, v)
}

// envelope is decoded from every message first. It holds all a submit
// needs, raw so that no other type's fields are judged by a submit's rules:
// the hot message is parsed once, plus its op.
type envelope struct {
	Type string          `json:"type"`
	Doc  json.RawMessage `json:"doc"`
	Rev  json.RawMessage `json:"rev"`
	Seq  json.RawMessage `json:"seq"`
	Op   json.RawMessage `json:"op"`
}

func decodeSubmit(data []byte, env *envelope) (any, error) {
	var (
		doc string
		rev *uint64
		seq uint64
		bad error
	)
	for _, f := range []struct {
		raw json.RawMessage
		v   any
	}{{env.Doc, &doc}, {env.Rev, &rev}, {env.Seq, &seq}} {
		if f.raw == nil {
			continue
		}
		if err := json.Unmarshal(f.raw, f.v); err != nil && bad == nil {
			bad = fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
	}
	switch {
	case bad != nil:
	case rev == nil || seq == 0 || len(env.Op) == 0:
		bad = fmt.Errorf("%w: submit needs rev, seq >= 1 and op", ErrBadMessage)
	case seq > MaxSeq:
		bad = fmt.Errorf("%w: seq %d is past 2^53-1", ErrBadMessage, seq)
	case HasLoneSurrogate(data):
		bad = fmt.Errorf("%w: lone surrogate in text", ErrInvalidOp)
	}
	if bad != nil {
		return nil, &SubmitError{Doc: doc, Seq: seq, Err: bad}
	}
	var op ot.Op
	if err := json.Unmarshal(env.Op, &op); err != nil {
		return nil, &SubmitError{Doc: doc, Seq: seq, Err: fmt.Errorf("%w: %v", ErrInvalidOp, err)}
	}
	return &Submit{Type: TypeSubmit, Doc: doc, Rev: *rev, Seq: seq, Op: op}, nil
}

// fastSubmit decodes the usual form of the hot message, a submit whose
// doc id needs no escapes:
//
//	{"type":"submit","doc":"notes","rev":4,"seq":1,"op":[2," there",-3,1]}
//
// with its five keys once each in any order, plain integers, and a valid
// op. It gives what decodeClientJSON gives for such a message; for
// anything else, including every error, ok is false and decodeClientJSON
// decides (FuzzDecodeClient checks that the two agree).
func fastSubmit(data []byte) (m *Submit, ok bool) {
	p := scanner{data: data}
	var (
		typ          []byte
		doc          string
		rev, seq     uint64
		opStart, end int
	)
	seen, ok := p.object(func(key []byte) (int, bool) {
		switch string(key) {
		case "type":
			typ, ok = p.plainString()
			return 1, ok
		case "doc":
			return 2, p.stringTo(&doc)
		case "rev":
			rev, ok = p.integer()
			return 4, ok
		case "seq":
			seq, ok = p.integer()
			return 8, ok
		case "op":
			opStart, end, ok = p.array()
			return 16, ok
		}
		return 0, false
	})
	if !ok || seen != 31 || string(typ) != TypeSubmit || seq == 0 || seq > MaxSeq || HasLoneSurrogate(data) {
		return nil, false
	}
	var op ot.Op
	if err := op.UnmarshalJSON(data[opStart:end]); err != nil {
		return nil, false
	}
	return &Submit{Type: TypeSubmit, Doc: doc, Rev: rev, Seq: seq, Op: op}, true
}

// HasLoneSurrogate reports whether the JSON text holds a \u escape of a
// UTF-16 surrogate that is not part of a pair.
func HasLoneSurrogate(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '\\' || i+1 >= len(data) {
			continue
		}
		if data[i+1] != 'u' {
			i++ // skip the escaped character (it may be a backslash)
			continue
		}
		r, ok := hex4(data, i+2)
		if !ok {
			i++
			continue
		}
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if lo, ok := hex4(data, i+8); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 11
					continue
				}
			}
			return true
		case r >= 0xDC00 && r < 0xE000:
			return true
		}
		i += 5
	}
	return false
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c-'a') + 10
		case 'A' <= c && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
