package ot

import (
	"unicode/utf8"
	"unsafe"
)

// Kind says what a Component does.
type Kind uint8

// The three kinds of component.
const (
	Retain Kind = iota + 1 // keep N code points of the base document
	Insert                 // insert Text (N code points long)
	Delete                 // remove N code points of the base document
)

// Component is one step of an Op. N is always positive and counts code
// points; for an Insert it equals utf8.RuneCountInString(Text).
type Component struct {
	Kind Kind
	N    int
	Text string
}

// Op is an operation over a whole base document. The zero Op is the no-op on
// the empty document. Ops are values: nothing mutates an Op once built, so
// they may be shared between goroutines.
type Op struct {
	comps     []Component // canonical, never mutated after construction
	baseLen   int
	targetLen int
}

// BaseLen is the length, in code points, of the documents o applies to.
func (o Op) BaseLen() int { return o.baseLen }

// TargetLen is the length, in code points, of the document o produces.
func (o Op) TargetLen() int { return o.targetLen }

// Len is the number of components in o.
func (o Op) Len() int { return len(o.comps) }

// Size is about how many bytes o holds in memory: its components and
// their text. Limits on memory count ops by it (a long op of short
// components weighs more than its JSON suggests).
func (o Op) Size() int {
	n := opHeader + len(o.comps)*componentSize
	for _, c := range o.comps {
		n += len(c.Text)
	}
	return n
}

const (
	opHeader      = int(unsafe.Sizeof(Op{}))
	componentSize = int(unsafe.Sizeof(Component{}))
)

// Component returns the i-th component of o.
func (o Op) Component(i int) Component { return o.comps[i] }

// Components returns a copy of o's components.
func (o Op) Components() []Component { return append([]Component(nil), o.comps...) }

// IsNoop reports whether o leaves every document unchanged.
func (o Op) IsNoop() bool {
	return len(o.comps) == 0 || (len(o.comps) == 1 && o.comps[0].Kind == Retain)
}

// Builder builds an Op in canonical form, one component at a time: empty
// components are dropped, neighbours of one kind merged, and an insert that
// follows a delete is moved before it. The zero Builder is ready to use.
type Builder struct {
	op Op
	// Merged insert text is gathered in text, so that building an insert
	// from many pieces stays linear: open is 1 + the index of the insert
	// component whose Text is stale, or 0.
	open int
	text []byte
}

// Retain appends "keep n code points". n <= 0 is ignored.
func (b *Builder) Retain(n int) *Builder {
	if n <= 0 {
		return b
	}
	b.op.baseLen += n
	b.op.targetLen += n
	b.flush()
	if last := b.last(); last != nil && last.Kind == Retain {
		last.N += n
		return b
	}
	b.op.comps = append(b.op.comps, Component{Kind: Retain, N: n})
	return b
}

// Insert appends "insert s". An empty s is ignored. s must be valid UTF-8;
// validating untrusted text is the decoder's job.
func (b *Builder) Insert(s string) *Builder {
	if s == "" {
		return b
	}
	n := utf8.RuneCountInString(s)
	b.op.targetLen += n
	c := b.op.comps
	switch {
	case len(c) > 0 && c[len(c)-1].Kind == Insert:
		b.merge(len(c)-1, s, n)
	case len(c) > 0 && c[len(c)-1].Kind == Delete:
		// Canonical order puts the insert before the delete at one position.
		if len(c) > 1 && c[len(c)-2].Kind == Insert {
			b.merge(len(c)-2, s, n)
			return b
		}
		b.flush()
		del := c[len(c)-1]
		c[len(c)-1] = Component{Kind: Insert, N: n, Text: s}
		b.op.comps = append(c, del)
	default:
		b.flush()
		b.op.comps = append(c, Component{Kind: Insert, N: n, Text: s})
	}
	return b
}

// merge appends s, n code points long, to the insert component i.
func (b *Builder) merge(i int, s string, n int) {
	c := &b.op.comps[i]
	if b.open != i+1 {
		b.flush()
		b.text = append(b.text[:0], c.Text...)
		b.open = i + 1
	}
	b.text = append(b.text, s...)
	c.N += n
}

// flush stores the gathered text of the open insert, if any.
func (b *Builder) flush() {
	if b.open != 0 {
		b.op.comps[b.open-1].Text = string(b.text)
		b.open = 0
	}
}

// Delete appends "remove n code points". n <= 0 is ignored.
func (b *Builder) Delete(n int) *Builder {
	if n <= 0 {
		return b
	}
	b.op.baseLen += n
	if last := b.last(); last != nil && last.Kind == Delete {
		last.N += n
		return b
	}
	b.op.comps = append(b.op.comps, Component{Kind: Delete, N: n})
	return b
}

// Op returns the built operation. The Builder must not be used afterwards.
func (b *Builder) Op() Op {
	b.flush()
	op := b.op
	*b = Builder{}
	return op
}

func (b *Builder) last() *Component {
	if len(b.op.comps) == 0 {
		return nil
	}
	return &b.op.comps[len(b.op.comps)-1]
}

// Equal reports whether o and p are the same operation. Ops are canonical,
// so this is also whether they have the same effect on every document.
func (o Op) Equal(p Op) bool {
	if o.baseLen != p.baseLen || o.targetLen != p.targetLen || len(o.comps) != len(p.comps) {
		return false
	}
	for i, c := range o.comps {
		if c != p.comps[i] {
			return false
		}
	}
	return true
}

// newBuilder returns a Builder with room for n components.
func newBuilder(n int) Builder {
	return Builder{op: Op{comps: make([]Component, 0, n)}}
}
