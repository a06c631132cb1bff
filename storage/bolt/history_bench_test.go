package bolt

import (
	"fmt"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/collabd/collab/internal/bench/procstat"
	"github.com/collabd/collab/storage"
)

// BenchmarkHistoryAt reads the text and the authorship of a document of
// 100,000 ops by four editors at revisions of every age, each
// SnapshotEvery-1 ops after a snapshot: the most a read replays. Besides
// the time it reports the process's CPU time per read, which other
// tenants of a loaded machine inflate far less than the time.
func BenchmarkHistoryAt(b *testing.B) {
	const history, every = 100_000, 1000
	opts := Options{SnapshotEvery: every}
	db, _ := openTemp(b, Options{SnapshotEvery: 1 << 30})
	clients := []string{"ann", "bob", "cy", "dee"}
	length := 0 // of the text, in code points
	// Snapshots by hand, every 1000 ops exactly, as the store takes them
	// when it keeps up.
	for rev := 0; rev < history; rev += every {
		length = extendHistoryBy(b, db, "doc", clients, rev, every, length)
		db.snapshotAll(map[string]uint64{"doc": 1}, true)
	}
	db = reopen(b, db, opts)
	for _, rev := range []uint64{every - 1, history/2 - 1, history - 1, history} {
		b.Run(fmt.Sprintf("text/rev=%d", rev), func(b *testing.B) {
			var text string
			timeCPU(b, func() {
				var err error
				if text, err = db.TextAt(ctx, "doc", rev); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(utf8.RuneCountInString(text)), "chars")
		})
		b.Run(fmt.Sprintf("authors/rev=%d", rev), func(b *testing.B) {
			var spans []storage.Span
			timeCPU(b, func() {
				var err error
				if spans, err = db.AuthorsAt(ctx, "doc", rev); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(len(spans)), "spans")
		})
	}
}

// timeCPU runs fn b.N times and reports the process's CPU time per run
// (in /proc's 10 ms ticks: give -benchtime enough runs), where /proc has it.
func timeCPU(b *testing.B, fn func()) {
	u0, err := procstat.Read(os.Getpid())
	b.ResetTimer()
	for range b.N {
		fn()
	}
	b.StopTimer()
	if u1, err1 := procstat.Read(os.Getpid()); err == nil && err1 == nil {
		b.ReportMetric(float64((u1.CPU-u0.CPU).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
