package bolt

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// TestCheckpointByBytes: a log of few, large records is checkpointed by its
// bytes long before CheckpointEvery records pile up, and writers faster
// than the checkpoint wait for it, so the heap after GC stays within a
// bound computed from CheckpointBytes while two writers commit 15 MiB.
func TestCheckpointByBytes(t *testing.T) {
	const (
		limit   = 1 << 20
		opBytes = 128 << 10
		perDoc  = 60
	)
	db, _ := openTemp(t, Options{CheckpointBytes: limit, SnapshotEvery: 1 << 30})
	base := heapAfterGC()
	// The log may hold 2 × limit before commits wait, plus the records of
	// the commit that crossed it (one per writer); a checkpoint's
	// transaction holds a copy of what it moves.
	bound := base + 2*(2*limit+2*2*opBytes) + 4<<20
	var peak uint64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		wg.Go(func() {
			length := 0
			for rev := 1; rev <= perDoc; rev++ {
				text := strings.Repeat(string(rune('a'+rev%26)), opBytes)
				var b ot.Builder
				b.Delete(length)
				b.Insert(text)
				if err := db.Append(context.Background(), id, []storage.Record{{Rev: uint64(rev), Op: b.Op()}}); err != nil {
					t.Errorf("Append %s rev %d: %v", id, rev, err)
					return
				}
				length = len(text)
				if rev%10 == 0 {
					h := heapAfterGC()
					mu.Lock()
					peak = max(peak, h)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	st := db.Stats()
	t.Logf("heap before %.1f MiB, peak after GC %.1f MiB (bound %.1f MiB); %d checkpoints, %d commits waited; log now %d bytes",
		mb(base), mb(peak), mb(bound), st.Checkpoints, st.LogWaits, st.LogBytes)
	if peak > bound {
		t.Errorf("heap after GC reached %.1f MiB writing %d MiB, want under %.1f MiB", mb(peak), 2*perDoc*opBytes>>20, mb(bound))
	}
	if st.Checkpoints == 0 {
		t.Errorf("no checkpoint after %d records of %d KiB", 2*perDoc, opBytes>>10)
	}
	if st.LogBytes > 2*limit+2*2*opBytes+4096 {
		t.Errorf("log holds %d bytes, want at most about 2 × %d", st.LogBytes, limit)
	}
	for _, id := range []string{"a", "b"} {
		if d, err := db.Load(context.Background(), id); err != nil || d.Rev != perDoc || d.Length != opBytes {
			t.Errorf("Load(%s) = rev %d length %d, %v", id, d.Rev, d.Length, err)
		}
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }

// TestCommitsWaitForCheckpoint: while a checkpoint is held up, commits go
// on until the log holds twice CheckpointBytes, then wait for it: the log
// in memory never grows past that by more than one commit's records.
func TestCommitsWaitForCheckpoint(t *testing.T) {
	const (
		limit   = 1 << 20
		opBytes = 64 << 10
		n       = 100 // 6.4 MiB, three times what the log may hold
	)
	db, _ := openTemp(t, Options{CheckpointBytes: limit, SnapshotEvery: 1 << 30})
	release := make(chan struct{})
	var once sync.Once
	db.afterSlice = func() { once.Do(func() { <-release }) } // the first checkpoint stalls
	var most int
	db.beforeCommit = func(int) { most = max(most, db.logBytes()) }
	done := make(chan error, 1)
	go func() {
		length := 0
		for rev := 1; rev <= n; rev++ {
			var b ot.Builder
			b.Delete(length)
			b.Insert(strings.Repeat("x", opBytes))
			if err := db.Append(context.Background(), "doc", []storage.Record{{Rev: uint64(rev), Op: b.Op()}}); err != nil {
				done <- err
				return
			}
			length = opBytes
		}
		done <- nil
	}()
	waitUntil(t, "a commit waiting for the checkpoint", func() bool { return db.Stats().LogWaits > 0 })
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if bound := 2*limit + 2*(opBytes+1024); most > bound {
		t.Errorf("the log held %d bytes before a commit, want at most %d", most, bound)
	}
	t.Logf("log at most %d bytes before a commit (limit %d); %d commits waited", most, limit, db.Stats().LogWaits)
}

// waitUntil polls cond until it holds; the test fails after a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
