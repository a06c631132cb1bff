package ot

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// splice builds the op "at pos, delete del code points, insert ins" on a
// document of n code points.
func splice(n, pos, del int, ins string) Op {
	var b Builder
	return b.Retain(pos).Delete(del).Insert(ins).Retain(n - pos - del).Op()
}

// withShape shrinks the tree's node sizes for one test so that splits and
// merges happen on small documents.
func withShape(t testing.TB, leaf, kids int) {
	t.Helper()
	oldLeaf, oldKids := bufLeafMax, bufKidsMax
	bufLeafMax, bufKidsMax = leaf, kids
	t.Cleanup(func() { bufLeafMax, bufKidsMax = oldLeaf, oldKids })
}

// checkTree verifies the tree's invariants: cached counts are right, every
// leaf is whole valid UTF-8 within bufLeafMax, no leaf is empty unless it is
// the document's only one, inner nodes have 1 to bufKidsMax children of one
// kind (leaves or inner nodes) and no stale pointers, all leaves are at one
// depth, and an inner root has at least two children.
func checkTree(t testing.TB, b *Buffer) {
	t.Helper()
	leafDepth := -1
	var walk func(n *bufInner, depth int) (runes, bytes int)
	walk = func(n *bufInner, depth int) (int, int) {
		if n.n < 1 || n.n > bufKidsMax {
			t.Fatalf("depth %d: inner node with %d kids (max %d)", depth, n.n, bufKidsMax)
		}
		for i := range bufKidsCap {
			unusedLeaf := n.lrunes[i] == 0 && n.lbytes[i] == 0 && n.leaves[i] == nil
			unusedInner := n.runes[i] == 0 && n.bytes[i] == 0 && n.kids[i] == nil
			if (i >= n.n || !n.leafy) && !unusedLeaf || (i >= n.n || n.leafy) && !unusedInner {
				t.Fatalf("depth %d: slot %d (of %d kids, leafy %v) is not cleared", depth, i, n.n, n.leafy)
			}
		}
		runes, bytes := 0, 0
		for i := range n.n {
			var r, by int
			if n.leafy {
				if n.kids[i] != nil || n.leaves[i] == nil {
					t.Fatalf("depth %d kid %d: leafy node holds an inner node or nil", depth, i)
				}
				if leafDepth >= 0 && depth != leafDepth {
					t.Fatalf("leaves at depth %d and %d", depth, leafDepth)
				}
				leafDepth = depth
				by = int(n.lbytes[i])
				if by < 0 || by > bufLeafMax {
					t.Fatalf("leaf of %d bytes, max %d", by, bufLeafMax)
				}
				text := n.leaves[i][:by]
				if !utf8.Valid(text) {
					t.Fatalf("leaf holds invalid UTF-8: %q", text)
				}
				if by == 0 && (n != b.root || n.n != 1) {
					t.Fatalf("empty leaf that is not the document's only one")
				}
				r = utf8.RuneCount(text)
			} else {
				if n.leaves[i] != nil || n.kids[i] == nil {
					t.Fatalf("depth %d kid %d: inner node holds a leaf or nil", depth, i)
				}
				r, by = walk(n.kids[i], depth+1)
			}
			if cr, cb := n.count(i); r != cr || by != cb {
				t.Fatalf("depth %d kid %d: cached counts %d runes %d bytes, holds %d, %d",
					depth, i, cr, cb, r, by)
			}
			runes += r
			bytes += by
		}
		return runes, bytes
	}
	runes, bytes := walk(b.root, 0)
	if runes != b.runes || bytes != b.bytes {
		t.Fatalf("buffer counts %d runes %d bytes, tree holds %d, %d", b.runes, b.bytes, runes, bytes)
	}
	if !b.root.leafy && b.root.n == 1 {
		t.Fatalf("inner root with one kid")
	}
}

func TestBufferApply(t *testing.T) {
	emoji := "😀" // 4 bytes
	long := strings.Repeat("ab中"+emoji+"e\u0301", 40)
	tests := []struct {
		name string
		doc  string
		op   func(n int) Op
		want string
	}{
		{"empty doc, no-op", "", func(int) Op { return Op{} }, ""},
		{"empty doc, insert", "", func(n int) Op { return splice(n, 0, 0, "hé😀") }, "hé😀"},
		{"insert at start", "world", func(n int) Op { return splice(n, 0, 0, "hello ") }, "hello world"},
		{"insert in middle", "held", func(n int) Op { return splice(n, 2, 0, "llo wor") }, "hello world"},
		{"insert at end", "hello", func(n int) Op { return splice(n, n, 0, " world") }, "hello world"},
		{"delete all", "中文😀", func(n int) Op { return splice(n, 0, n, "") }, ""},
		{"replace astral", "a😀b", func(n int) Op { return splice(n, 1, 1, "𝄞") }, "a𝄞b"},
		{"delete combining mark only", "e\u0301x", func(n int) Op { return splice(n, 1, 1, "") }, "ex"},
		{"delete across leaves", long, func(n int) Op { return splice(n, 3, n-6, "") },
			string([]rune(long)[:3]) + string([]rune(long)[len([]rune(long))-3:])},
		{"insert long text in middle", "ab", func(n int) Op { return splice(n, 1, 0, long) }, "a" + long + "b"},
		{"many components", "abcdefghij", func(int) Op {
			var b Builder
			return b.Retain(1).Delete(2).Retain(2).Insert("中文").Retain(1).Delete(3).Insert("😀").Retain(1).Op()
		}, "ade中文f😀j"},
	}
	for _, shape := range []struct{ leaf, kids int }{{bufLeafMax, bufKidsMax}, {8, 4}, {5, 4}} {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				withShape(t, shape.leaf, shape.kids)
				b := NewBuffer(tt.doc)
				checkTree(t, b)
				if err := b.Apply(tt.op(b.Len())); err != nil {
					t.Fatalf("Apply: %v", err)
				}
				checkTree(t, b)
				if got := b.String(); got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
				if got, want := b.Len(), utf8.RuneCountInString(tt.want); got != want {
					t.Errorf("Len() = %d, want %d", got, want)
				}
			})
		}
	}
}

// TestBufferLeafBoundaries puts multi-byte code points exactly where leaves
// split, with leaves so small that every split lands next to one.
func TestBufferLeafBoundaries(t *testing.T) {
	for _, leaf := range []int{4, 5, 6, 7, 8, 9} {
		withShape(t, leaf, 4)
		pieces := []string{"😀", "中", "é", "e\u0301", "a", "👩\u200d👩\u200d👧", "𝄞"}
		var want []rune
		b := NewBuffer("")
		for i := 0; i < 300; i++ {
			p := pieces[i%len(pieces)]
			pos := (i * 7) % (len(want) + 1)
			if err := b.Apply(splice(len(want), pos, 0, p)); err != nil {
				t.Fatalf("leaf %d step %d: %v", leaf, i, err)
			}
			want = append(want[:pos], append([]rune(p), want[pos:]...)...)
			checkTree(t, b)
		}
		if got := b.String(); got != string(want) {
			t.Fatalf("leaf %d: got %q, want %q", leaf, got, string(want))
		}
		for len(want) > 0 {
			pos := (len(want) * 5) % len(want)
			del := min(len(want)-pos, 1+len(want)%11)
			if err := b.Apply(splice(len(want), pos, del, "")); err != nil {
				t.Fatalf("leaf %d: delete: %v", leaf, err)
			}
			want = append(want[:pos], want[pos+del:]...)
			checkTree(t, b)
			if got := b.String(); got != string(want) {
				t.Fatalf("leaf %d: got %q, want %q", leaf, got, string(want))
			}
		}
	}
}

func TestBufferSlice(t *testing.T) {
	withShape(t, 8, 4)
	doc := strings.Repeat("a中😀e\u0301𝄞bc", 30)
	rs := []rune(doc)
	b := NewBuffer(doc)
	for from := 0; from <= len(rs); from += 3 {
		for to := from; to <= len(rs); to += 7 {
			if got, want := b.Slice(from, to), string(rs[from:to]); got != want {
				t.Fatalf("Slice(%d, %d) = %q, want %q", from, to, got, want)
			}
		}
	}
	if got := b.Slice(0, len(rs)); got != doc {
		t.Errorf("Slice(0, Len) = %q, want the whole text", got)
	}
}

func TestBufferSliceOutOfRangePanics(t *testing.T) {
	b := NewBuffer("abc")
	for _, r := range [][2]int{{-1, 1}, {2, 1}, {0, 4}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Slice(%d, %d) did not panic", r[0], r[1])
				}
			}()
			b.Slice(r[0], r[1])
		}()
	}
}

func TestBufferApplyErrorLeavesBufferUnchanged(t *testing.T) {
	withShape(t, 8, 4)
	doc := strings.Repeat("héllo 😀 ", 20)
	b := NewBuffer(doc)
	n := b.Len()
	bad := []struct {
		name string
		op   Op
		is   error
	}{
		{"too short", splice(n-1, 0, 0, "x"), ErrBaseLength},
		{"too long", splice(n+1, 3, 2, "x"), ErrBaseLength},
		{"empty op on non-empty doc", Op{}, ErrBaseLength},
		{"inconsistent base length", Op{comps: []Component{{Kind: Retain, N: 1}}, baseLen: n, targetLen: n}, ErrBaseLength},
		{"delete past the end", Op{comps: []Component{{Kind: Delete, N: n + 1}}, baseLen: n}, ErrPastEnd},
		{"zero count", Op{comps: []Component{{Kind: Retain, N: 0}, {Kind: Retain, N: n}}, baseLen: n, targetLen: n}, ErrZeroCount},
		{"invalid text", Op{comps: []Component{{Kind: Insert, N: 1, Text: "\xff"}, {Kind: Retain, N: n}}, baseLen: n, targetLen: n + 1}, ErrInvalidText},
		{"unknown kind", Op{comps: []Component{{Kind: 9, N: n}}, baseLen: n, targetLen: n}, ErrSyntax},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			err := b.Apply(tt.op)
			if !errors.Is(err, tt.is) {
				t.Fatalf("Apply err = %v, want %v", err, tt.is)
			}
			if got := b.String(); got != doc {
				t.Fatalf("document changed to %q", got)
			}
			checkTree(t, b)
		})
	}
	var le *LengthError
	if err := b.Apply(splice(n-1, 0, 0, "x")); !errors.As(err, &le) || le.Want != n-1 || le.Got != n {
		t.Errorf("Apply err = %#v, want &LengthError{Want: %d, Got: %d}", err, n-1, n)
	}
}

func TestNewBufferInvalidUTF8(t *testing.T) {
	s := "a\xffb\xe4\xb8c"
	b := NewBuffer(s)
	if got, want := b.Len(), utf8.RuneCountInString(s); got != want {
		t.Errorf("Len() = %d, want %d", got, want)
	}
	if got, want := b.String(), "a\uFFFDb\uFFFD\uFFFDc"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	checkTree(t, b)
}

func TestBufferWriteTo(t *testing.T) {
	withShape(t, 8, 4)
	doc := strings.Repeat("wörld 中 😀 ", 50)
	b := NewBuffer(doc)
	var sb strings.Builder
	n, err := b.WriteTo(&sb)
	if err != nil || n != int64(len(doc)) || sb.String() != doc {
		t.Errorf("WriteTo = %d, %v, text equal %v; want %d, nil, true", n, err, sb.String() == doc, len(doc))
	}
}

// randText returns n code points mixing ASCII, CJK, astral emoji and
// combining marks.
func randText(r *rand.Rand, n int) string {
	pool := []rune("abcdefgh ijklmnop\n中文字漢😀🎉𝄞\u0301\u0308éß")
	rs := make([]rune, n)
	for i := range rs {
		if r.IntN(3) == 0 {
			rs[i] = pool[r.IntN(len(pool))]
		} else {
			rs[i] = rune('a' + r.IntN(26))
		}
	}
	return string(rs)
}

// randOp returns a random op over a document of n code points: a few
// retains, deletes and inserts of random lengths.
func randOp(r *rand.Rand, n int) Op {
	var b Builder
	pos := 0
	for pos < n || r.IntN(3) == 0 {
		switch r.IntN(4) {
		case 0:
			b.Insert(randText(r, 1+r.IntN(r.IntN(40)+1)))
		case 1:
			if pos < n {
				d := 1 + r.IntN(min(n-pos, 1+r.IntN(60)))
				b.Delete(d)
				pos += d
			}
		default:
			if pos < n {
				k := 1 + r.IntN(min(n-pos, 1+r.IntN(80)))
				b.Retain(k)
				pos += k
			}
		}
		if pos == n && r.IntN(2) == 0 {
			break
		}
	}
	return b.Op()
}

func TestBufferRandomOps(t *testing.T) {
	shapes := []struct{ leaf, kids int }{{4, 4}, {7, 4}, {16, 5}, {64, 8}, {bufLeafMax, bufKidsMax}}
	for si, shape := range shapes {
		withShape(t, shape.leaf, shape.kids)
		r := rand.New(rand.NewPCG(uint64(si), 42))
		for doc := 0; doc < 6; doc++ {
			want := randText(r, r.IntN(500))
			b := NewBuffer(want)
			checkTree(t, b)
			steps := 600
			if testing.Short() {
				steps = 100
			}
			for step := 0; step < steps; step++ {
				op := randOp(r, b.Len())
				var err error
				if want, err = op.Apply(want); err != nil {
					t.Fatal(err)
				}
				if err := b.Apply(op); err != nil {
					t.Fatalf("shape %v doc %d step %d: Apply: %v", shape, doc, step, err)
				}
				checkTree(t, b)
				if got := b.String(); got != want {
					t.Fatalf("shape %v doc %d step %d: got %q, want %q", shape, doc, step, got, want)
				}
				rs := []rune(want)
				from := r.IntN(len(rs) + 1)
				to := from + r.IntN(len(rs)-from+1)
				if got := b.Slice(from, to); got != string(rs[from:to]) {
					t.Fatalf("Slice(%d, %d) = %q, want %q", from, to, got, string(rs[from:to]))
				}
			}
		}
	}
}

// FuzzBuffer interprets the input as a start text and a stream of edits
// and checks Buffer against Op.Apply after each, with tiny leaves.
func FuzzBuffer(f *testing.F) {
	f.Add("hello, world", []byte{0, 3, 1, 200, 7, 2, 9, 9, 9})
	f.Add("中文😀e\u0301", []byte{1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4})
	f.Add("", []byte{5, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, doc string, edits []byte) {
		withShape(t, 6, 4)
		if !utf8.ValidString(doc) {
			doc = bufReplaceInvalid(doc)
		}
		b := NewBuffer(doc)
		want := doc
		pieces := []string{"a", "😀", "中文", "e\u0301", "xyz", "👩\u200d👧", ""}
		for len(edits) >= 3 {
			n := b.Len()
			pos := int(edits[0]) % (n + 1)
			del := int(edits[1]) % (n - pos + 1)
			ins := strings.Repeat(pieces[int(edits[2])%len(pieces)], 1+int(edits[2])/32)
			edits = edits[3:]
			op := splice(n, pos, del, ins)
			var err error
			if want, err = op.Apply(want); err != nil {
				t.Fatal(err)
			}
			if err := b.Apply(op); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			checkTree(t, b)
			if got := b.String(); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
			rs := []rune(want)
			from := pos % (len(rs) + 1)
			if got := b.Slice(from, len(rs)); got != string(rs[from:]) {
				t.Fatalf("Slice(%d, %d) = %q, want %q", from, len(rs), got, string(rs[from:]))
			}
		}
	})
}

func TestBufRuneOffset(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 2000; i++ {
		s := randText(r, r.IntN(150))
		rs := []rune(s)
		for k := 0; k <= len(rs); k++ {
			if got, want := bufRuneOffset([]byte(s), len(rs), k), len(string(rs[:k])); got != want {
				t.Fatalf("bufRuneOffset(%q, %d) = %d, want %d", s, k, got, want)
			}
		}
	}
}
