package wire

import (
	"math"
	"unicode/utf8"
)

// Parser reads the JSON tokens of messages in their usual form, for fast
// paths that decode the hot messages without reflection and leave anything
// unusual (escapes in keys or plain strings, floats, nesting) to
// encoding/json. Every method skips the whitespace before its token and
// reports false for anything else.
type Parser struct {
	Data []byte // the message
	I    int    // the next byte to read
}

// Space skips whitespace.
func (p *Parser) Space() {
	for p.I < len(p.Data) {
		switch p.Data[p.I] {
		case ' ', '\t', '\n', '\r':
			p.I++
		default:
			return
		}
	}
}

// Byte reads the byte c.
func (p *Parser) Byte(c byte) bool {
	p.Space()
	if p.I < len(p.Data) && p.Data[p.I] == c {
		p.I++
		return true
	}
	return false
}

// PlainString reads a string without escapes or control characters, of
// valid UTF-8 (encoding/json would change invalid bytes into U+FFFD).
func (p *Parser) PlainString() ([]byte, bool) {
	if !p.Byte('"') {
		return nil, false
	}
	start := p.I
	for ; p.I < len(p.Data); p.I++ {
		switch c := p.Data[p.I]; {
		case c == '"':
			s := p.Data[start:p.I]
			p.I++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// Uint reads a JSON integer without sign, fraction or exponent that fits
// a uint64.
func (p *Parser) Uint() (uint64, bool) {
	p.Space()
	start := p.I
	var n uint64
	for ; p.I < len(p.Data) && '0' <= p.Data[p.I] && p.Data[p.I] <= '9'; p.I++ {
		d := uint64(p.Data[p.I] - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	digits := p.I - start
	if digits == 0 || digits > 1 && p.Data[start] == '0' {
		return 0, false
	}
	if p.I < len(p.Data) {
		switch p.Data[p.I] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	return n, true
}

// Array finds the end of a flat array of numbers and strings, the shape
// of an op; ot.Parse judges what is inside.
func (p *Parser) Array() (start, end int, ok bool) {
	if !p.Byte('[') {
		return 0, 0, false
	}
	start = p.I - 1
	for ; p.I < len(p.Data); p.I++ {
		switch p.Data[p.I] {
		case ']':
			p.I++
			return start, p.I, true
		case '[', '{', '}':
			return 0, 0, false
		case '"':
			for p.I++; p.I < len(p.Data) && p.Data[p.I] != '"'; p.I++ {
				if p.Data[p.I] == '\\' {
					p.I++
				}
			}
			if p.I >= len(p.Data) {
				return 0, 0, false
			}
		}
	}
	return 0, 0, false
}

// Object reads a whole message: an object whose keys, without escapes,
// it hands to value, which reads that key's value and returns the key's
// bit; then nothing but whitespace. It returns the bits of the keys seen,
// and false for a key value refuses or a key seen twice.
func (p *Parser) Object(value func(key []byte) (bit int, ok bool)) (seen int, ok bool) {
	if !p.Byte('{') {
		return 0, false
	}
	for {
		key, ok := p.PlainString()
		if !ok || !p.Byte(':') {
			return 0, false
		}
		bit, ok := value(key)
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		if p.Byte('}') {
			break
		}
		if !p.Byte(',') {
			return 0, false
		}
	}
	p.Space()
	return seen, p.I == len(p.Data)
}

// StringTo reads a string as PlainString does into dst.
func (p *Parser) StringTo(dst *string) bool {
	s, ok := p.PlainString()
	*dst = string(s)
	return ok
}
