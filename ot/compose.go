package ot

// Compose returns the op with the effect of a followed by b:
// Compose(a, b).Apply(s) == b.Apply(a.Apply(s)). b must apply to a's
// result; otherwise Compose fails with a *LengthError.
func Compose(a, b Op) (Op, error) {
	if a.targetLen != b.baseLen {
		return Op{}, &LengthError{Want: b.baseLen, Got: a.targetLen}
	}
	out := newBuilder(len(a.comps) + len(b.comps))
	ia, ib := cursor{comps: a.comps}, cursor{comps: b.comps}
	for {
		// a's deletes and b's inserts take no part of the middle document.
		if ia.kind() == Delete {
			out.Delete(ia.rest())
			ia.next()
			continue
		}
		if ib.kind() == Insert {
			out.Insert(ib.text(ib.rest()))
			continue
		}
		if ia.done() || ib.done() {
			break // both, as the lengths match
		}
		n := min(ia.rest(), ib.rest())
		switch {
		case ia.kind() == Retain && ib.kind() == Retain:
			out.Retain(n)
			ia.skip(n)
		case ia.kind() == Retain: // b deletes what a kept
			out.Delete(n)
			ia.skip(n)
		case ib.kind() == Retain: // b keeps what a inserted
			out.Insert(ia.text(n))
		default: // b deletes what a inserted
			ia.text(n)
		}
		ib.skip(n)
	}
	return out.Op(), nil
}

// cursor walks the components of an op, possibly stopping inside one.
type cursor struct {
	comps []Component
	i     int // current component
	off   int // code points of it already consumed
	boff  int // bytes of its Text already consumed
}

func (c *cursor) done() bool { return c.i >= len(c.comps) }

// kind is the kind of the current component, or 0 at the end.
func (c *cursor) kind() Kind {
	if c.i >= len(c.comps) {
		return 0
	}
	return c.comps[c.i].Kind
}

// rest is the unconsumed length of the current component.
func (c *cursor) rest() int { return c.comps[c.i].N - c.off }

func (c *cursor) next() { c.i, c.off, c.boff = c.i+1, 0, 0 }

// skip consumes n code points of a retain or delete.
func (c *cursor) skip(n int) {
	if c.off += n; c.off == c.comps[c.i].N {
		c.next()
	}
}

// text consumes and returns the next n code points of an insert.
func (c *cursor) text(n int) string {
	cur := &c.comps[c.i]
	if c.off+n == cur.N {
		s := cur.Text[c.boff:]
		c.next()
		return s
	}
	j, _ := advance(cur.Text, c.boff, n)
	s := cur.Text[c.boff:j]
	c.off, c.boff = c.off+n, j
	return s
}
