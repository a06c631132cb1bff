package ot

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Buffer is a text document that applies ops in time proportional to the
// size of the edit, not of the document: the text lives in a B+tree of
// UTF-8 chunks that caches code point counts, so locating a position costs
// O(log n) and a small edit rewrites one chunk.
//
// A Buffer is not safe for concurrent use. It is meant to be owned by the
// one goroutine that serializes a document's ops; others get copies of its
// text through String, Slice or WriteTo, called by that owner.
type Buffer struct {
	root  *bufInner
	runes int // code points in the document
	bytes int // UTF-8 bytes in the document

	path    []bufFrame // scratch: route from the root to the current leaf
	scratch []byte     // scratch: text of a leaf being split
	kids    []bufKid   // scratch: the leaves a split leaf becomes
	touched byte       // sink for bufTouch
}

// NewBuffer returns a Buffer holding s. Text is counted in code points as
// utf8.RuneCountInString counts it: should s hold invalid UTF-8, each byte
// of an invalid sequence is stored as U+FFFD, so Len is unchanged.
func NewBuffer(s string) *Buffer {
	if !utf8.ValidString(s) {
		s = bufReplaceInvalid(s)
	}
	b := &Buffer{}
	b.build(s)
	b.runes = utf8.RuneCountInString(s)
	b.bytes = len(s)
	return b
}

// Len is the length of the document in code points.
func (b *Buffer) Len() int { return b.runes }

// String returns the whole text of the document.
func (b *Buffer) String() string {
	var sb strings.Builder
	sb.Grow(b.bytes)
	eachLeaf(b.root, func(p []byte) { sb.Write(p) })
	return sb.String()
}

// WriteTo writes the text of the document to w, one chunk at a time.
func (b *Buffer) WriteTo(w io.Writer) (int64, error) {
	var total int64
	var err error
	eachLeaf(b.root, func(p []byte) {
		if err != nil {
			return
		}
		var n int
		n, err = w.Write(p)
		total += int64(n)
		if err == nil && n < len(p) {
			err = io.ErrShortWrite
		}
	})
	return total, err
}

// Slice returns the text between code point positions from and to, in
// O(log n + to-from). It panics unless 0 <= from <= to <= b.Len(), as
// slicing a string out of range does; callers pass positions of ops that
// Apply has already checked against the document.
func (b *Buffer) Slice(from, to int) string {
	if from < 0 || to < from || to > b.runes {
		panic(fmt.Sprintf("ot: Buffer.Slice(%d, %d) out of range [0, %d]", from, to, b.runes))
	}
	if from == to {
		return ""
	}
	var sb strings.Builder
	sb.Grow(to - from)
	leaf, k := b.descend(from, false)
	lr, lb := b.leafCounts()
	text := leaf[:lb]
	want := to - from
	for want > 0 {
		start := bufRuneOffset(text, lr, k)
		take := min(want, lr-k)
		end := start + bufRuneOffset(text[start:], lr-k, take)
		sb.Write(text[start:end])
		want -= take
		if want > 0 {
			text, lr = b.nextLeaf()
			k = 0
		}
	}
	return sb.String()
}

// Apply applies op to the document. op must have been built for a document
// of b.Len() code points; otherwise Apply returns a *LengthError (matching
// ErrBaseLength). Apply checks the whole op before changing anything, so on
// error the document is unchanged. The op's components are walked once, in
// order: the cost is O(components × log n + bytes inserted or deleted).
func (b *Buffer) Apply(op Op) error {
	if op.BaseLen() != b.runes {
		return &LengthError{Want: op.BaseLen(), Got: b.runes}
	}
	if err := bufCheckComps(op.comps, b.runes); err != nil {
		return err
	}
	pos := 0
	for _, c := range op.comps {
		switch c.Kind {
		case Retain:
			pos += c.N
		case Insert:
			b.insert(pos, c.Text, c.N)
			pos += c.N
		case Delete:
			b.delete(pos, c.N)
		}
	}
	return nil
}

// bufCheckComps guards the tree against ops that did not come from a
// Builder or the decoder: every component must be well formed and the op
// must cover exactly the n code points of the document.
func bufCheckComps(comps []Component, n int) error {
	covered := 0
	for i, c := range comps {
		if c.N <= 0 {
			return fmt.Errorf("component %d: %w", i, ErrZeroCount)
		}
		switch c.Kind {
		case Retain, Delete:
			covered += c.N
		case Insert:
			if !utf8.ValidString(c.Text) || utf8.RuneCountInString(c.Text) != c.N {
				return fmt.Errorf("component %d: %w", i, ErrInvalidText)
			}
		default:
			return fmt.Errorf("component %d: kind %d: %w", i, c.Kind, ErrSyntax)
		}
		if covered > n {
			return fmt.Errorf("component %d: %w", i, ErrPastEnd)
		}
	}
	if covered != n {
		return &LengthError{Want: covered, Got: n}
	}
	return nil
}

// bufReplaceInvalid replaces every byte of every invalid UTF-8 sequence in s by
// U+FFFD, keeping the code point count that utf8.RuneCountInString reports.
func bufReplaceInvalid(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}
