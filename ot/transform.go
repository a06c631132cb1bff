package ot

// Transform rebases two concurrent ops over the same document onto each
// other: aPrime is a rebased to apply after b, and bPrime is b rebased to
// apply after a, so that
//
//	bPrime.Apply(a.Apply(s)) == aPrime.Apply(b.Apply(s)).
//
// When both insert at the same position, a's text goes first. The server
// passes the op it committed first as a. Transform fails with a *LengthError
// when a and b do not have the same base length.
//
// Transforming over a composition of ops is not always the same as
// transforming over the ops one by one: when the ops between two inserts
// are deleted, the composition puts them at one position and the tie rule
// decides their order. Every party that rebases an op must therefore
// transform over the same ops in the same order.
func Transform(a, b Op) (aPrime, bPrime Op, err error) {
	if a.baseLen != b.baseLen {
		return Op{}, Op{}, &LengthError{Want: a.baseLen, Got: b.baseLen}
	}
	// One allocation holds both results in the common case.
	n := len(a.comps) + len(b.comps)
	buf := make([]Component, 2*n)
	oa, ob := Builder{op: Op{comps: buf[:0:n]}}, Builder{op: Op{comps: buf[n:n]}}
	ia, ib := cursor{comps: a.comps}, cursor{comps: b.comps}
	for {
		if ia.kind() == Insert {
			c := ia.comps[ia.i]
			oa.Insert(c.Text)
			ob.Retain(c.N)
			ia.next()
			continue
		}
		if ib.kind() == Insert {
			c := ib.comps[ib.i]
			oa.Retain(c.N)
			ob.Insert(c.Text)
			ib.next()
			continue
		}
		if ia.done() || ib.done() {
			break // both, as the lengths match
		}
		n := min(ia.rest(), ib.rest())
		switch ka, kb := ia.kind(), ib.kind(); {
		case ka == Retain && kb == Retain:
			oa.Retain(n)
			ob.Retain(n)
		case ka == Delete && kb == Retain:
			oa.Delete(n)
		case ka == Retain && kb == Delete:
			ob.Delete(n)
		}
		// Both deleting the same text: neither has anything left to do.
		ia.skip(n)
		ib.skip(n)
	}
	return oa.Op(), ob.Op(), nil
}

// TransformIndex moves a caret at code point i of o's base document to the
// matching position in o's result. i is clamped to [0, o.BaseLen()].
//
// A caret where o inserts stays before the inserted text when the insert is
// another editor's (own false) and moves after it when the caret's own
// editor made the insert (own true), as its caret follows its typing. A
// caret inside a deleted range moves to the deletion point, after any text
// o inserts there in place of what it deleted; a caret at the start of a
// deleted range is where o inserts, so the rule above applies.
func TransformIndex(o Op, i int, own bool) int {
	i = max(0, min(i, o.baseLen))
	pos, out := 0, 0 // in the base and in the result
	for _, c := range o.comps {
		switch c.Kind {
		case Retain:
			if i < pos+c.N {
				return out + i - pos
			}
			pos += c.N
			out += c.N
		case Insert:
			if pos == i && !own {
				return out
			}
			out += c.N
		case Delete:
			if i < pos+c.N {
				return out
			}
			pos += c.N
		}
	}
	return out + i - pos
}

// Selection is a caret or a selected range in code points: Anchor is where
// the selection started and Head where the caret is. Anchor == Head is a
// plain caret.
type Selection struct {
	Anchor, Head int
}

// Transform moves s through o; own says whether o is from the editor that
// owns the selection. A caret moves as TransformIndex says. For a range,
// text that another editor inserts at either edge stays outside it; text
// the owner inserts at an edge ends up before the caret.
func (s Selection) Transform(o Op, own bool) Selection {
	if own || s.Anchor == s.Head {
		return Selection{TransformIndex(o, s.Anchor, own), TransformIndex(o, s.Head, own)}
	}
	// The start edge moves past inserts at it, the end edge stays before.
	if s.Anchor < s.Head {
		return Selection{TransformIndex(o, s.Anchor, true), TransformIndex(o, s.Head, false)}
	}
	return Selection{TransformIndex(o, s.Anchor, false), TransformIndex(o, s.Head, true)}
}
