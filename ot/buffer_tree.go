package ot

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
)

// Shape of a Buffer's tree. They are variables only so that tests can
// shrink them and make splits and merges frequent; nothing else changes
// them. bufLeafMax must be at least 4 (one code point always fits) and
// bufKidsMax at least 4.
var (
	bufLeafMax = bufLeafCap // bytes of UTF-8 in a leaf at most
	bufKidsMax = 32         // children of an inner node at most
)

// bufLeafCap is the room for text allocated with each leaf.
const bufLeafCap = 1024

// bufLeafBlock allocates a leaf together with its text, so that reaching a
// leaf's bytes costs one cache miss rather than two on big documents.
type bufLeafBlock struct {
	node bufNode
	buf  [bufLeafCap]byte
}

// bufInnerBlock allocates an inner node together with room for its
// children and their counts, so that a descent costs one miss per level.
type bufInnerBlock struct {
	node  bufNode
	runes [bufKidsCap]int
	kids  [bufKidsCap]*bufNode
}

// bufKidsCap is the room for children allocated with each inner node: one
// more than bufKidsMax, which an insert may reach just before a split.
const bufKidsCap = 33

// newBufInner returns an inner node without children.
func newBufInner() *bufNode {
	if bufKidsMax >= bufKidsCap {
		return &bufNode{inner: true, kids: make([]*bufNode, 0, bufKidsMax+1), runes: make([]int, 0, bufKidsMax+1)}
	}
	blk := new(bufInnerBlock)
	blk.node = bufNode{inner: true, kids: blk.kids[:0], runes: blk.runes[:0]}
	return &blk.node
}

// newBufLeaf returns an empty leaf with room for bufLeafMax bytes.
func newBufLeaf() *bufNode {
	if bufLeafMax > bufLeafCap {
		return &bufNode{text: make([]byte, 0, bufLeafMax)}
	}
	blk := new(bufLeafBlock)
	blk.node.text = blk.buf[:0]
	return &blk.node
}

// bufNode is a leaf (text) or an inner node (kids). All leaves are at the same
// depth. A leaf's text is whole code points of valid UTF-8; a leaf is never
// empty unless it is the root. An inner node's runes[i] counts the code
// points under kids[i], so a node's own counts live in its parent (the
// root's in Buffer.runes).
type bufNode struct {
	inner bool
	text  []byte
	kids  []*bufNode
	runes []int
}

// bufFrame is one step of the route from the root down to a leaf.
type bufFrame struct {
	n *bufNode // an inner node
	i int      // the index of the kid taken
}

// descend finds the leaf holding code point position pos and records the
// route in b.path. It returns the leaf, pos relative to the leaf and the
// leaf's code point count. At a boundary between two leaves, left picks the
// end of the left one (where an insert extends it) and !left the start of
// the right one (where the code point at pos lives).
func (b *Buffer) descend(pos int, left bool) (leaf *bufNode, k, lr int) {
	b.path = b.path[:0]
	n, lr := b.root, b.runes
	for n.inner {
		i, last := 0, len(n.kids)-1
		if left {
			for i < last && pos > n.runes[i] {
				pos -= n.runes[i]
				i++
			}
		} else {
			for i < last && pos >= n.runes[i] {
				pos -= n.runes[i]
				i++
			}
		}
		b.path = append(b.path, bufFrame{n, i})
		lr, n = n.runes[i], n.kids[i]
	}
	return n, pos, lr
}

// nextLeaf moves b.path to the leaf after the current one and returns it
// with its code point count, or nil after the last leaf.
func (b *Buffer) nextLeaf() (*bufNode, int) {
	for d := len(b.path) - 1; d >= 0; d-- {
		f := &b.path[d]
		if f.i+1 >= len(f.n.kids) {
			continue
		}
		f.i++
		b.path = b.path[:d+1]
		n, lr := f.n.kids[f.i], f.n.runes[f.i]
		for n.inner {
			b.path = append(b.path, bufFrame{n, 0})
			n, lr = n.kids[0], n.runes[0]
		}
		return n, lr
	}
	return nil, 0
}

// eachLeaf calls fn with the text of every leaf under n, in order.
func (b *Buffer) eachLeaf(n *bufNode, fn func([]byte)) {
	if !n.inner {
		if len(n.text) > 0 {
			fn(n.text)
		}
		return
	}
	for _, k := range n.kids {
		b.eachLeaf(k, fn)
	}
}

// bufRuneOffset returns the byte offset of code point k in p, which holds n
// code points of valid UTF-8. ASCII text needs no walk; other text is
// walked from the nearer end, eight bytes at a time, counting the bytes
// that start a code point. Walking back from the end touches only the bytes
// that an insert or delete at k moves anyway.
func bufRuneOffset(p []byte, n, k int) int {
	switch {
	case n == len(p):
		return k
	case k >= n:
		return len(p)
	case k > n/2:
		return bufRuneOffsetBack(p, n-k)
	}
	i := 0
	for i+8 <= len(p) {
		starts := bufStarts(binary.LittleEndian.Uint64(p[i:]))
		if starts > k {
			break
		}
		k -= starts
		i += 8
	}
	for ; i < len(p); i++ {
		if p[i]&0xC0 != 0x80 {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return len(p)
}

// bufRuneOffsetBack returns the byte offset of the m-th code point counted
// back from the end of p (m >= 1).
func bufRuneOffsetBack(p []byte, m int) int {
	j := len(p)
	for j >= 8 {
		starts := bufStarts(binary.LittleEndian.Uint64(p[j-8:]))
		if starts >= m {
			break
		}
		m -= starts
		j -= 8
	}
	for j > 0 {
		j--
		if p[j]&0xC0 != 0x80 {
			m--
			if m == 0 {
				return j
			}
		}
	}
	return 0
}

// bufStarts counts the bytes of w that start a code point (that are not
// continuation bytes 10xxxxxx).
func bufStarts(w uint64) int {
	return 8 - bits.OnesCount64(w&0x8080808080808080&^(w<<1))
}

// insert puts s, n code points long, at position pos.
func (b *Buffer) insert(pos int, s string, n int) {
	leaf, k, lr := b.descend(pos, true)
	at := bufRuneOffset(leaf.text, lr, k)
	b.runes += n
	b.bytes += len(s)
	for _, f := range b.path {
		f.n.runes[f.i] += n
	}
	if len(leaf.text)+len(s) <= bufLeafMax {
		leaf.text = bufSpliceIn(leaf.text, at, s)
		return
	}
	all := append(b.scratch[:0], leaf.text[:at]...)
	all = append(all, s...)
	all = append(all, leaf.text[at:]...)
	nodes, counts := bufChop(all, leaf)
	if cap(all) <= 4*bufLeafMax {
		b.scratch = all // keep for the next split; drop a big paste's buffer
	}
	b.replaceKid(len(b.path)-1, nodes, counts)
}

// bufSpliceIn inserts s into p at byte offset at, in place when p has room.
func bufSpliceIn(p []byte, at int, s string) []byte {
	if cap(p)-len(p) < len(s) {
		q := make([]byte, len(p)+len(s), max(bufLeafMax, len(p)+len(s)))
		copy(q, p[:at])
		copy(q[at:], s)
		copy(q[at+len(s):], p[at:])
		return q
	}
	p = p[:len(p)+len(s)]
	copy(p[at+len(s):], p[at:])
	copy(p[at:], s)
	return p
}

// bufChop cuts text into leaves of at most 3/4 bufLeafMax bytes (or one code
// point), never inside a UTF-8 sequence. If first is not nil it receives
// the first piece. It returns the leaves and their code point counts.
func bufChop[T string | []byte](text T, first *bufNode) ([]*bufNode, []int) {
	per := max(bufLeafMax*3/4, 1)
	g := max((len(text)+per-1)/per, 1)
	target := (len(text) + g - 1) / g
	nodes := make([]*bufNode, 0, g+1)
	counts := make([]int, 0, g+1)
	for start := 0; start < len(text) || len(nodes) == 0; {
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
		n := first
		if n == nil {
			n = newBufLeaf()
		}
		first = nil
		n.text = append(n.text[:0], text[start:end]...)
		nodes = append(nodes, n)
		counts = append(counts, utf8.RuneCount(n.text))
		start = end
	}
	return nodes, counts
}

// replaceKid replaces the node under b.path[d] (the root if d < 0) by
// nodes, whose first element is that node itself, splitting ancestors that
// overflow and growing a new root when the old one splits.
func (b *Buffer) replaceKid(d int, nodes []*bufNode, counts []int) {
	for {
		if d < 0 {
			if len(nodes) == 1 {
				b.root = nodes[0]
				return
			}
			root := newBufInner()
			root.kids = append(root.kids, nodes...)
			root.runes = append(root.runes, counts...)
			if len(nodes) <= bufKidsMax {
				b.root = root
				return
			}
			nodes, counts = bufSplitInner(root)
			continue
		}
		f := b.path[d]
		p := f.n
		p.runes[f.i] = counts[0]
		if len(nodes) == 1 {
			return
		}
		p.kids = slices.Insert(p.kids, f.i+1, nodes[1:]...)
		p.runes = slices.Insert(p.runes, f.i+1, counts[1:]...)
		if len(p.kids) <= bufKidsMax {
			return
		}
		nodes, counts = bufSplitInner(p)
		d--
	}
}

// bufSplitInner cuts an overfull inner node p into siblings of at most 3/4
// bufKidsMax children. p keeps the first group. It returns p and the new
// siblings with their code point counts.
func bufSplitInner(p *bufNode) ([]*bufNode, []int) {
	per := max(bufKidsMax*3/4, 2)
	g := max((len(p.kids)+per-1)/per, 2)
	nodes := make([]*bufNode, 0, g)
	counts := make([]int, 0, g)
	for j := 0; j < g; j++ {
		lo, hi := j*len(p.kids)/g, (j+1)*len(p.kids)/g
		sum := 0
		for _, r := range p.runes[lo:hi] {
			sum += r
		}
		counts = append(counts, sum)
		if j == 0 {
			nodes = append(nodes, p)
			continue
		}
		q := newBufInner()
		q.kids = append(q.kids, p.kids[lo:hi]...)
		q.runes = append(q.runes, p.runes[lo:hi]...)
		nodes = append(nodes, q)
	}
	keep := len(p.kids) / g
	clear(p.kids[keep:])
	p.kids, p.runes = p.kids[:keep], p.runes[:keep]
	return nodes, counts
}

// delete removes n code points at position pos, one leaf at a time.
func (b *Buffer) delete(pos, n int) {
	for n > 0 {
		leaf, k, lr := b.descend(pos, false)
		d := min(n, lr-k)
		if d <= 0 {
			panic("ot: Buffer tree corrupt: delete past a leaf's end")
		}
		start := bufRuneOffset(leaf.text, lr, k)
		end := start + bufRuneOffset(leaf.text[start:], lr-k, d)
		leaf.text = append(leaf.text[:start], leaf.text[end:]...)
		for _, f := range b.path {
			f.n.runes[f.i] -= d
		}
		b.runes -= d
		b.bytes -= end - start
		n -= d
		if len(leaf.text) < bufLeafMax/4 {
			b.shrinkLeaf(leaf)
		}
	}
}

// shrinkLeaf removes leaf (the one b.path leads to) if it is empty, or
// merges it into a neighbour when both fit in one leaf.
func (b *Buffer) shrinkLeaf(leaf *bufNode) {
	d := len(b.path) - 1
	if d < 0 {
		return // the root leaf may be small or empty
	}
	p, i := b.path[d].n, b.path[d].i
	switch {
	case len(leaf.text) == 0:
		bufRemoveKid(p, i)
	case i+1 < len(p.kids) && len(leaf.text)+len(p.kids[i+1].text) <= bufLeafMax:
		leaf.text = append(leaf.text, p.kids[i+1].text...)
		p.runes[i] += p.runes[i+1]
		bufRemoveKid(p, i+1)
	case i > 0 && len(p.kids[i-1].text)+len(leaf.text) <= bufLeafMax:
		left := p.kids[i-1]
		left.text = append(left.text, leaf.text...)
		p.runes[i-1] += p.runes[i]
		bufRemoveKid(p, i)
	default:
		return
	}
	b.shrinkInner(d)
}

// shrinkInner walks up from b.path[d].n, which just lost a child: an empty
// node is removed, a small one merged into a neighbour when both fit, and a
// root with one child replaced by that child.
func (b *Buffer) shrinkInner(d int) {
	for ; d > 0; d-- {
		p := b.path[d].n
		if len(p.kids) > 0 && len(p.kids) >= bufKidsMax/4 {
			break
		}
		q, i := b.path[d-1].n, b.path[d-1].i
		switch {
		case len(p.kids) == 0:
			bufRemoveKid(q, i)
		case i+1 < len(q.kids) && len(p.kids)+len(q.kids[i+1].kids) <= bufKidsMax:
			r := q.kids[i+1]
			p.kids = append(p.kids, r.kids...)
			p.runes = append(p.runes, r.runes...)
			q.runes[i] += q.runes[i+1]
			bufRemoveKid(q, i+1)
		case i > 0 && len(q.kids[i-1].kids)+len(p.kids) <= bufKidsMax:
			l := q.kids[i-1]
			l.kids = append(l.kids, p.kids...)
			l.runes = append(l.runes, p.runes...)
			q.runes[i-1] += q.runes[i]
			bufRemoveKid(q, i)
		default:
			return
		}
	}
	for b.root.inner && len(b.root.kids) == 1 {
		b.root = b.root.kids[0]
	}
	if b.root.inner && len(b.root.kids) == 0 {
		b.root = &bufNode{}
	}
}

func bufRemoveKid(p *bufNode, i int) {
	p.kids = slices.Delete(p.kids, i, i+1)
	p.runes = slices.Delete(p.runes, i, i+1)
}

// build makes the tree for s.
func (b *Buffer) build(s string) *bufNode {
	nodes, counts := bufChop(s, nil)
	b.replaceKid(-1, nodes, counts)
	return b.root
}
