package cluster_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// BenchmarkTextAtOld measures the text and the authorship at a revision
// just before a document's newest snapshot, which a cluster rebuilds from
// the document's first retained message: the worst age, for documents of
// 1,000 and 10,000 ops (a record per op, 100 per message). Without a
// snapshot at all, every revision costs what one older than the newest
// snapshot does.
func BenchmarkTextAtOld(b *testing.B) {
	ns := natstest.Run(b)
	st := open(b, []string{ns.URL()}, cluster.Options{SnapshotEvery: 1 << 40})
	ctx := context.Background()
	for _, n := range []int{1000, 10000} {
		id := fmt.Sprintf("doc%d", n)
		for i := 0; i < n; i += 100 {
			recs := make([]storage.Record, 100)
			for j := range recs {
				r := uint64(i + j + 1)
				recs[j] = rec(r, i+j, (i+j)/2, "x", fmt.Sprintf("c%d", j%3), r)
			}
			if err := st.Append(ctx, id, recs); err != nil {
				b.Fatal(err)
			}
		}
		rev := uint64(n - 1)
		b.Run(fmt.Sprintf("text/%d", n), func(b *testing.B) {
			for range b.N {
				if _, err := st.TextAt(ctx, id, rev); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("authors/%d", n), func(b *testing.B) {
			for range b.N {
				if _, err := st.AuthorsAt(ctx, id, rev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
