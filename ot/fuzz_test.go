package ot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; these f.Add calls keep a
// few cases visible next to the code.

func FuzzDecodeApply(f *testing.F) {
	f.Add([]byte(`[5,"hé😀",-3,10]`), "abcdefghijklmnopqr")
	f.Add([]byte(`["\ud83d"]`), "")
	f.Add([]byte(`[1.5]`), "a")
	f.Add([]byte(`[9007199254740992]`), "")
	f.Add([]byte(`[-0]`), "")
	f.Fuzz(func(t *testing.T, data []byte, doc string) {
		op, err := Parse(data, Limits{})
		if err != nil {
			if !isDecodeError(err) {
				t.Fatalf("Parse(%q) = %v, not one of the sentinels", data, err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("Parse accepted invalid JSON %q as %v", data, op)
		}
		if err := checkCanonical(op); err != nil {
			t.Fatal(err)
		}
		if back, err := Parse([]byte(op.String()), Limits{}); err != nil || !back.Equal(op) {
			t.Fatalf("%q decodes as %v, which re-decodes as %v, %v", data, op, back, err)
		}
		got, err := op.Apply(doc)
		if err != nil {
			if !errors.Is(err, ErrBaseLength) {
				t.Fatalf("Apply(%q) = %v, want ErrBaseLength", doc, err)
			}
			return
		}
		inv, err := op.Invert(doc)
		if err != nil {
			t.Fatalf("Invert: %v", err)
		}
		if back, err := inv.Apply(got); err != nil || back != doc {
			t.Fatalf("%v on %q, inverted by %v, gives %q, %v", op, doc, inv, back, err)
		}
	})
}

func isDecodeError(err error) bool {
	for _, s := range []error{ErrZeroCount, ErrBadNumber, ErrInvalidText, ErrTooLarge, ErrSyntax} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzTransform(f *testing.F) {
	f.Add("abc", []byte{0, 5, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add("😀👩\u200d👧", []byte{2, 0, 0, 2, 0, 1, 9, 9})
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		doc = fuzzDoc(doc)
		n := utf8.RuneCountInString(doc)
		a, rest := fuzzOp(data, n)
		b, _ := fuzzOp(rest, n)
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Fatalf("Transform(%v, %v): %v", a, b, err)
		}
		if err := errors.Join(checkCanonical(ap), checkCanonical(bp)); err != nil {
			t.Fatal(err)
		}
		x, err1 := applyBoth(doc, a, bp)
		y, err2 := applyBoth(doc, b, ap)
		if err1 != nil || err2 != nil || x != y {
			t.Fatalf("TP1 fails on %q: a=%v b=%v a'=%v b'=%v: %q (%v) vs %q (%v)", doc, a, b, ap, bp, x, err1, y, err2)
		}
	})
}

func FuzzCompose(f *testing.F) {
	f.Add("abc", []byte{0, 5, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add("漢字e\u0301", []byte{1, 3, 2, 8, 0, 0, 4, 1})
	f.Fuzz(func(t *testing.T, doc string, data []byte) {
		doc = fuzzDoc(doc)
		a, rest := fuzzOp(data, utf8.RuneCountInString(doc))
		b, _ := fuzzOp(rest, a.TargetLen())
		ab, err := Compose(a, b)
		if err != nil {
			t.Fatalf("Compose(%v, %v): %v", a, b, err)
		}
		if err := checkCanonical(ab); err != nil {
			t.Fatal(err)
		}
		want, err1 := applyBoth(doc, a, b)
		got, err2 := ab.Apply(doc)
		if err1 != nil || err2 != nil || got != want {
			t.Fatalf("on %q, Compose(%v, %v) = %v gives %q (%v), sequential %q (%v)", doc, a, b, ab, got, err2, want, err1)
		}
	})
}

func FuzzDiff(f *testing.F) {
	f.Add("hello world", "hello big world")
	f.Add("aéc", "aébéc")
	f.Add("😀😀😀", "😀😁😀")
	f.Add("a\xffb", "ab\xfe")
	f.Fuzz(func(t *testing.T, before, after string) {
		op := Diff(before, after)
		if err := checkCanonical(op); err != nil {
			t.Fatal(err)
		}
		got, err := op.Apply(before)
		if err != nil {
			t.Fatalf("Diff(%q, %q) = %v does not apply: %v", before, after, op, err)
		}
		for i := 0; i < op.Len(); i++ {
			if c := op.Component(i); c.Kind == Insert && !utf8.ValidString(c.Text) {
				t.Fatalf("Diff(%q, %q) = %v inserts invalid UTF-8", before, after, op)
			}
		}
		if utf8.ValidString(before) && utf8.ValidString(after) && got != after {
			t.Fatalf("Diff(%q, %q) = %v gives %q", before, after, op, got)
		}
	})
}

// fuzzDoc makes a fuzzed document valid UTF-8 of modest length.
func fuzzDoc(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if j, _ := advance(s, 0, 64); j < len(s) {
		s = s[:j]
	}
	return s
}

// fuzzOp builds an op over baseLen code points from fuzz bytes and returns
// the bytes it did not use. Each byte picks a kind and a count; inserted
// characters come from genAlphabet. Bytes running out retain the rest.
func fuzzOp(data []byte, baseLen int) (Op, []byte) {
	var b Builder
	rem := baseLen
	for len(data) > 0 {
		x := data[0]
		data = data[1:]
		n := 1 + int(x>>2)%8
		switch x % 4 {
		case 0, 1:
			n = min(n, rem)
			b.Retain(n)
			rem -= n
		case 2:
			var s strings.Builder
			for range n {
				if len(data) == 0 {
					break
				}
				s.WriteString(genAlphabet[int(data[0])%len(genAlphabet)])
				data = data[1:]
			}
			b.Insert(s.String())
		default:
			n = min(n, rem)
			b.Delete(n)
			rem -= n
		}
		if rem == 0 && (len(data) == 0 || data[0]%4 != 2) {
			break
		}
	}
	b.Retain(rem)
	return b.Op(), data
}
