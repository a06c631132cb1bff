package storage

import (
	"fmt"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
)

// replay rebuilds text by applying ops in order. Ops are whole-document
// operations, but an editor's ops touch one place each, so a gap buffer
// makes each apply cost its edit plus the distance from the previous edit
// instead of the length of the document.
type replay struct {
	buf      []rune
	gapStart int
	gapEnd   int
}

func newReplay(text string) *replay {
	n := utf8.RuneCountInString(text)
	r := &replay{buf: make([]rune, n+n/4+64)}
	i := 0
	for _, c := range text {
		r.buf[i] = c
		i++
	}
	r.gapStart, r.gapEnd = n, len(r.buf)
	return r
}

// Len is the text's length in code points.
func (r *replay) Len() int { return len(r.buf) - (r.gapEnd - r.gapStart) }

func (r *replay) String() string {
	out := make([]byte, 0, r.Len()+r.Len()/8)
	for _, c := range r.buf[:r.gapStart] {
		out = utf8.AppendRune(out, c)
	}
	for _, c := range r.buf[r.gapEnd:] {
		out = utf8.AppendRune(out, c)
	}
	return string(out)
}

func (r *replay) moveGap(pos int) {
	switch {
	case pos < r.gapStart:
		n := r.gapStart - pos
		copy(r.buf[r.gapEnd-n:r.gapEnd], r.buf[pos:r.gapStart])
		r.gapStart, r.gapEnd = pos, r.gapEnd-n
	case pos > r.gapStart:
		n := pos - r.gapStart
		copy(r.buf[r.gapStart:r.gapStart+n], r.buf[r.gapEnd:r.gapEnd+n])
		r.gapStart, r.gapEnd = pos, r.gapEnd+n
	}
}

func (r *replay) grow(need int) {
	if r.gapEnd-r.gapStart >= need {
		return
	}
	size := 2*len(r.buf) + need
	nb := make([]rune, size)
	copy(nb, r.buf[:r.gapStart])
	tail := len(r.buf) - r.gapEnd
	copy(nb[size-tail:], r.buf[r.gapEnd:])
	r.buf, r.gapEnd = nb, size-tail
}

func (r *replay) insert(pos int, s string, n int) {
	r.grow(n)
	r.moveGap(pos)
	for _, c := range s {
		r.buf[r.gapStart] = c
		r.gapStart++
	}
}

func (r *replay) delete(pos, n int) {
	r.moveGap(pos)
	r.gapEnd += n
}

// apply applies op to the text; on error the text is left unspecified.
func (r *replay) apply(op ot.Op) error {
	if op.BaseLen() != r.Len() {
		return &ot.LengthError{Want: op.BaseLen(), Got: r.Len()}
	}
	pos := 0
	for i := 0; i < op.Len(); i++ {
		c := op.Component(i)
		switch c.Kind {
		case ot.Retain:
			pos += c.N
		case ot.Insert:
			r.insert(pos, c.Text, c.N)
			pos += c.N
		case ot.Delete:
			r.delete(pos, c.N)
		default:
			return fmt.Errorf("%w: component kind %d", ot.ErrSyntax, c.Kind)
		}
	}
	return nil
}
