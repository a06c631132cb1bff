package ot

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	"unicode/utf8"
)

// The benchmarks in this file take BenchmarkBufferInsert apart, to show
// where the time of an insert into a big document goes.

// bufSizes are the document sizes of BenchmarkBufferInsert.
var bufSizes = []struct {
	name  string
	bytes int
}{{"1KB", 1 << 10}, {"100KB", 100 << 10}, {"1MB", 1 << 20}, {"10MB", 10 << 20}}

// bufInsertOps returns BenchmarkBufferInsert's ops for doc, in cycles of
// cycle ops: each op inserts one code point at a random position of the
// document that doc and the ops before it in its cycle make. There are
// about 16,384 ops whatever the size, so the ops take as much memory for
// 1 KB as for 10 MB, and a small document's short cycles are all
// different: if the same 64 positions came back every 64 inserts, the
// processor's branch predictors would learn them and the 1 KB figure would
// not be that of inserts at random positions.
func bufInsertOps(doc string) (ops []Op, cycle int) {
	n := utf8.RuneCountInString(doc)
	cycle = min(max(n/16, 64), 16384)
	chars := []string{"x", "y", " ", "中", "😀"}
	ops = make([]Op, cycle*max(16384/cycle, 1))
	x := uint64(7)
	for i := range ops {
		j := i % cycle
		x = x*6364136223846793005 + 1442695040888963407
		pos := int((x >> 33) % uint64(n+j+1))
		ops[i] = splice(n+j, pos, 0, chars[(x>>20)%uint64(len(chars))])
	}
	return ops, cycle
}

// BenchmarkBufferInsertBatches applies BenchmarkBufferInsert's ops the same
// way but times them in batches of 64 and reports, besides ns/op, the 5th
// percentile and the median of the batches' time per insert. On a machine
// shared with other work, a batch during which nothing else ran is a
// truer figure than the mean, which counts the time this process waits to
// be scheduled.
func BenchmarkBufferInsertBatches(b *testing.B) {
	const batch = 64
	for _, size := range bufSizes {
		b.Run(size.name, func(b *testing.B) {
			doc := mixedText(size.bytes)
			ops, cycle := bufInsertOps(doc)
			per := make([]float64, 0, b.N/batch+1)
			buf := NewBuffer(doc)
			b.ResetTimer()
			for done := 0; done < b.N; {
				if done > 0 {
					rebuildBuffer(b, &buf, doc)
				}
				c0 := done % len(ops)
				for j0 := 0; j0 < cycle && done < b.N; j0 += batch {
					m := min(batch, cycle-j0, b.N-done)
					t0 := time.Now()
					for _, op := range ops[c0+j0 : c0+j0+m] {
						if err := buf.Apply(op); err != nil {
							b.Fatal(err)
						}
					}
					per = append(per, float64(time.Since(t0).Nanoseconds())/float64(m))
					done += m
				}
			}
			b.StopTimer()
			slices.Sort(per)
			b.ReportMetric(per[len(per)/20], "p5-ns/insert")
			b.ReportMetric(per[len(per)/2], "p50-ns/insert")
		})
	}
}

// BenchmarkBufferLocate finds random positions as BenchmarkBufferInsert
// does, on a document rebuilt (timer stopped) as often, but changes
// nothing: "tree" only walks the inner nodes down to the leaf, "leaf" also
// reads the leaf up to the position as an insert does before it moves the
// bytes after it.
func BenchmarkBufferLocate(b *testing.B) {
	for _, size := range bufSizes {
		for _, part := range []string{"tree", "leaf"} {
			b.Run(size.name+"/"+part, func(b *testing.B) {
				doc := mixedText(size.bytes)
				n := utf8.RuneCountInString(doc)
				cycle := min(max(n/16, 64), 16384)
				pos := make([]int, cycle*max(16384/cycle, 1)) // as bufInsertOps
				x := uint64(7)
				for j := range pos {
					x = x*6364136223846793005 + 1442695040888963407
					pos[j] = int((x >> 33) % uint64(n+1))
				}
				buf := NewBuffer(doc)
				sum := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if i%cycle == 0 && i > 0 {
						rebuildBuffer(b, &buf, doc)
					}
					leaf, k := buf.descend(pos[i%len(pos)], true)
					if part == "tree" {
						sum += k
						continue
					}
					lr, lb := buf.leafCounts()
					sum += int(bufTouch(leaf[:lb])) + bufRuneOffset(leaf[:lb], lr, k)
				}
				benchSink = sum
			})
		}
	}
}

var benchSink int

// BenchmarkMemoryLatency is the machine's side of BenchmarkBufferInsert:
// ns/op is one load whose address depends on the previous load, at random
// over a block of the given size, one load per cache line. 1KB stays in the
// L1 cache; 16MB and 64MB are about the size of a 10 MB document's leaves
// and beyond, where a random leaf is a miss in every cache and, with 4 KiB
// pages, often in the TLB.
func BenchmarkMemoryLatency(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1KB", 1 << 10}, {"1MB", 1 << 20}, {"16MB", 16 << 20}, {"64MB", 64 << 20}} {
		b.Run(size.name, func(b *testing.B) {
			const stride = 64 / 8 // one int per 64-byte line
			lines := size.bytes / 64
			mem := make([]int, lines*stride)
			order := rand.New(rand.NewPCG(1, 2)).Perm(lines)
			for i, l := range order {
				mem[l*stride] = order[(i+1)%lines] * stride
			}
			p := 0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p = mem[p]
			}
			benchSink = p
		})
	}
}
