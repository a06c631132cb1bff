package ot

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// maxSafe is the largest integer JavaScript represents exactly (2^53-1).
// Counts and lengths past it are refused so that every client agrees on them.
const maxSafe = 1<<53 - 1

// Limits bounds the size of a decoded op. A zero field takes its value from
// DefaultLimits; a negative field means no limit.
type Limits struct {
	// MaxComponents bounds the number of items in the JSON array, counted
	// before adjacent items are merged.
	MaxComponents int
	// MaxInsertBytes bounds the total UTF-8 size of the inserted text.
	MaxInsertBytes int
}

// DefaultLimits are the limits of UnmarshalJSON and the defaults for zero
// fields of a Limits. A program may change them only before it decodes ops.
var DefaultLimits = Limits{MaxComponents: 100_000, MaxInsertBytes: 1 << 20}

func (l Limits) resolve() Limits {
	if l.MaxComponents == 0 {
		l.MaxComponents = DefaultLimits.MaxComponents
	}
	if l.MaxComponents < 0 {
		l.MaxComponents = math.MaxInt
	}
	if l.MaxInsertBytes == 0 {
		l.MaxInsertBytes = DefaultLimits.MaxInsertBytes
	}
	if l.MaxInsertBytes < 0 {
		l.MaxInsertBytes = math.MaxInt
	}
	return l
}

// Parse decodes an op from its JSON wire form, validating it against lim and
// normalising it to canonical form. The package documentation lists what is
// rejected; every error wraps one of the Err sentinels.
func Parse(data []byte, lim Limits) (Op, error) {
	lim = lim.resolve()
	d := decoder{data: data}
	d.skipSpace()
	if !d.consume('[') {
		return Op{}, d.syntaxErr("expected '['")
	}
	// Commas inside strings make this an overestimate, which is harmless.
	hint := min(bytes.Count(data, []byte{','})+1, lim.MaxComponents, 1024)
	b := newBuilder(hint)
	items, insBytes, base := 0, 0, 0
	d.skipSpace()
	if d.consume(']') {
		return d.finish(b)
	}
	for {
		d.skipSpace()
		if items++; items > lim.MaxComponents {
			return Op{}, fmt.Errorf("%w: more than %d components", ErrTooLarge, lim.MaxComponents)
		}
		switch c := d.peek(); {
		case c == '"':
			s, err := d.str()
			if err != nil {
				return Op{}, err
			}
			if s == "" {
				return Op{}, fmt.Errorf("%w: empty insert at item %d", ErrZeroCount, items)
			}
			if insBytes += len(s); insBytes > lim.MaxInsertBytes {
				return Op{}, fmt.Errorf("%w: more than %d bytes of inserted text", ErrTooLarge, lim.MaxInsertBytes)
			}
			b.Insert(s)
		case c == '-' || ('0' <= c && c <= '9'):
			n, err := d.number()
			if err != nil {
				return Op{}, err
			}
			if base += abs(n); base > maxSafe {
				return Op{}, fmt.Errorf("%w: base length past 2^53-1", ErrTooLarge)
			}
			if n > 0 {
				b.Retain(n)
			} else {
				b.Delete(-n)
			}
		default:
			return Op{}, d.syntaxErr("expected a number or a string")
		}
		d.skipSpace()
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return d.finish(b)
		}
		return Op{}, d.syntaxErr("expected ',' or ']'")
	}
}

// UnmarshalJSON decodes o from the JSON wire form with DefaultLimits. It is
// what validates ops embedded in protocol messages. JSON null is rejected.
func (o *Op) UnmarshalJSON(data []byte) error {
	op, err := Parse(data, DefaultLimits)
	if err != nil {
		return err
	}
	*o = op
	return nil
}

// MarshalJSON encodes o in the JSON wire form, in canonical form.
func (o Op) MarshalJSON() ([]byte, error) {
	return o.AppendJSON(make([]byte, 0, o.JSONSize())), nil
}

// AppendJSON appends o's JSON wire form to dst and returns the extended
// slice. Invalid UTF-8 in inserted text, which only a careless Builder user
// can produce, is encoded as U+FFFD.
func (o Op) AppendJSON(dst []byte) []byte {
	dst = append(dst, '[')
	for i, c := range o.comps {
		if i > 0 {
			dst = append(dst, ',')
		}
		switch c.Kind {
		case Retain:
			dst = strconv.AppendInt(dst, int64(c.N), 10)
		case Delete:
			dst = strconv.AppendInt(dst, -int64(c.N), 10)
		case Insert:
			dst = AppendJSONString(dst, c.Text)
		}
	}
	return append(dst, ']')
}

// String returns o's JSON wire form, for debugging and logs.
func (o Op) String() string { return string(o.AppendJSON(make([]byte, 0, o.JSONSize()))) }

// JSONSize is a capacity for AppendJSON's buffer: at least the length of
// o's JSON unless inserted text needs escapes.
func (o Op) JSONSize() int {
	n := 2
	for _, c := range o.comps {
		n += 21 + len(c.Text) // a separator and an int64, or quotes and text
	}
	return n
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string, as AppendJSON writes
// inserted text: U+2028 and U+2029 are escaped so that the output is also a
// valid JavaScript literal, and invalid UTF-8 becomes U+FFFD. It is for
// encoders of messages that carry ops next to other strings.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && w == 1) || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			switch r {
			case utf8.RuneError:
				dst = append(dst, `\ufffd`...)
			case '\u2028':
				dst = append(dst, `\u2028`...)
			default:
				dst = append(dst, `\u2029`...)
			}
			start = i + w
		}
		i += w
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// decoder reads the wire form from a byte slice; it never panics on any
// input and allocates only the inserted strings.
type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) finish(b Builder) (Op, error) {
	d.skipSpace()
	if d.pos != len(d.data) {
		return Op{}, d.syntaxErr("data after the array")
	}
	return b.Op(), nil
}

func (d *decoder) syntaxErr(msg string) error {
	if d.pos >= len(d.data) {
		return fmt.Errorf("%w: %s, found end of input", ErrSyntax, msg)
	}
	return fmt.Errorf("%w: %s at byte %d", ErrSyntax, msg, d.pos)
}

func (d *decoder) peek() byte {
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *decoder) consume(c byte) bool {
	if d.pos < len(d.data) && d.data[d.pos] == c {
		d.pos++
		return true
	}
	return false
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// number reads a JSON number and returns it if it is a non-zero integer
// written without fraction or exponent, of magnitude at most 2^53-1.
func (d *decoder) number() (int, error) {
	start := d.pos
	neg := d.consume('-')
	if !isDigit(d.peek()) {
		return 0, d.syntaxErr("expected a digit")
	}
	var v uint64
	big := false
	if d.consume('0') {
		if isDigit(d.peek()) {
			return 0, d.syntaxErr("leading zero")
		}
	}
	for isDigit(d.peek()) {
		if !big {
			v = v*10 + uint64(d.data[d.pos]-'0')
			big = v > maxSafe
		}
		d.pos++
	}
	exact := true
	if d.consume('.') {
		if !isDigit(d.peek()) {
			return 0, d.syntaxErr("expected a digit after '.'")
		}
		for isDigit(d.peek()) {
			d.pos++
		}
		exact = false
	}
	if d.consume('e') || d.consume('E') {
		if !d.consume('+') {
			d.consume('-')
		}
		if !isDigit(d.peek()) {
			return 0, d.syntaxErr("expected a digit in the exponent")
		}
		for isDigit(d.peek()) {
			d.pos++
		}
		exact = false
	}
	switch d.peek() {
	case ',', ']', ' ', '\t', '\n', '\r':
	default:
		return 0, d.syntaxErr("expected ',' or ']' after a number")
	}
	lit := d.data[start:d.pos]
	switch {
	case !exact:
		return 0, fmt.Errorf("%w: %.40s is not written as an integer", ErrBadNumber, lit)
	case big || v > math.MaxInt:
		return 0, fmt.Errorf("%w: %.40s is past 2^53-1", ErrBadNumber, lit)
	case v == 0 && neg:
		return 0, fmt.Errorf("%w: -0", ErrBadNumber)
	case v == 0:
		return 0, fmt.Errorf("%w: 0 at byte %d", ErrZeroCount, start)
	case neg:
		return -int(v), nil
	}
	return int(v), nil
}

// str reads a JSON string. Unlike encoding/json, it refuses invalid UTF-8
// and lone surrogate escapes instead of turning them into U+FFFD.
func (d *decoder) str() (string, error) {
	d.pos++ // the opening quote
	start := d.pos
	for i := start; i < len(d.data); i++ {
		switch c := d.data[i]; {
		case c == '"':
			raw := d.data[start:i]
			if !utf8.Valid(raw) {
				d.pos = start
				return d.strSlow(nil)
			}
			d.pos = i + 1
			return string(raw), nil
		case c == '\\' || c < 0x20:
			if !utf8.Valid(d.data[start:i]) {
				d.pos = start // the slow path says where
				return d.strSlow(nil)
			}
			d.pos = i
			return d.strSlow(append(make([]byte, 0, i-start+16), d.data[start:i]...))
		}
	}
	d.pos = len(d.data)
	return "", d.syntaxErr("unterminated string")
}

// strSlow continues reading a string at d.pos, after buf was read.
func (d *decoder) strSlow(buf []byte) (string, error) {
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.syntaxErr("control character in string")
		case c < utf8.RuneSelf && c != '\\':
			buf = append(buf, c)
			d.pos++
		case c == '\\':
			var err error
			if buf, err = d.escape(buf); err != nil {
				return "", err
			}
		default:
			r, w := utf8.DecodeRune(d.data[d.pos:])
			if r == utf8.RuneError && w == 1 {
				return "", fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidText, d.pos)
			}
			buf = append(buf, d.data[d.pos:d.pos+w]...)
			d.pos += w
		}
	}
	return "", d.syntaxErr("unterminated string")
}

// escape decodes the escape sequence at d.pos and appends it to buf.
func (d *decoder) escape(buf []byte) ([]byte, error) {
	d.pos++ // the backslash
	c := d.peek()
	d.pos++
	switch c {
	case '"', '\\', '/':
		return append(buf, c), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
	default:
		d.pos--
		return nil, d.syntaxErr("invalid escape")
	}
	at := d.pos - 2
	r, ok := d.hex4()
	if !ok {
		return nil, d.syntaxErr("invalid \\u escape")
	}
	switch {
	case 0xDC00 <= r && r <= 0xDFFF:
		return nil, fmt.Errorf("%w: lone low surrogate at byte %d", ErrInvalidText, at)
	case 0xD800 <= r && r <= 0xDBFF:
		if !(d.consume('\\') && d.consume('u')) {
			return nil, fmt.Errorf("%w: lone high surrogate at byte %d", ErrInvalidText, at)
		}
		lo, ok := d.hex4()
		if !ok {
			return nil, d.syntaxErr("invalid \\u escape")
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return nil, fmt.Errorf("%w: lone high surrogate at byte %d", ErrInvalidText, at)
		}
		r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
	}
	return utf8.AppendRune(buf, r), nil
}

func (d *decoder) hex4() (rune, bool) {
	if len(d.data)-d.pos < 4 {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
