package collab

import (
	"math"
	"unicode/utf8"

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
	p := fastParser{data: data}
	var (
		seen         uint8 // bit per key
		typ, doc     []byte
		rev, seq     uint64
		opStart, end int
	)
	if !p.byte('{') {
		return nil, false
	}
	for {
		key, ok := p.plainString()
		if !ok || !p.byte(':') {
			return nil, false
		}
		var bit uint8
		switch string(key) {
		case "type":
			bit = 1
			typ, ok = p.plainString()
		case "doc":
			bit = 2
			doc, ok = p.plainString()
		case "rev":
			bit = 4
			rev, ok = p.uint()
		case "seq":
			bit = 8
			seq, ok = p.uint()
		case "op":
			bit = 16
			opStart, end, ok = p.array()
		default:
			return nil, false
		}
		if !ok || seen&bit != 0 {
			return nil, false
		}
		seen |= bit
		if p.byte('}') {
			break
		}
		if !p.byte(',') {
			return nil, false
		}
	}
	p.space()
	if p.i != len(data) || seen != 31 || string(typ) != wire.TypeSubmit || seq == 0 || hasLoneSurrogate(data) {
		return nil, false
	}
	var op ot.Op
	if err := op.UnmarshalJSON(data[opStart:end]); err != nil {
		return nil, false
	}
	return &wire.Submit{Type: wire.TypeSubmit, Doc: string(doc), Rev: rev, Seq: seq, Op: op}, true
}

// fastParser reads the tokens fastSubmit accepts; every method skips the
// whitespace before its token and reports false for anything else.
type fastParser struct {
	data []byte
	i    int
}

func (p *fastParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *fastParser) byte(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainString reads a string without escapes or control characters, of
// valid UTF-8 (encoding/json would change invalid bytes into U+FFFD).
func (p *fastParser) plainString() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.data); p.i++ {
		switch c := p.data[p.i]; {
		case c == '"':
			s := p.data[start:p.i]
			p.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// uint reads a JSON integer without sign, fraction or exponent that fits
// a uint64.
func (p *fastParser) uint() (uint64, bool) {
	p.space()
	start := p.i
	var n uint64
	for ; p.i < len(p.data) && '0' <= p.data[p.i] && p.data[p.i] <= '9'; p.i++ {
		d := uint64(p.data[p.i] - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	digits := p.i - start
	if digits == 0 || digits > 1 && p.data[start] == '0' {
		return 0, false
	}
	if p.i < len(p.data) {
		switch p.data[p.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return n, true
}

// array finds the end of a flat array of numbers and strings, the shape
// of an op; ot.Parse judges what is inside.
func (p *fastParser) array() (start, end int, ok bool) {
	if !p.byte('[') {
		return 0, 0, false
	}
	start = p.i - 1
	for ; p.i < len(p.data); p.i++ {
		switch p.data[p.i] {
		case ']':
			p.i++
			return start, p.i, true
		case '[', '{', '}':
			return 0, 0, false
		case '"':
			for p.i++; p.i < len(p.data) && p.data[p.i] != '"'; p.i++ {
				if p.data[p.i] == '\\' {
					p.i++
				}
			}
			if p.i >= len(p.data) {
				return 0, 0, false
			}
		}
	}
	return 0, 0, false
}
