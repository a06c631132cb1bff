package cluster_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// BenchmarkAppend measures commits of one record through one Store to a
// single in-process NATS server (R1, file storage): one document in a row
// (the latency of a commit), and many documents at once.
func BenchmarkAppend(b *testing.B) {
	ns := natstest.Run(b)
	st := open(b, []string{ns.URL()}, cluster.Options{})
	ctx := context.Background()
	var rev uint64 // the function below runs several times on one document
	b.Run("one-doc", func(b *testing.B) {
		for range b.N {
			rev++
			r := rec(rev, int(rev-1), int(rev-1), "x", "c", rev)
			if err := st.Append(ctx, "one", []storage.Record{r}); err != nil {
				b.Fatal(err)
			}
		}
	})
	var next atomic.Int64 // every run of the function below uses new documents
	b.Run("parallel-docs", func(b *testing.B) {
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			id := fmt.Sprintf("p%d", next.Add(1))
			for rev := uint64(1); pb.Next(); rev++ {
				r := rec(rev, int(rev-1), 0, "x", "c", rev)
				if err := st.Append(ctx, id, []storage.Record{r}); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkLoad measures loading a document of 1,000 ops whose newest
// snapshot is up to SnapshotEvery (256) ops old.
func BenchmarkLoad(b *testing.B) {
	ns := natstest.Run(b)
	st := open(b, []string{ns.URL()}, cluster.Options{})
	ctx := context.Background()
	for i := range 1000 {
		if err := st.Append(ctx, "doc", []storage.Record{rec(uint64(i+1), i, i, "x", "c", uint64(i+1))}); err != nil {
			b.Fatal(err)
		}
	}
	other := open(b, []string{ns.URL()}, cluster.Options{}) // no cached state
	b.ResetTimer()
	for range b.N {
		if _, err := other.Load(ctx, "doc"); err != nil {
			b.Fatal(err)
		}
	}
}
