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
	for _, size := range bufSizes {
		b.Run(size.name, func(b *testing.B) {
			r := newInsertRun(size.bytes)
			per := make([]float64, 0, b.N/insertBatch+1)
			b.ResetTimer()
			for done := 0; done < b.N; {
				m, ns := r.batch(b, b.N-done)
				per = append(per, ns)
				done += m
			}
			b.StopTimer()
			b.ReportMetric(percentile(per, 5), "p5-ns/insert")
			b.ReportMetric(percentile(per, 50), "p50-ns/insert")
		})
	}
}

// BenchmarkBufferInsertRatio is the 10 MB / 1 KB ratio of one-character
// inserts measured under the same conditions: batches of inserts into a
// 10 MB and a 1 KB document alternate, so whatever else loads the machine
// during the run weighs on both. b.N counts the 10 MB inserts, each
// matched by a 1 KB insert, so ns/op is the time of the pair. It reports
// each size's median and 5th percentile of batch time per insert, and
// their ratios.
func BenchmarkBufferInsertRatio(b *testing.B) {
	benchInsertRatio(b, newInsertRun(1<<10), newInsertRun(10<<20))
}

// BenchmarkBufferInsertWarm is BenchmarkBufferInsertRatio with the leaves
// a 10 MB batch will edit read into the cache before the batch is timed:
// its 10 MB figure is an insert into a big document without the memory
// latency of its leaf, which tells how much of the ratio that latency is.
func BenchmarkBufferInsertWarm(b *testing.B) {
	big := newInsertRun(10 << 20)
	big.warm = true
	benchInsertRatio(b, newInsertRun(1<<10), big)
}

// benchInsertRatio alternates batches of big and small, as
// BenchmarkBufferInsertRatio describes, and reports the figures.
func benchInsertRatio(b *testing.B, small, big *insertRun) {
	var perSmall, perBig []float64
	b.ResetTimer()
	for done := 0; done < b.N; {
		m, ns := big.batch(b, b.N-done)
		perBig = append(perBig, ns)
		for left := m; left > 0; {
			k, ns := small.batch(b, left)
			perSmall = append(perSmall, ns)
			left -= k
		}
		done += m
	}
	b.StopTimer()
	s5, s50 := percentile(perSmall, 5), percentile(perSmall, 50)
	g5, g50 := percentile(perBig, 5), percentile(perBig, 50)
	b.ReportMetric(s50, "1KB-p50-ns")
	b.ReportMetric(g50, "10MB-p50-ns")
	b.ReportMetric(g50/s50, "p50-ratio")
	b.ReportMetric(g5/s5, "p5-ratio")
}

// insertBatch is the number of inserts timed together by
// BenchmarkBufferInsertBatches and the ratio benchmarks.
const insertBatch = 64

// insertRun applies BenchmarkBufferInsert's ops to one document in timed
// batches, rebuilding the document (timer stopped) after every cycle.
type insertRun struct {
	doc   string
	ops   []Op
	cycle int
	buf   *Buffer
	done  int  // ops applied since the start
	warm  bool // read each batch's leaves before timing it
}

func newInsertRun(bytes int) *insertRun {
	doc := mixedText(bytes)
	ops, cycle := bufInsertOps(doc)
	return &insertRun{doc: doc, ops: ops, cycle: cycle, buf: NewBuffer(doc)}
}

// batch applies the next ops, at most limit and insertBatch of them and
// never past the end of a cycle, and returns how many it applied and the
// time per insert in nanoseconds.
func (r *insertRun) batch(b *testing.B, limit int) (int, float64) {
	if r.done > 0 && r.done%r.cycle == 0 {
		rebuildBuffer(b, &r.buf, r.doc)
	}
	i := r.done % len(r.ops)
	m := min(limit, insertBatch, r.cycle-r.done%r.cycle)
	if r.warm {
		r.touchLeaves(r.ops[i : i+m])
	}
	t0 := time.Now()
	for _, op := range r.ops[i : i+m] {
		if err := r.buf.Apply(op); err != nil {
			b.Fatal(err)
		}
	}
	ns := float64(time.Since(t0).Nanoseconds()) / float64(m)
	r.done += m
	return m, ns
}

// touchLeaves reads the leaves that ops will insert into. Each op's
// position is taken in the document as it is before the first of them, so
// it is off by at most one code point per op before it (63 in a batch),
// less than a leaf holds: at worst it names the leaf next to the one the
// insert will edit.
func (r *insertRun) touchLeaves(ops []Op) {
	for _, op := range ops {
		pos := 0
		if c := op.comps[0]; c.Kind == Retain {
			pos = min(c.N, r.buf.Len())
		}
		leaf, _ := r.buf.descend(pos, true)
		r.buf.touched += bufTouch(leaf[:])
	}
}

// percentile returns the p-th percentile of xs, which it sorts.
func percentile(xs []float64, p int) float64 {
	slices.Sort(xs)
	return xs[len(xs)*p/100]
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
// L1 cache and 1MB in L2; 10MB is about the lines a 10 MB document's leaves
// fill, 16MB the memory they are allocated in, and 64MB beyond, where a
// random leaf is a miss in every cache and, with 4 KiB pages, often in the
// TLB.
func BenchmarkMemoryLatency(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"1KB", 1 << 10}, {"1MB", 1 << 20}, {"4MB", 4 << 20}, {"10MB", 10 << 20}, {"16MB", 16 << 20}, {"64MB", 64 << 20}} {
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
