package cluster_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// BenchmarkRelayAfterLoad measures, on a three-server NATS cluster with
// the stream replicated three times (R3), how long a commit by one node
// takes to reach another node that has just loaded the document and
// started following it: the first relay of a fresh feed. It reports the
// median, the 99th percentile and the longest.
func BenchmarkRelayAfterLoad(b *testing.B) {
	ns := natstest.RunCluster(b, 3)
	urls := natstest.URLs(ns)
	opts := cluster.Options{Replicas: 3, Heartbeat: 2 * time.Second}
	writer := open(b, urls[:1], opts)
	ropts := opts
	if testing.Verbose() { // the feed's consumer errors, as in the diagnosis in docs/benchmarks.md
		ropts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reader := open(b, urls[1:2], ropts)
	ctx := context.Background()
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("relay-%d-%d", b.N, i)
		if err := writer.Append(ctx, id, []storage.Record{rec(1, 0, 0, "a", "w", 1)}); err != nil {
			b.Fatal(err)
		}
		doc, err := reader.Load(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		fctx, cancel := context.WithCancel(ctx)
		feed, err := reader.Follow(fctx, id, doc.Rev)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := writer.Append(ctx, id, []storage.Record{rec(2, 1, 1, "b", "w", 2)}); err != nil {
			b.Fatal(err)
		}
		r, ok := <-feed
		times = append(times, time.Since(start))
		cancel()
		for range feed {
		}
		if !ok || r.Rev != 2 {
			b.Fatalf("feed gave %+v, %v; want revision 2", r, ok)
		}
	}
	b.StopTimer()
	slices.Sort(times)
	q := func(p float64) float64 { return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(q(1), "max-ms")
	slow := 0
	for _, d := range times {
		if d > time.Second {
			slow++
		}
	}
	b.ReportMetric(float64(slow), "over-1s")
	b.ReportMetric(0, "ns/op")
}
