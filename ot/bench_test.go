package ot

import (
	"strings"
	"testing"
)

// benchPair returns two concurrent 10-component ops over a 200-character
// document, with inserts of mixed scripts.
func benchPair(b *testing.B) (Op, Op) {
	b.Helper()
	x := parseOp(b, `[10,"héllo",5,-3,20,"😀👍",30,-10,"漢字",122]`)
	y := parseOp(b, `[12,-5,"wörld",40,"e\u0301",13,-7,50,"🇫🇷",73]`)
	if x.Len() != 10 || y.Len() != 10 || x.BaseLen() != y.BaseLen() {
		b.Fatalf("bad fixtures: %d, %d components, base %d vs %d", x.Len(), y.Len(), x.BaseLen(), y.BaseLen())
	}
	return x, y
}

func BenchmarkTransform10(b *testing.B) {
	x, y := benchPair(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Transform(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompose10(b *testing.B) {
	x, _ := benchPair(b)
	y := parseOp(b, `[12,-5,"wörld",40,"e\u0301",13,-7,50,"🇫🇷",69]`)
	if y.BaseLen() != x.TargetLen() || y.Len() != 10 {
		b.Fatalf("bad fixture: base %d, want %d", y.BaseLen(), x.TargetLen())
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compose(x, y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply10KB applies a typical keystroke-sized op to a 10 KB
// mixed-script document.
func BenchmarkApply10KB(b *testing.B) {
	doc := strings.Repeat("The quick brown fox jumps 😀 漢字 é.\n", 10_000/40)
	n := len([]rune(doc))
	var bl Builder
	op := bl.Retain(n / 2).Insert("typed").Delete(3).Retain(n - n/2 - 3).Op()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := op.Apply(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode decodes a typical submitted op.
func BenchmarkDecode(b *testing.B) {
	data := []byte(`[1234,"hello wörld 😀",-3,5678]`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEscaped decodes an op whose text uses escapes, as
// JSON.stringify writes control characters and some clients write non-ASCII.
func BenchmarkDecodeEscaped(b *testing.B) {
	data := []byte(`[1234,"line\nnext \u00e9 \ud83d\ude00",-3,5678]`)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	op := parseOp(b, `[1234,"hello wörld 😀\n",-3,5678]`)
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = op.AppendJSON(buf[:0])
	}
}

func BenchmarkDiff(b *testing.B) {
	before := strings.Repeat("The quick brown fox jumps 😀 漢字 é.\n", 100)
	after := before[:len(before)/2] + "typed " + before[len(before)/2+10:]
	b.ReportAllocs()
	for b.Loop() {
		Diff(before, after)
	}
}
