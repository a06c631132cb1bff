package bolt

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/collabd/collab/storage"
)

// pauses records every pause db's commit loop asks for and lets wait
// decide how it ends.
func pauses(db *DB, wait func(time.Duration) bool) func() []time.Duration {
	var mu sync.Mutex
	var got []time.Duration
	db.pause = func(d time.Duration) bool {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return wait(d)
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), got...)
	}
}

// appendAll appends the first revision of each of ids at once, without
// waiting, and returns a wait for all of them.
func appendAll(t *testing.T, db *DB, ids ...string) (wait func()) {
	t.Helper()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		rec := storage.Record{Rev: 1, Op: insertOp(0, 0, token(id, 1)), Client: "c", Seq: 1}
		err := db.AppendAsync(id, []storage.Record{rec}, func(err error) {
			if err != nil {
				t.Errorf("Append %s: %v", id, err)
			}
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return wg.Wait
}

// commitGroup makes db's next commits one of a single write, then one of
// the three given writes together, and waits for both.
func commitGroup(t *testing.T, db *DB, a, b, c string) {
	t.Helper()
	started, resume := make(chan struct{}), make(chan struct{})
	first := true
	db.beforeCommit = func(int) {
		if first {
			first = false
			close(started)
			<-resume
		}
	}
	wait0 := appendAll(t, db, "first")
	<-started // the commit loop holds "first" and waits
	wait := appendAll(t, db, a, b, c)
	close(resume)
	wait0()
	wait()
}

func TestCommitPacing(t *testing.T) {
	const interval = time.Hour
	t.Run("a lone writer is not paused", func(t *testing.T) {
		db, _ := openTemp(t, Options{CommitInterval: interval})
		got := pauses(db, func(time.Duration) bool { return false })
		appendInserts(t, db, "solo", "c", 0, 20)
		if p := got(); len(p) != 0 {
			t.Errorf("pauses %v, want none", p)
		}
	})
	t.Run("fewer writers than last time: paused until the interval ends", func(t *testing.T) {
		db, _ := openTemp(t, Options{CommitInterval: interval})
		got := pauses(db, func(time.Duration) bool { return false })
		commitGroup(t, db, "a", "b", "c")
		appendInserts(t, db, "after", "c", 0, 1)
		p := got()
		if len(p) == 0 {
			t.Error("no pause after a commit of three writers")
		}
		for _, d := range p {
			if d <= 0 || d > interval {
				t.Errorf("paused %v, want within (0, %v]", d, interval)
			}
		}
		doc, err := db.Load(context.Background(), "after")
		if want := token("after", 1); err != nil || doc.Text != want {
			t.Errorf("after the pause: %q, %v; want %q, nil", doc.Text, err, want)
		}
	})
	t.Run("as many writers as last time: the pause ends when they are queued", func(t *testing.T) {
		db, _ := openTemp(t, Options{CommitInterval: interval})
		var mu sync.Mutex
		var woken []bool
		pausing := make(chan struct{})
		got := pauses(db, func(time.Duration) bool {
			mu.Lock()
			if len(woken) == 0 {
				close(pausing)
			}
			mu.Unlock()
			w := db.waitWake(10 * time.Second) // far below interval: fails rather than hangs
			mu.Lock()
			woken = append(woken, w)
			mu.Unlock()
			return w
		})
		commitGroup(t, db, "a", "b", "c")
		<-pausing
		appendAll(t, db, "x", "y", "z")()
		mu.Lock()
		defer mu.Unlock()
		for i, w := range woken {
			if !w {
				t.Errorf("pause %d of %v ended by its timer, want by the third write", i, got())
			}
		}
	})
	t.Run("negative interval: no pause", func(t *testing.T) {
		db, _ := openTemp(t, Options{CommitInterval: -1})
		got := pauses(db, func(time.Duration) bool { return false })
		commitGroup(t, db, "a", "b", "c")
		appendInserts(t, db, "after", "c", 0, 1)
		if p := got(); len(p) != 0 {
			t.Errorf("pauses %v, want none", p)
		}
	})
}

func ExampleOptions_commitInterval() {
	fmt.Println(Options{}.withDefaults().CommitInterval)
	// Output: 2ms
}
