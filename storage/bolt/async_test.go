package bolt

import (
	"errors"
	"testing"

	"github.com/collabd/collab/storage"
)

// TestAppendAsync: writes queued without waiting commit in the order they
// were queued, also several of one document before the first commits;
// each result comes once through done; a refused write is reported there
// and nothing of it is stored; after Close nothing is queued.
func TestAppendAsync(t *testing.T) {
	db, path := openTemp(t, Options{})
	const n = 50
	results := make(chan error, n+1)
	done := func(err error) { results <- err }
	for rev := 1; rev <= n; rev++ {
		l := tokensLen("a", rev-1)
		if err := db.AppendAsync("a", []storage.Record{{Rev: uint64(rev), Op: insertOp(l, l, token("a", rev)), Client: "c", Seq: uint64(rev)}}, done); err != nil {
			t.Fatalf("AppendAsync rev %d: %v", rev, err)
		}
	}
	// A stale revision: refused through done.
	if err := db.AppendAsync("a", []storage.Record{{Rev: 1, Op: insertOp(0, 0, "x")}}, done); err != nil {
		t.Fatal(err)
	}
	conflicts := 0
	for range n + 1 {
		if err := <-results; errors.Is(err, storage.ErrConflict) {
			conflicts++
		} else if err != nil {
			t.Fatalf("result %v", err)
		}
	}
	if conflicts != 1 {
		t.Fatalf("%d conflicts, want the stale write's only", conflicts)
	}
	if d, err := db.Load(ctx, "a"); err != nil || d.Rev != n || d.Text != tokensText("a", n) {
		t.Fatalf("Load = rev %d %q, %v; want rev %d in order", d.Rev, d.Text, err, n)
	}
	if err := db.AppendAsync("b", nil, done); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("AppendAsync without records: %v, want storage.ErrInvalid", err)
	}
	if err := db.AppendAsync("", []storage.Record{{Rev: 1, Op: insertOp(0, 0, "x")}}, done); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("AppendAsync with an empty id: %v, want storage.ErrInvalid", err)
	}

	// Queued just before Close: committed before Close returns.
	if err := db.AppendAsync("b", []storage.Record{{Rev: 1, Op: insertOp(0, 0, "late")}}, done); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-results:
		if err != nil {
			t.Fatalf("the write queued before Close: %v", err)
		}
	default:
		t.Fatal("Close returned before the queued write was answered")
	}
	if err := db.AppendAsync("b", []storage.Record{{Rev: 2, Op: insertOp(4, 4, "!")}}, func(error) { t.Error("done called after Close") }); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("AppendAsync after Close: %v, want storage.ErrClosed", err)
	}
	db2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if d, err := db2.Load(ctx, "b"); err != nil || d.Text != "late" {
		t.Fatalf("after reopening: %q, %v; want the write queued before Close", d.Text, err)
	}
}
