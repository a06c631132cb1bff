package ot

import (
	"strings"
	"unicode/utf8"
)

// Apply returns the result of applying o to doc. It fails with a
// *LengthError when doc is not BaseLen code points long; when doc is shorter
// the error also matches ErrPastEnd. Invalid UTF-8 in doc counts one code
// point per invalid byte, as utf8.RuneCountInString counts it.
func (o Op) Apply(doc string) (string, error) {
	if len(o.comps) == 0 && doc == "" {
		return "", nil
	}
	var b strings.Builder
	b.Grow(len(doc) + o.insertBytes())
	i, pos := 0, 0 // byte offset in doc, code points consumed
	for _, c := range o.comps {
		switch c.Kind {
		case Retain:
			j, n := advance(doc, i, c.N)
			if n < c.N {
				return "", &LengthError{Want: o.baseLen, Got: pos + n}
			}
			b.WriteString(doc[i:j])
			i, pos = j, pos+n
		case Delete:
			j, n := advance(doc, i, c.N)
			if n < c.N {
				return "", &LengthError{Want: o.baseLen, Got: pos + n}
			}
			i, pos = j, pos+n
		case Insert:
			b.WriteString(c.Text)
		}
	}
	if i < len(doc) {
		return "", &LengthError{Want: o.baseLen, Got: pos + utf8.RuneCountInString(doc[i:])}
	}
	return b.String(), nil
}

// Invert returns the op that undoes o, given the document o was applied to:
// o.Invert(doc).Apply(o.Apply(doc)) == doc. It fails like Apply when doc does
// not fit o.
func (o Op) Invert(doc string) (Op, error) {
	b := newBuilder(len(o.comps))
	i, pos := 0, 0
	for _, c := range o.comps {
		switch c.Kind {
		case Retain:
			j, n := advance(doc, i, c.N)
			if n < c.N {
				return Op{}, &LengthError{Want: o.baseLen, Got: pos + n}
			}
			b.Retain(n)
			i, pos = j, pos+n
		case Delete:
			j, n := advance(doc, i, c.N)
			if n < c.N {
				return Op{}, &LengthError{Want: o.baseLen, Got: pos + n}
			}
			b.Insert(doc[i:j])
			i, pos = j, pos+n
		case Insert:
			b.Delete(c.N)
		}
	}
	if i < len(doc) {
		return Op{}, &LengthError{Want: o.baseLen, Got: pos + utf8.RuneCountInString(doc[i:])}
	}
	return b.Op(), nil
}

func (o Op) insertBytes() int {
	n := 0
	for _, c := range o.comps {
		n += len(c.Text)
	}
	return n
}

// advance moves up to n code points forward from byte offset i of s and
// returns the new offset and how many code points it passed. Each invalid
// byte counts as one code point, as in utf8.RuneCountInString.
func advance(s string, i, n int) (int, int) {
	k := 0
	for k < n && i < len(s) {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
		k++
	}
	return i, k
}
