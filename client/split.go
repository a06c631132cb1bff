package client

import (
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// budget bounds the op of one submit, from the limits the server
// advertised, with a margin: an op in flight grows a little (retains split
// around other editors' inserts) when it is rebased before a resend.
type budget struct {
	bytes int // JSON bytes of the op
	items int // components of the op
}

// minBudget keeps a budget large enough for a retain, a delete and one
// code point of insert: every piece then makes progress.
const minBudget = 256

// envelope bounds the JSON of a submit around its op for a document id
// (valid ids need no escapes; the factor covers invalid ones).
func envelope(doc string) int { return 96 + 6*len(doc) }

// resolveLimits fills the limits a server left out with the defaults.
func resolveLimits(l *wire.Limits) wire.Limits {
	r := wire.DefaultLimits
	if l == nil {
		return r
	}
	if l.Frame > 0 {
		r.Frame = l.Frame
	}
	if l.Doc > 0 {
		r.Doc = l.Doc
	}
	if l.Op > 0 {
		r.Op = l.Op
	}
	if l.Components > 0 {
		r.Components = l.Components
	}
	return r
}

func budgetFor(l wire.Limits, doc string) budget {
	margin := func(n int) int { return max(n-n/8, minBudget) }
	return budget{
		bytes: margin(min(int(l.Frame)-envelope(doc), l.Op)),
		items: margin(l.Components),
	}
}

// split cuts op into first, which fits the budget, and rest, the remainder
// of op applying after it: Compose(first, rest) == op. split reports false
// when op fits whole. An op that deletes and inserts goes deletes first,
// so that no piece makes the document larger than the edit leaves it (a
// replacement of a large text would otherwise hold both texts for a
// while, and pass the document limit). Inserts are cut between code
// points.
func (b budget) split(op ot.Op) (first, rest ot.Op, ok bool) {
	if b.fits(op) {
		return op, ot.Op{}, false
	}
	if deletes, inserts := separate(op); !deletes.IsNoop() && !inserts.IsNoop() && b.fits(deletes) {
		return deletes, inserts, true
	}
	return b.cut(op)
}

// separate splits op into its deletes and then its inserts:
// Compose(deletes, inserts) == op.
func separate(op ot.Op) (deletes, inserts ot.Op) {
	var d, i ot.Builder
	for k := 0; k < op.Len(); k++ {
		switch c := op.Component(k); c.Kind {
		case ot.Retain:
			d.Retain(c.N)
			i.Retain(c.N)
		case ot.Delete:
			d.Delete(c.N)
		case ot.Insert:
			i.Insert(c.Text)
		}
	}
	return d.Op(), i.Op()
}

// cut cuts op after as many of its components as fit the budget.
func (b budget) cut(op ot.Op) (first, rest ot.Op, ok bool) {
	var head, tail ot.Builder
	used, items := 2+numberCost, 1 // "[]" and the retain that ends first
	base, target := 0, 0           // code points of op's base and result in first
	i := 0
	for ; i < op.Len(); i++ {
		c := op.Component(i)
		cost := componentCost(c)
		if used+cost > b.bytes || items+1 > b.items {
			if c.Kind == ot.Insert && items+1 <= b.items {
				pre := insertPrefix(c.Text, b.bytes-used-3)
				head.Insert(pre)
				target += utf8.RuneCountInString(pre)
				tail.Retain(target).Insert(c.Text[len(pre):])
				i++
			} else {
				tail.Retain(target)
			}
			break
		}
		used, items = used+cost, items+1
		switch c.Kind {
		case ot.Retain:
			head.Retain(c.N)
			base, target = base+c.N, target+c.N
		case ot.Delete:
			head.Delete(c.N)
			base += c.N
		case ot.Insert:
			head.Insert(c.Text)
			target += c.N
		}
	}
	head.Retain(op.BaseLen() - base)
	if first = head.Op(); first.IsNoop() {
		return op, ot.Op{}, false // cannot happen above minBudget
	}
	for ; i < op.Len(); i++ {
		c := op.Component(i)
		switch c.Kind {
		case ot.Retain:
			tail.Retain(c.N)
		case ot.Delete:
			tail.Delete(c.N)
		case ot.Insert:
			tail.Insert(c.Text)
		}
	}
	return first, tail.Op(), true
}

// fits reports whether op is within the budget, scanning inserted text
// only when a quick upper bound does not settle it.
func (b budget) fits(op ot.Op) bool {
	if op.Len() > b.items {
		return false
	}
	bound, exact := 2, 2
	for i := 0; i < op.Len(); i++ {
		c := op.Component(i)
		bound += numberCost + 3 + maxRuneCost*len(c.Text)
	}
	if bound <= b.bytes {
		return true
	}
	for i := 0; i < op.Len(); i++ {
		if exact += componentCost(op.Component(i)); exact > b.bytes {
			return false
		}
	}
	return true
}

// numberCost bounds the JSON of a retain or delete: a sign, 16 digits
// (counts are at most 2^53-1) and a comma.
const numberCost = 18

// maxRuneCost is the most bytes a code point takes in JSON: \uXXXX.
const maxRuneCost = 6

// componentCost bounds c's JSON bytes, separator included.
func componentCost(c ot.Component) int {
	if c.Kind != ot.Insert {
		return numberCost
	}
	n := 3 // quotes and comma
	for _, r := range c.Text {
		n += runeCost(r)
	}
	return n
}

// runeCost bounds the JSON bytes of r in a string, as encoding/json writes
// it (HTML-escaping <, > and &) or as ot writes it.
func runeCost(r rune) int {
	switch {
	case r < 0x20, r == '<', r == '>', r == '&', r == '\u2028', r == '\u2029', r == utf8.RuneError:
		return maxRuneCost
	case r == '"', r == '\\':
		return 2
	}
	return utf8.RuneLen(r)
}

// insertPrefix is the longest prefix of s, cut between code points, whose
// JSON (without quotes) fits in n bytes; at least one code point.
func insertPrefix(s string, n int) string {
	used := 0
	for i, r := range s {
		if used += runeCost(r); used > n && i > 0 {
			return s[:i]
		}
	}
	return s
}
