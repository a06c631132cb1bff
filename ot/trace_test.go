package ot

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"unicode/utf8"
)

// The real editing traces in ../testdata/traces (CC BY 4.0; see the README
// there): keystroke-by-keystroke recordings of people writing documents.
var traceNames = []string{"automerge-paper", "seph-blog1", "rustcode", "sveltecomponent"}

// trace is one decoded trace: its final text and every patch as an op.
type trace struct {
	end string
	ops []Op
}

type traceFile struct {
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	Txns         []struct {
		Patches [][3]any `json:"patches"`
	} `json:"txns"`
}

var traceCache sync.Map // name → *trace

// loadTrace reads a trace and turns each patch [pos, del, ins] on a document
// of n code points into the op retain pos, delete del, insert ins, retain
// the rest.
func loadTrace(tb testing.TB, name string) *trace {
	tb.Helper()
	if tr, ok := traceCache.Load(name); ok {
		return tr.(*trace)
	}
	f, err := os.Open(filepath.Join("..", "testdata", "traces", name+".json.gz"))
	if err != nil {
		tb.Fatalf("open trace: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatalf("trace %s: %v", name, err)
	}
	var tf traceFile
	if err := json.NewDecoder(zr).Decode(&tf); err != nil {
		tb.Fatalf("trace %s: %v", name, err)
	}
	tr := &trace{end: tf.EndContent}
	n := utf8.RuneCountInString(tf.StartContent)
	for ti, txn := range tf.Txns {
		for pi, p := range txn.Patches {
			pos, ok1 := p[0].(float64)
			del, ok2 := p[1].(float64)
			ins, ok3 := p[2].(string)
			if !ok1 || !ok2 || !ok3 || pos < 0 || del < 0 || int(pos)+int(del) > n {
				tb.Fatalf("trace %s txn %d patch %d: bad patch %v on %d code points", name, ti, pi, p, n)
			}
			tr.ops = append(tr.ops, splice(n, int(pos), int(del), ins))
			n += utf8.RuneCountInString(ins) - int(del)
		}
	}
	traceCache.Store(name, tr)
	return tr
}

// TestTraces replays every trace through a Buffer: the result must be the
// trace's final text exactly, and at sampled steps the Buffer must agree
// with Op.Apply of the same op on its text.
func TestTraces(t *testing.T) {
	for _, name := range traceNames {
		t.Run(name, func(t *testing.T) {
			tr := loadTrace(t, name)
			b := NewBuffer("")
			sample := max(len(tr.ops)/200, 1)
			for i, op := range tr.ops {
				var want string
				check := i%sample == 0
				if check {
					var err error
					if want, err = op.Apply(b.String()); err != nil {
						t.Fatalf("edit %d: reference: %v", i, err)
					}
				}
				if err := b.Apply(op); err != nil {
					t.Fatalf("edit %d: Apply: %v", i, err)
				}
				if check {
					if got := b.String(); got != want {
						t.Fatalf("edit %d: Buffer and reference apply differ", i)
					}
				}
			}
			checkTree(t, b)
			if got := b.String(); got != tr.end {
				t.Fatalf("replay gives %d code points, endContent has %d; texts differ",
					b.Len(), utf8.RuneCountInString(tr.end))
			}
			if got, want := b.Len(), utf8.RuneCountInString(tr.end); got != want {
				t.Fatalf("Len() = %d, want %d", got, want)
			}
		})
	}
}

// BenchmarkTrace replays a whole trace into an empty Buffer per iteration:
// ns/op is the time for the whole trace. The ops are built beforehand.
func BenchmarkTrace(b *testing.B) {
	for _, name := range traceNames {
		b.Run(name, func(b *testing.B) {
			tr := loadTrace(b, name)
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			var buf *Buffer
			for i := 0; i < b.N; i++ {
				buf = NewBuffer("")
				for _, op := range tr.ops {
					if err := buf.Apply(op); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			edits := float64(b.N) * float64(len(tr.ops))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/edits, "ns/edit")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/edits, "allocs/edit")
			if buf.String() != tr.end {
				b.Fatal("replay does not give endContent")
			}
		})
	}
}

// mixedText returns about size bytes of prose that is mostly ASCII with
// some CJK and emoji, so that leaves need UTF-8 walking.
func mixedText(size int) string {
	words := []string{"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "中文", "字", "😀", "é", "editing", "server"}
	buf := make([]byte, 0, size+16)
	x := uint32(1)
	for len(buf) < size {
		x = x*1664525 + 1013904223
		buf = append(buf, words[(x>>16)%uint32(len(words))]...)
		buf = append(buf, ' ')
	}
	return string(buf)
}

// BenchmarkBufferInsert measures one-character inserts at random positions
// in documents of 1 KB to 10 MB; ns/op is per insert. The document is
// rebuilt (timer stopped) after every cycle of inserts so that it grows by
// at most 1/16 (1 KB) and much less for the big ones. The ops, about 16,384
// at every size, come from bufInsertOps: each cycle of a small document
// inserts at different positions.
func BenchmarkBufferInsert(b *testing.B) {
	for _, size := range bufSizes {
		b.Run(size.name, func(b *testing.B) {
			doc := mixedText(size.bytes)
			ops, cycle := bufInsertOps(doc)
			buf := NewBuffer(doc)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%cycle == 0 && i > 0 {
					rebuildBuffer(b, &buf, doc)
				}
				if err := buf.Apply(ops[i%len(ops)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// rebuildBuffer replaces *buf with a new Buffer of doc, the timer
// stopped. The old one of a big document (1 MB and up) is collected now,
// not during the timed inserts.
func rebuildBuffer(b *testing.B, buf **Buffer, doc string) {
	b.StopTimer()
	defer b.StartTimer()
	*buf = NewBuffer(doc)
	if len(doc) > 512<<10 {
		runtime.GC()
	}
}
