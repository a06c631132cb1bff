package collab

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// decodeClient decodes one client → server message into *wire.Hello,
// *wire.Join, *wire.Leave, *wire.Submit or *wire.Presence. Errors wrap
// ErrBadMessage, or ErrInvalidOp for a submit whose op is invalid. It never
// panics, whatever data holds (FuzzDecode).
func decodeClient(data []byte) (any, error) {
	if m, ok := fastSubmit(data); ok {
		return m, nil
	}
	return decodeGeneral(data)
}

// decodeGeneral is decodeClient for any message.
func decodeGeneral(data []byte) (any, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	typ := env.Type
	if typ == "" {
		return nil, fmt.Errorf("%w: %v", ErrBadMessage, wire.ErrNoType)
	}
	switch typ {
	case wire.TypeHello:
		return decodeAs[wire.Hello](data)
	case wire.TypeJoin:
		return decodeAs[wire.Join](data)
	case wire.TypeLeave:
		return decodeAs[wire.Leave](data)
	case wire.TypePing:
		return decodeAs[wire.Ping](data)
	case wire.TypePresence:
		var m wire.Presence
		if err := strictDecode(data, &m); err != nil {
			return nil, err
		}
		if m.Anchor < 0 || m.Head < 0 {
			return nil, fmt.Errorf("%w: negative position", ErrBadMessage)
		}
		m.Client, m.Name, m.Color = "", "", ""
		return &m, nil
	case wire.TypeSubmit:
		m, err := decodeSubmit(data, &env)
		if err != nil {
			return nil, err
		}
		return m, nil
	default:
		return nil, fmt.Errorf("%w: unknown type %q", ErrBadMessage, truncate(typ, 32))
	}
}

// decodeAs decodes data into a new T; on error the result is a nil any,
// never a nil *T.
func decodeAs[T any](data []byte) (any, error) {
	m := new(T)
	if err := strictDecode(data, m); err != nil {
		return nil, err
	}
	return m, nil
}

func strictDecode(data []byte, v any) error {
	if hasLoneSurrogate(data) {
		return fmt.Errorf("%w: lone surrogate escape", ErrBadMessage)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return nil
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

// submitError is a submit refused while decoding, with the doc and seq it
// named as far as they could be read, so that its error says which
// submit it answers.
type submitError struct {
	doc string
	seq uint64
	err error
}

func (e *submitError) Error() string { return e.err.Error() }
func (e *submitError) Unwrap() error { return e.err }

// submitOf returns the doc and seq of the submit err refused, if any.
func submitOf(err error) (doc string, seq uint64) {
	var se *submitError
	if errors.As(err, &se) {
		return se.doc, se.seq
	}
	return "", 0
}

func decodeSubmit(data []byte, env *envelope) (*wire.Submit, error) {
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
	case seq > wire.MaxSeq:
		bad = fmt.Errorf("%w: seq %d is past 2^53-1", ErrBadMessage, seq)
	case hasLoneSurrogate(data):
		bad = fmt.Errorf("%w: lone surrogate in text", ErrInvalidOp)
	}
	if bad != nil {
		return nil, &submitError{doc: doc, seq: seq, err: bad}
	}
	var op ot.Op
	if err := json.Unmarshal(env.Op, &op); err != nil {
		return nil, &submitError{doc: doc, seq: seq, err: fmt.Errorf("%w: %v", ErrInvalidOp, err)}
	}
	return &wire.Submit{Type: wire.TypeSubmit, Doc: doc, Rev: *rev, Seq: seq, Op: op}, nil
}

// hasLoneSurrogate reports whether the JSON text holds a \u escape of a
// UTF-16 surrogate that is not part of a pair. encoding/json would turn it
// into U+FFFD silently, so client and server texts would differ.
func hasLoneSurrogate(data []byte) bool {
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
