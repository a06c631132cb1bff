package ot

import (
	"unicode/utf8"
)

// Shape of a Buffer's tree. They are variables only so that tests can
// shrink them and make splits and merges frequent; nothing else changes
// them. bufLeafMax must be between 4 (one code point always fits) and
// bufLeafCap, bufKidsMax between 4 and bufKidsCap-1.
var (
	bufLeafMax = bufLeafCap     // bytes of UTF-8 in a leaf at most
	bufKidsMax = bufKidsCap - 1 // children of an inner node at most
)

const (
	// bufLeafCap is the room for text in a leaf.
	bufLeafCap = 1024
	// bufKidsCap is the room for children in an inner node: one more than
	// bufKidsMax, which lets a node take a new child before it splits.
	bufKidsCap = 33
)

// The counts of a leaf are kept in 16 bits.
const _ = uint16(bufLeafCap)

// bufLeaf is the text of a leaf: whole code points of valid UTF-8 in its
// first lbytes[i] bytes, where lbytes[i] is kept by the parent. A leaf is
// nothing but its text, so its address is the address of its bytes and
// neither its length nor its count needs a load from the leaf: on a big
// document the cache miss for the text is the only one a leaf costs, and
// the loads of all the leaf's lines can be under way at once.
type bufLeaf [bufLeafCap]byte

// bufInner is an inner node. Its children are leaves (leafy) or inner
// nodes; their code point and byte counts are stored here, side by side,
// so a descent reads each node's counts from a few adjacent cache lines
// and never touches a child before choosing it. A node's own counts live
// in its parent, the root's in the Buffer. All leaves are at one depth.
//
// A leafy node keeps its leaves' counts in 16 bits (a leaf holds at most
// bufLeafCap bytes), at the start of the node: the last step of a descent,
// the one most likely to miss the cache on a big document, then reads
// about two cache lines of the node, and the nodes above the leaves stay
// small enough to be cached while the leaves are not.
type bufInner struct {
	n      int  // children
	leafy  bool // the children are leaves
	lrunes [bufKidsCap]uint16
	lbytes [bufKidsCap]uint16
	leaves [bufKidsCap]*bufLeaf // the children if leafy

	runes [bufKidsCap]int // counts of the children if not leafy
	bytes [bufKidsCap]int
	kids  [bufKidsCap]*bufInner // the children if not leafy
}

// bufKid is one child of an inner node with its counts: one of leaf and
// inner is set.
type bufKid struct {
	runes, bytes int
	leaf         *bufLeaf
	inner        *bufInner
}

func (p *bufInner) kid(i int) bufKid {
	if p.leafy {
		return bufKid{runes: int(p.lrunes[i]), bytes: int(p.lbytes[i]), leaf: p.leaves[i]}
	}
	return bufKid{runes: p.runes[i], bytes: p.bytes[i], inner: p.kids[i]}
}

func (p *bufInner) setKid(i int, k bufKid) {
	if p.leafy {
		p.lrunes[i], p.lbytes[i], p.leaves[i] = uint16(k.runes), uint16(k.bytes), k.leaf
		return
	}
	p.runes[i], p.bytes[i], p.kids[i] = k.runes, k.bytes, k.inner
}

// count returns the code point and byte counts under child i.
func (p *bufInner) count(i int) (runes, bytes int) {
	if p.leafy {
		return int(p.lrunes[i]), int(p.lbytes[i])
	}
	return p.runes[i], p.bytes[i]
}

// add adds to the counts of child i, which stay within a leaf's capacity
// if the child is a leaf.
func (p *bufInner) add(i, runes, bytes int) {
	if p.leafy {
		p.lrunes[i] += uint16(runes)
		p.lbytes[i] += uint16(bytes)
		return
	}
	p.runes[i] += runes
	p.bytes[i] += bytes
}

// insertKids puts ks before child i; the node must have room for them.
func (p *bufInner) insertKids(i int, ks []bufKid) {
	m := len(ks)
	if p.leafy {
		copy(p.lrunes[i+m:p.n+m], p.lrunes[i:p.n])
		copy(p.lbytes[i+m:p.n+m], p.lbytes[i:p.n])
		copy(p.leaves[i+m:p.n+m], p.leaves[i:p.n])
	} else {
		copy(p.runes[i+m:p.n+m], p.runes[i:p.n])
		copy(p.bytes[i+m:p.n+m], p.bytes[i:p.n])
		copy(p.kids[i+m:p.n+m], p.kids[i:p.n])
	}
	for j, k := range ks {
		p.setKid(i+j, k)
	}
	p.n += m
}

// removeKid drops child i.
func (p *bufInner) removeKid(i int) {
	if p.leafy {
		copy(p.lrunes[i:p.n], p.lrunes[i+1:p.n])
		copy(p.lbytes[i:p.n], p.lbytes[i+1:p.n])
		copy(p.leaves[i:p.n], p.leaves[i+1:p.n])
	} else {
		copy(p.runes[i:p.n], p.runes[i+1:p.n])
		copy(p.bytes[i:p.n], p.bytes[i+1:p.n])
		copy(p.kids[i:p.n], p.kids[i+1:p.n])
	}
	p.n--
	p.setKid(p.n, bufKid{}) // let the garbage collector have it
}

// appendKids moves all children of q to the end of p, which has room.
func (p *bufInner) appendKids(q *bufInner) {
	for j := range q.n {
		p.setKid(p.n+j, q.kid(j))
	}
	p.n += q.n
}

// total returns the code point and byte counts under p.
func (p *bufInner) total() (runes, bytes int) {
	for i := range p.n {
		r, b := p.count(i)
		runes += r
		bytes += b
	}
	return runes, bytes
}

// reset empties p and makes it hold leaves or inner nodes.
func (p *bufInner) reset(leafy bool) {
	*p = bufInner{leafy: leafy}
}

// bufFrame is one step of the route from the root down to a leaf.
type bufFrame struct {
	n *bufInner
	i int // the index of the child taken
}

// descend finds the leaf holding code point position pos and records the
// route in b.path; the last frame holds the leaf's counts. It returns the
// leaf and pos relative to it. At a boundary between two leaves, left
// picks the end of the left one (where an insert extends it) and !left the
// start of the right one (where the code point at pos lives).
func (b *Buffer) descend(pos int, left bool) (leaf *bufLeaf, k int) {
	b.path = b.path[:0]
	// q > count ⇔ pos > count (left) or pos >= count (right).
	q := pos
	if !left {
		q++
	}
	n := b.root
	for !n.leafy {
		i, last := 0, n.n-1
		for i < last && q > n.runes[i] {
			q -= n.runes[i]
			i++
		}
		b.path = append(b.path, bufFrame{n, i})
		n = n.kids[i]
	}
	i, last := 0, n.n-1
	for i < last && q > int(n.lrunes[i]) {
		q -= int(n.lrunes[i])
		i++
	}
	b.path = append(b.path, bufFrame{n, i})
	if !left {
		q--
	}
	return n.leaves[i], q
}

// leafCounts returns the code point and byte counts of the leaf that
// b.path leads to.
func (b *Buffer) leafCounts() (runes, bytes int) {
	f := b.path[len(b.path)-1]
	return int(f.n.lrunes[f.i]), int(f.n.lbytes[f.i])
}

// nextLeaf moves b.path to the leaf after the current one and returns its
// text and code point count, or nil after the last leaf.
func (b *Buffer) nextLeaf() ([]byte, int) {
	for d := len(b.path) - 1; d >= 0; d-- {
		f := &b.path[d]
		if f.i+1 >= f.n.n {
			continue
		}
		f.i++
		b.path = b.path[:d+1]
		n := f.n
		for !n.leafy {
			n = n.kids[b.path[len(b.path)-1].i]
			b.path = append(b.path, bufFrame{n, 0})
		}
		f = &b.path[len(b.path)-1]
		return n.leaves[f.i][:n.lbytes[f.i]], int(n.lrunes[f.i])
	}
	return nil, 0
}

// eachLeaf calls fn with the text of every non-empty leaf under n, in order.
func eachLeaf(n *bufInner, fn func([]byte)) {
	for i := range n.n {
		switch {
		case !n.leafy:
			eachLeaf(n.kids[i], fn)
		case n.lbytes[i] > 0:
			fn(n.leaves[i][:n.lbytes[i]])
		}
	}
}

// insert puts s, n code points long, at position pos.
func (b *Buffer) insert(pos int, s string, n int) {
	leaf, k := b.descend(pos, true)
	lr, lb := b.leafCounts()
	b.touched += bufTouch(leaf[:lb])
	at := bufRuneOffset(leaf[:lb], lr, k)
	b.runes += n
	b.bytes += len(s)
	last := len(b.path) - 1
	for _, f := range b.path[:last] {
		f.n.runes[f.i] += n
		f.n.bytes[f.i] += len(s)
	}
	if lb+len(s) <= bufLeafMax {
		f := b.path[last]
		f.n.lrunes[f.i] += uint16(n)
		f.n.lbytes[f.i] += uint16(len(s))
		copy(leaf[at+len(s):lb+len(s)], leaf[at:lb])
		copy(leaf[at:], s)
		return
	}
	all := append(b.scratch[:0], leaf[:at]...)
	all = append(all, s...)
	all = append(all, leaf[at:lb]...)
	kids := bufChop(b.kids[:0], all, leaf)
	if cap(all) <= 4*bufLeafCap {
		b.scratch = all // keep for the next split; drop a big paste's buffer
	}
	b.replaceKid(len(b.path)-1, kids)
	if cap(kids) <= 4*bufKidsCap {
		b.kids = kids
	}
}

// bufChop appends to kids the leaves that text is cut into, of at most 3/4
// bufLeafMax bytes (or one code point) each, never inside a UTF-8 sequence.
// If first is not nil it receives the first piece.
func bufChop[T string | []byte](kids []bufKid, text T, first *bufLeaf) []bufKid {
	per := max(bufLeafMax*3/4, 1)
	g := max((len(text)+per-1)/per, 1)
	target := (len(text) + g - 1) / g
	for start, done := 0, false; start < len(text) || !done; done = true {
		end := min(start+target, len(text))
		for end > start && end < len(text) && text[end]&0xC0 == 0x80 {
			end--
		}
		if end == start && end < len(text) { // a code point longer than target
			end++
			for end < len(text) && text[end]&0xC0 == 0x80 {
				end++
			}
		}
		leaf := first
		if leaf == nil {
			leaf = new(bufLeaf)
		}
		first = nil
		m := copy(leaf[:], text[start:end])
		kids = append(kids, bufKid{runes: utf8.RuneCount(leaf[:m]), bytes: m, leaf: leaf})
		start = end
	}
	return kids
}

// replaceKid replaces the child of b.path[d].n that the path takes (the
// root if d < 0) by kids, whose first element is that child itself,
// splitting ancestors that overflow and growing new roots while more than
// one node is left at the top.
func (b *Buffer) replaceKid(d int, kids []bufKid) {
	for ; d >= 0; d-- {
		p, i := b.path[d].n, b.path[d].i
		if p.n-1+len(kids) <= bufKidsMax {
			p.setKid(i, kids[0])
			p.insertKids(i+1, kids[1:])
			return
		}
		// Gather the children p would have and regroup them into p and
		// new siblings, which replace p in its parent.
		all := make([]bufKid, 0, p.n-1+len(kids))
		for j := range i {
			all = append(all, p.kid(j))
		}
		all = append(all, kids...)
		for j := i + 1; j < p.n; j++ {
			all = append(all, p.kid(j))
		}
		kids = bufGroup(kids[:0], all, p)
	}
	for len(kids) > 1 {
		kids = bufGroup(kids[:0], kids, nil)
	}
	b.root = kids[0].inner
}

// bufGroup appends to out the inner nodes that hold kids in order, each
// with at most 3/4 bufKidsMax children (at least two nodes unless all of
// kids fit in one). If first is not nil it becomes the first node. out may
// share kids' array: each node is filled before its summary is appended.
func bufGroup(out, kids []bufKid, first *bufInner) []bufKid {
	per := max(bufKidsMax*3/4, 2)
	g := max((len(kids)+per-1)/per, 1)
	if g == 1 && len(kids) > bufKidsMax {
		g = 2
	}
	// Copy first: out may alias kids and is written ahead of the reads.
	src := make([]bufKid, len(kids))
	copy(src, kids)
	for j := range g {
		lo, hi := j*len(src)/g, (j+1)*len(src)/g
		p := first
		if p == nil {
			p = new(bufInner)
		}
		first = nil
		p.reset(src[lo].leaf != nil)
		for _, k := range src[lo:hi] {
			p.setKid(p.n, k)
			p.n++
		}
		r, by := p.total()
		out = append(out, bufKid{runes: r, bytes: by, inner: p})
	}
	return out
}

// delete removes n code points at position pos, one leaf at a time.
func (b *Buffer) delete(pos, n int) {
	for n > 0 {
		leaf, k := b.descend(pos, false)
		lr, lb := b.leafCounts()
		b.touched += bufTouch(leaf[:lb])
		d := min(n, lr-k)
		if d <= 0 {
			panic("ot: Buffer tree corrupt: delete past a leaf's end")
		}
		start := bufRuneOffset(leaf[:lb], lr, k)
		end := start + bufRuneOffset(leaf[start:lb], lr-k, d)
		copy(leaf[start:], leaf[end:lb])
		for _, f := range b.path {
			f.n.add(f.i, -d, start-end)
		}
		b.runes -= d
		b.bytes -= end - start
		n -= d
		if lb-(end-start) < bufLeafMax/4 {
			b.shrinkLeaf()
		}
	}
}

// shrinkLeaf removes the leaf that b.path leads to if it is empty (unless
// it is the document's only leaf), or merges it into a neighbour when both
// fit in one leaf.
func (b *Buffer) shrinkLeaf() {
	d := len(b.path) - 1
	p, i := b.path[d].n, b.path[d].i
	size := int(p.lbytes[i])
	switch {
	case size == 0 && p == b.root && p.n == 1:
		return // an empty document keeps one empty leaf
	case size == 0:
		p.removeKid(i)
	case i+1 < p.n && size+int(p.lbytes[i+1]) <= bufLeafMax:
		copy(p.leaves[i][size:], p.leaves[i+1][:p.lbytes[i+1]])
		p.lrunes[i] += p.lrunes[i+1]
		p.lbytes[i] += p.lbytes[i+1]
		p.removeKid(i + 1)
	case i > 0 && int(p.lbytes[i-1])+size <= bufLeafMax:
		copy(p.leaves[i-1][p.lbytes[i-1]:], p.leaves[i][:size])
		p.lrunes[i-1] += p.lrunes[i]
		p.lbytes[i-1] += p.lbytes[i]
		p.removeKid(i)
	default:
		return
	}
	b.shrinkInner(d)
}

// shrinkInner walks up from b.path[d].n, which just lost a child: an empty
// node is removed, a small one merged into a neighbour when both fit, and a
// root with one inner child replaced by that child.
func (b *Buffer) shrinkInner(d int) {
	for ; d > 0; d-- {
		p := b.path[d].n
		if p.n > 0 && p.n >= bufKidsMax/4 {
			break
		}
		q, i := b.path[d-1].n, b.path[d-1].i
		switch {
		case p.n == 0:
			q.removeKid(i)
		case i+1 < q.n && p.n+q.kids[i+1].n <= bufKidsMax:
			p.appendKids(q.kids[i+1])
			q.runes[i] += q.runes[i+1]
			q.bytes[i] += q.bytes[i+1]
			q.removeKid(i + 1)
		case i > 0 && q.kids[i-1].n+p.n <= bufKidsMax:
			q.kids[i-1].appendKids(p)
			q.runes[i-1] += q.runes[i]
			q.bytes[i-1] += q.bytes[i]
			q.removeKid(i)
		default:
			return
		}
	}
	for !b.root.leafy && b.root.n == 1 {
		b.root = b.root.kids[0]
	}
}

// build makes the tree for s.
func (b *Buffer) build(s string) {
	kids := bufChop(nil, s, nil)
	for {
		kids = bufGroup(kids[:0], kids, nil)
		if len(kids) == 1 {
			break
		}
	}
	b.root = kids[0].inner
}
