package ot

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// propCases is how many random cases each property test checks. Every case
// has its own seed, printed on failure; replay one with newOpGen(seed).
const propCases = 3000

// forSeeds runs check for propCases seeds, stopping at the first failure.
func forSeeds(t *testing.T, check func(t *testing.T, g *opGen) bool) {
	t.Helper()
	for seed := uint64(1); seed <= propCases; seed++ {
		if !check(t, newOpGen(seed)) {
			return
		}
	}
}

func TestPropTransform(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		doc := g.doc(12)
		a, b := g.opFor(doc), g.opFor(doc)
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Errorf("%v: Transform(%v, %v): %v", g, a, b, err)
			return false
		}
		for _, o := range []Op{ap, bp} {
			if err := checkCanonical(o); err != nil {
				t.Errorf("%v: Transform(%v, %v) not canonical: %v", g, a, b, err)
				return false
			}
		}
		x, err1 := applyBoth(doc, a, bp)
		y, err2 := applyBoth(doc, b, ap)
		if err1 != nil || err2 != nil || x != y {
			t.Errorf("%v: TP1 fails on %q: a=%v b=%v a'=%v b'=%v: %q (%v) vs %q (%v)",
				g, doc, a, b, ap, bp, x, err1, y, err2)
			return false
		}
		return true
	})
}

func TestPropCompose(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		doc := g.doc(12)
		a := g.opFor(doc)
		b := g.op(a.TargetLen())
		ab, err := Compose(a, b)
		if err != nil {
			t.Errorf("%v: Compose(%v, %v): %v", g, a, b, err)
			return false
		}
		if err := checkCanonical(ab); err != nil {
			t.Errorf("%v: Compose(%v, %v) not canonical: %v", g, a, b, err)
			return false
		}
		want, err1 := applyBoth(doc, a, b)
		got, err2 := ab.Apply(doc)
		if err1 != nil || err2 != nil || got != want {
			t.Errorf("%v: on %q, Compose(%v, %v) = %v gives %q (%v), sequential %q (%v)",
				g, doc, a, b, ab, got, err2, want, err1)
			return false
		}
		return true
	})
}

func TestPropInvert(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		doc := g.doc(12)
		o := g.opFor(doc)
		inv, err := o.Invert(doc)
		if err != nil {
			t.Errorf("%v: Invert(%v, %q): %v", g, o, doc, err)
			return false
		}
		if err := checkCanonical(inv); err != nil {
			t.Errorf("%v: %v", g, err)
			return false
		}
		back, err := applyBoth(doc, o, inv)
		if err != nil || back != doc {
			t.Errorf("%v: %v then its inverse %v on %q = %q, %v", g, o, inv, doc, back, err)
			return false
		}
		return true
	})
}

func TestPropDiff(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		x := g.doc(20)
		var y string
		switch g.r.IntN(3) {
		case 0: // unrelated texts
			y = g.doc(20)
		case 1: // an edit, so the texts share a prefix and a suffix
			y, _ = g.opFor(x).Apply(x)
		default: // a shared emoji-heavy prefix and suffix around an edit
			fix := strings.Repeat("😀👩\u200d👧", 1+g.r.IntN(3))
			x, y = fix+x+fix, fix+g.doc(5)+fix
		}
		op := Diff(x, y)
		got, err := op.Apply(x)
		if err != nil || got != y {
			t.Errorf("%v: Diff(%q, %q) = %v applies to %q, %v", g, x, y, op, got, err)
			return false
		}
		if err := checkCanonical(op); err != nil {
			t.Errorf("%v: Diff(%q, %q): %v", g, x, y, err)
			return false
		}
		return true
	})
}

func TestPropJSON(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		o := g.op(g.r.IntN(12))
		data, err := json.Marshal(o)
		if err != nil {
			t.Errorf("%v: Marshal(%v): %v", g, o, err)
			return false
		}
		if !strings.Contains(string(data), `\`) && len(data) > o.JSONSize() {
			t.Errorf("%v: %s is %d bytes, JSONSize %d", g, data, len(data), o.JSONSize())
			return false
		}
		var back Op
		if err := json.Unmarshal(data, &back); err != nil || !back.Equal(o) {
			t.Errorf("%v: %v encodes as %s, decodes as %v, %v", g, o, data, back, err)
			return false
		}
		// encoding/json must read the same texts from our output.
		var items []any
		if err := json.Unmarshal(data, &items); err != nil || len(items) != o.Len() {
			t.Errorf("%v: %s is not a %d-item JSON array: %v", g, data, o.Len(), err)
			return false
		}
		for i, it := range items {
			if c := o.Component(i); c.Kind == Insert && it != c.Text {
				t.Errorf("%v: %s item %d reads as %q, want %q", g, data, i, it, c.Text)
				return false
			}
		}
		// A split, reordered wire form decodes to the same canonical op.
		if sp, err := Parse(splitWire(g, o), Limits{}); err != nil || !sp.Equal(o) {
			t.Errorf("%v: non-canonical %s decodes as %v, %v; want %v", g, splitWire(g, o), sp, err, o)
			return false
		}
		return true
	})
}

// splitWire writes o in a valid but non-canonical wire form: components
// split in two and insert+delete pairs written delete first, at random.
func splitWire(g *opGen, o Op) []byte {
	var items []string
	for i := 0; i < o.Len(); i++ {
		c := o.Component(i)
		if c.Kind == Insert && i+1 < o.Len() && o.Component(i+1).Kind == Delete && g.r.IntN(2) == 0 {
			items = appendWireItems(g, items, o.Component(i+1))
			i++
		}
		items = appendWireItems(g, items, c)
	}
	return []byte("[" + strings.Join(items, ",") + "]")
}

func appendWireItems(g *opGen, items []string, c Component) []string {
	parts := []Component{c}
	if c.N > 1 && g.r.IntN(2) == 0 {
		k := 1 + g.r.IntN(c.N-1)
		j, _ := advance(c.Text, 0, k)
		parts = []Component{{c.Kind, k, c.Text[:j]}, {c.Kind, c.N - k, c.Text[j:]}}
	}
	for _, p := range parts {
		switch p.Kind {
		case Retain:
			items = append(items, strconv.Itoa(p.N))
		case Delete:
			items = append(items, strconv.Itoa(-p.N))
		case Insert:
			items = append(items, string(AppendJSONString(nil, p.Text)))
		}
	}
	return items
}

func TestPropTransformIndex(t *testing.T) {
	forSeeds(t, func(t *testing.T, g *opGen) bool {
		doc := g.doc(12)
		o := g.opFor(doc)
		after, _ := o.Apply(doc)
		newIndex, insAt := caretMap(o)
		prev := 0
		for i := 0; i <= o.BaseLen(); i++ {
			own, other := TransformIndex(o, i, true), TransformIndex(o, i, false)
			if other < prev || other > own || own > o.TargetLen() {
				t.Errorf("%v: %v: caret %d moves to %d (own %d), previous caret to %d", g, o, i, other, own, prev)
				return false
			}
			prev = own
			if own-other != insAt[i] {
				t.Errorf("%v: %v: caret %d: own %d, other %d, but %d inserted there", g, o, i, own, other, insAt[i])
				return false
			}
			// The character after a caret stays after it if o keeps it.
			if j := newIndex[i]; j >= 0 && (own != j || runeAt(after, j) != runeAt(doc, i)) {
				t.Errorf("%v: %v on %q: caret %d before %q moves to %d, want %d", g, o, doc, i, runeAt(doc, i), own, j)
				return false
			}
		}
		return true
	})
}

// caretMap returns, for each position of o's base, where o moves the
// character there (-1 if deleted) and how much o inserts at that position.
func caretMap(o Op) (newIndex, insAt []int) {
	newIndex = make([]int, o.BaseLen()+1)
	insAt = make([]int, o.BaseLen()+1)
	newIndex[o.BaseLen()] = -1
	pos, out := 0, 0
	for i := 0; i < o.Len(); i++ {
		switch c := o.Component(i); c.Kind {
		case Retain:
			for k := range c.N {
				newIndex[pos+k] = out + k
			}
			pos, out = pos+c.N, out+c.N
		case Delete:
			for k := range c.N {
				newIndex[pos+k] = -1
			}
			pos += c.N
		case Insert:
			insAt[pos] += c.N
			out += c.N
		}
	}
	return newIndex, insAt
}

func runeAt(s string, i int) rune {
	j, n := advance(s, 0, i)
	if n < i || j >= len(s) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return r
}

func applyBoth(doc string, a, b Op) (string, error) {
	mid, err := a.Apply(doc)
	if err != nil {
		return "", err
	}
	return b.Apply(mid)
}
