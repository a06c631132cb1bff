package wire

import (
	"math"
	"unicode/utf8"
)

// scanner reads the JSON tokens of messages in their usual form, for the
// fast paths that decode the hot messages without reflection and leave
// anything unusual (escapes in keys or plain strings, floats, nesting) to
// encoding/json. Every method skips the whitespace before its token and
// reports false for anything else.
type scanner struct {
	data []byte // the message
	i    int    // the next byte to read
}

// space skips whitespace.
func (p *scanner) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// char reads the byte c.
func (p *scanner) char(c byte) bool {
	p.space()
	if p.i < len(p.data) && p.data[p.i] == c {
		p.i++
		return true
	}
	return false
}

// plainString reads a string without escapes or control characters, of
// valid UTF-8 (encoding/json would change invalid bytes into U+FFFD).
func (p *scanner) plainString() ([]byte, bool) {
	if !p.char('"') {
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

// integer reads a JSON integer without sign, fraction or exponent that fits
// a uint64.
func (p *scanner) integer() (uint64, bool) {
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
func (p *scanner) array() (start, end int, ok bool) {
	if !p.char('[') {
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

// object reads a whole message: an object whose keys, without escapes,
// it hands to value, which reads that key's value and returns the key's
// bit; then nothing but whitespace. It returns the bits of the keys seen,
// and false for a key value refuses or a key seen twice.
func (p *scanner) object(value func(key []byte) (bit int, ok bool)) (seen int, ok bool) {
	if !p.char('{') {
		return 0, false
	}
	for {
		key, ok := p.plainString()
		if !ok || !p.char(':') {
			return 0, false
		}
		bit, ok := value(key)
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		if p.char('}') {
			break
		}
		if !p.char(',') {
			return 0, false
		}
	}
	p.space()
	return seen, p.i == len(p.data)
}

// stringTo reads a string as plainString does into dst.
func (p *scanner) stringTo(dst *string) bool {
	s, ok := p.plainString()
	*dst = string(s)
	return ok
}
