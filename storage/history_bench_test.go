package storage

import (
	"fmt"
	"testing"
)

// BenchmarkHistoryAt reads the text and the authorship of a document of
// 100,000 ops by four editors at revisions of every age, each
// SnapshotEvery-1 ops after a snapshot: the most a read replays.
func BenchmarkHistoryAt(b *testing.B) {
	const history, every = 100_000, 1000
	opts := Options{SnapshotEvery: every}
	db, _ := openTemp(b, Options{SnapshotEvery: 1 << 30})
	clients := []string{"ann", "bob", "cy", "dee"}
	length := 0
	// Snapshots by hand, every 1000 ops exactly, as the store takes them
	// when it keeps up.
	for rev := 0; rev < history; rev += every {
		length = extendHistoryBy(b, db, "doc", clients, rev, every, length)
		db.snapshotAll(map[string]uint64{"doc": 1}, true)
	}
	db = reopen(b, db, opts)
	for _, rev := range []uint64{every - 1, history/2 - 1, history - 1, history} {
		b.Run(fmt.Sprintf("text/rev=%d", rev), func(b *testing.B) {
			for range b.N {
				if _, err := db.TextAt(ctx, "doc", rev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("authors/rev=%d", rev), func(b *testing.B) {
			var spans []Span
			for range b.N {
				var err error
				if spans, err = db.AuthorsAt(ctx, "doc", rev); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(spans)), "spans")
		})
	}
	b.ReportMetric(float64(length), "chars")
}
