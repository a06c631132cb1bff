package collab

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

// TestMemoryFlatOverStoredDocs: documents load on first use, unload a
// grace period after their last editor leaves, and a server over 100,000
// stored documents holds no more heap than one over 1,000: nothing is
// loaded or indexed per stored document at start. Joining and leaving a
// sample brings Loaded back to 0 and the goroutines back to their count
// before the editors came.
func TestMemoryFlatOverStoredDocs(t *testing.T) {
	const few, sample = 1_000, 200
	many := 100_000
	if testing.Short() {
		many = 10_000
		t.Logf("-short: %d stored documents instead of 100,000", many)
	}
	smallDB := filledStore(t, few)
	bigDB := filledStore(t, many)

	small := serveSample(t, smallDB, few, sample)
	big := serveSample(t, bigDB, many, sample)
	t.Logf("heap in use over %d docs: idle %.1f MiB, after unloading %.1f MiB", few, mib(small.idle), mib(small.after))
	t.Logf("heap in use over %d docs: idle %.1f MiB, after unloading %.1f MiB", many, mib(big.idle), mib(big.after))

	const slack = 4 << 20
	if big.idle > small.idle+slack {
		t.Errorf("idle server over %d docs uses %.1f MiB of heap, over %d docs %.1f MiB: want within %d MiB",
			many, mib(big.idle), few, mib(small.idle), slack>>20)
	}
	if big.after > small.after+slack {
		t.Errorf("after unloading, server over %d docs uses %.1f MiB of heap, over %d docs %.1f MiB: want within %d MiB",
			many, mib(big.after), few, mib(small.after), slack>>20)
	}
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// heapSample is the heap in use with the server idle before any editor
// came, and again after a sample of documents was loaded and unloaded.
type heapSample struct{ idle, after uint64 }

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// filledStore creates n documents of one op each, through many concurrent
// Appends so that they share group commits.
func filledStore(t *testing.T, n int) *bolt.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docs.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				var b ot.Builder
				rec := storage.Record{Rev: 1, Op: b.Insert(fmt.Sprintf("text of %d", i)).Op(), Client: "seed", Seq: 1}
				if err := db.Append(t.Context(), memDocID(int(i)), []storage.Record{rec}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	// Closed and opened again, so that the write-ahead log is checkpointed
	// and not counted in the heap of one store and not the other.
	if err := db.Close(); err != nil || t.Failed() {
		t.Fatalf("close after filling: %v", err)
	}
	t.Logf("stored %d documents in %v", n, time.Since(start).Round(time.Millisecond))
	if db, err = bolt.Open(path, bolt.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func memDocID(i int) string { return fmt.Sprintf("doc-%06d", i) }

// serveSample starts a server over db, measures its idle heap, then joins
// sample of the stored documents spread over all n, checks their text,
// leaves them and waits until they are unloaded and the goroutines ended.
func serveSample(t *testing.T, db *bolt.DB, n, sample int) heapSample {
	t.Helper()
	srv := NewServer(db, Options{Logger: quietLogger(), Grace: 10 * time.Millisecond, Rate: 1e6, Burst: 1e6})
	ts := httptest.NewServer(srv)
	defer func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	var h heapSample
	h.idle = heapInUse()
	base := goroutines()

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, wsURL(ts), client.Options{ClientID: "sampler", MaxRate: -1, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for k := range sample {
		i := k * (n / sample)
		d, err := conn.Join(ctx, memDocID(i))
		if err != nil {
			t.Fatalf("join %s: %v", memDocID(i), err)
		}
		if got, want := d.Text(), fmt.Sprintf("text of %d", i); got != want {
			t.Fatalf("%s text = %q, want %q", memDocID(i), got, want)
		}
		if loaded := srv.Loaded(); loaded < 1 {
			t.Fatalf("Loaded() = %d with %s joined, want >= 1", loaded, memDocID(i))
		}
		if err := d.Leave(ctx); err != nil {
			t.Fatalf("leave %s: %v", memDocID(i), err)
		}
	}
	waitFor(t, "documents to unload", func() bool { return srv.Loaded() == 0 })
	if err := conn.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitFor(t, "goroutines to end", func() bool { return goroutines() <= base })
	h.after = heapInUse()
	return h
}
