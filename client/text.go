package client

import "github.com/collabd/collab/ot"

// docText is a document's text in an ot.Buffer, so that applying an op
// costs about its size rather than a copy of the whole text (a load
// generator applies tens of thousands a second); the string is made when
// asked for and kept until the next op.
type docText struct {
	buf *ot.Buffer // nil: the empty text, before the first joined
	str string     // the text, when has
	has bool
}

func newDocText(s string) docText { return docText{buf: ot.NewBuffer(s), str: s, has: true} }

// String returns the text.
func (t *docText) String() string {
	if !t.has && t.buf != nil {
		t.str, t.has = t.buf.String(), true
	}
	return t.str
}

// Len returns the length of the text in code points.
func (t *docText) Len() int {
	if t.buf == nil {
		return 0
	}
	return t.buf.Len()
}

// apply applies op, or changes nothing and returns an error wrapping the
// ot error if op does not apply to the text.
func (t *docText) apply(op ot.Op) error {
	if t.buf == nil {
		t.buf = ot.NewBuffer("")
	}
	if err := t.buf.Apply(op); err != nil {
		return err
	}
	t.str, t.has = "", false
	return nil
}
