package bolt

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// storedRev is document id's revision in the per-document layout, not
// counting records still in the log.
func storedRev(t *testing.T, db *DB, id string) uint64 {
	t.Helper()
	var rev uint64
	db.view(func(tx *bbolt.Tx) error {
		_, m, _ := openDoc(tx, id)
		rev = m.Rev
		return nil
	})
	return rev
}

// TestReadThroughLog: every reader sees records whether they are still in
// the write-ahead log, already checkpointed, or split between the two.
func TestReadThroughLog(t *testing.T) {
	opts := Options{CheckpointEvery: 1 << 30, SnapshotEvery: 1 << 30}
	db, _ := openTemp(t, opts)
	appendInserts(t, db, "a", "c", 0, 10)
	appendInserts(t, db, "b", "c", 0, 3)
	if err := db.checkpoint(); err != nil {
		t.Fatal(err)
	}
	appendInserts(t, db, "a", "c", 10, 5) // a: 10 stored, 5 in the log
	appendInserts(t, db, "new", "c", 0, 2)
	if got := storedRev(t, db, "a"); got != 10 {
		t.Fatalf("a stored at rev %d, want 10 (the rest in the log)", got)
	}
	if got := storedRev(t, db, "new"); got != 0 {
		t.Fatalf("new stored at rev %d, want only in the log", got)
	}

	check := func(t *testing.T, db *DB, revs map[string]int) {
		t.Helper()
		for id, rev := range revs {
			d, err := db.Load(ctx, id)
			if err != nil || d.Rev != uint64(rev) || d.Text != tokensText(id, rev) || d.Length != tokensLen(id, rev) {
				t.Errorf("Load(%s) = %+v, %v; want rev %d", id, d, err, rev)
			}
			recs, err := db.Ops(ctx, id, 1, uint64(rev))
			if err != nil || len(recs) != rev-1 {
				t.Fatalf("Ops(%s, 1, %d) = %d records, %v", id, rev, len(recs), err)
			}
			for i, r := range recs {
				if r.Rev != uint64(i+2) || r.Seq != r.Rev {
					t.Errorf("Ops(%s)[%d] = rev %d seq %d", id, i, r.Rev, r.Seq)
				}
			}
			for at := 0; at <= rev; at++ {
				if got, err := db.TextAt(ctx, id, uint64(at)); err != nil || got != tokensText(id, at) {
					t.Errorf("TextAt(%s, %d) = %q, %v", id, at, got, err)
				}
			}
			if seq, crev, err := db.ClientSeq(ctx, id, "c"); err != nil || seq != uint64(rev) || crev != uint64(rev) {
				t.Errorf("ClientSeq(%s) = %d, %d, %v; want %d", id, seq, crev, err, rev)
			}
		}
		metas, err := db.List(ctx, "", 10)
		if err != nil || len(metas) != len(revs) {
			t.Fatalf("List = %+v, %v; want %d documents", metas, err, len(revs))
		}
		for i, m := range metas {
			if i > 0 && metas[i-1].ID >= m.ID {
				t.Errorf("List out of order: %+v", metas)
			}
			if m.Rev != uint64(revs[m.ID]) || m.Length != tokensLen(m.ID, revs[m.ID]) {
				t.Errorf("List entry %+v, want rev %d", m, revs[m.ID])
			}
		}
		if metas, _ := db.List(ctx, "a", 1); len(metas) != 1 || metas[0].ID != "b" {
			t.Errorf("List after a, limit 1 = %+v, want b", metas)
		}
	}
	check(t, db, map[string]int{"a": 15, "b": 3, "new": 2})

	// A resubmitted sequence number is refused, from the log as from the file.
	n := tokensLen("a", 15)
	if err := db.Append(ctx, "a", []storage.Record{{Rev: 16, Op: insertOp(n, n, "x"), Client: "c", Seq: 15}}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("resubmitted seq in the log: Append = %v, want storage.ErrConflict", err)
	}

	// Deleting drops the log's records too: a document only in the log,
	// and one split between log and file.
	for _, id := range []string{"new", "a"} {
		if err := db.Delete(ctx, id); err != nil {
			t.Fatalf("Delete(%s): %v", id, err)
		}
		if _, err := db.Load(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Load(%s) after Delete = %v, want storage.ErrNotFound", id, err)
		}
	}
	appendInserts(t, db, "a", "c", 0, 2) // a new incarnation
	check(t, db, map[string]int{"a": 2, "b": 3})

	// Close moves the log into the documents; Open finds it empty.
	db = reopen(t, db, opts)
	db.memMu.RLock()
	keys, docs := db.logKeys, len(db.pend)
	db.memMu.RUnlock()
	if keys != 0 || docs != 0 {
		t.Errorf("after reopen: %d log keys, %d documents in the log", keys, docs)
	}
	check(t, db, map[string]int{"a": 2, "b": 3})
}

// TestReadWhileCheckpointing: readers never see a revision twice, a gap or
// a text that does not match its revision while checkpoints constantly
// move records from the log into the documents.
func TestReadWhileCheckpointing(t *testing.T) {
	db, _ := openTemp(t, Options{CheckpointEvery: 3, SnapshotEvery: 5})
	const docs, perDoc = 4, 60
	var writers, readers sync.WaitGroup
	var done atomic.Bool
	for d := range docs {
		id := fmt.Sprintf("d%d", d)
		writers.Go(func() { appendInserts(t, db, id, "c", 0, perDoc) })
		readers.Go(func() {
			for !done.Load() {
				doc, err := db.Load(ctx, id)
				if errors.Is(err, storage.ErrNotFound) {
					continue
				}
				if err != nil || doc.Text != tokensText(id, int(doc.Rev)) {
					t.Errorf("Load(%s) = rev %d %q, %v", id, doc.Rev, doc.Text, err)
					return
				}
				recs, err := db.Ops(ctx, id, 0, doc.Rev)
				if err != nil || len(recs) != int(doc.Rev) {
					t.Errorf("Ops(%s, 0, %d) = %d records, %v", id, doc.Rev, len(recs), err)
					return
				}
				for i, r := range recs {
					if r.Rev != uint64(i+1) {
						t.Errorf("Ops(%s)[%d].Rev = %d", id, i, r.Rev)
						return
					}
				}
			}
		})
	}
	writers.Wait()
	done.Store(true)
	readers.Wait()
	if s := db.Stats(); s.Checkpoints == 0 {
		t.Errorf("no checkpoint ran")
	}
}

// TestCheckpointInSlices: a checkpoint moves documents a slice at a time,
// and between slices commits go on, documents are deleted and recreated;
// a crash at that moment (the file as it is then) loses and doubles
// nothing, and after the checkpoint only the newer records are in the log.
func TestCheckpointInSlices(t *testing.T) {
	defer func(n int) { checkpointSlice = n }(checkpointSlice)
	checkpointSlice = 2
	opts := Options{CheckpointEvery: 1 << 30, SnapshotEvery: 1 << 30}
	db, _ := openTemp(t, opts)
	want := map[string]int{}
	for d := range 6 {
		id := fmt.Sprintf("d%d", d)
		appendInserts(t, db, id, "c", 0, 3)
		want[id] = 3
	}
	image := t.TempDir() + "/crash.db"
	slicesDone := 0
	db.afterSlice = func() {
		slicesDone++
		if slicesDone != 1 {
			return
		}
		if got := []uint64{storedRev(t, db, "d0"), storedRev(t, db, "d1"), storedRev(t, db, "d2")}; got[0] != 3 || got[1] != 3 || got[2] != 0 {
			t.Errorf("after the first slice d0, d1, d2 stored at %v, want [3 3 0]", got)
		}
		appendInserts(t, db, "d1", "c", 3, 1) // commits between slices
		want["d1"] = 4
		if err := db.Delete(ctx, "d0"); err != nil {
			t.Fatal(err)
		}
		appendInserts(t, db, "d0", "c", 0, 1) // a new incarnation
		want["d0"] = 1
		err := db.bbolt.View(func(tx *bbolt.Tx) error { return tx.CopyFile(image, 0o600) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.checkpoint(); err != nil {
		t.Fatal(err)
	}
	if slicesDone != 3 {
		t.Errorf("%d slices for 6 documents, want 3", slicesDone)
	}
	db.memMu.RLock()
	keys, recs := db.logKeys, db.pendRecs
	db.memMu.RUnlock()
	if keys != 2 || recs != 2 {
		t.Errorf("after the checkpoint: %d log keys, %d records to move; want 2 and 2 (d0's and d1's newest)", keys, recs)
	}
	checkDocs(t, db, want)

	crashed, err := Open(image, opts)
	if err != nil {
		t.Fatalf("open the file as it was between slices: %v", err)
	}
	defer crashed.Close()
	if err := crashed.Check(); err != nil {
		t.Fatal(err)
	}
	checkDocs(t, crashed, want)
	db = reopen(t, db, opts)
	checkDocs(t, db, want)
}

// checkDocs checks each document's text, history and client record
// against revisions built by appendInserts.
func checkDocs(t *testing.T, db *DB, revs map[string]int) {
	t.Helper()
	for id, rev := range revs {
		d, err := db.Load(ctx, id)
		if err != nil || d.Rev != uint64(rev) || d.Text != tokensText(id, rev) {
			t.Errorf("Load(%s) = rev %d %q, %v; want rev %d", id, d.Rev, d.Text, err, rev)
			continue
		}
		recs, err := db.Ops(ctx, id, 0, uint64(rev))
		if err != nil || len(recs) != rev {
			t.Errorf("Ops(%s) = %d records, %v; want %d", id, len(recs), err, rev)
		}
		if seq, _, err := db.ClientSeq(ctx, id, "c"); err != nil || seq != uint64(rev) {
			t.Errorf("ClientSeq(%s) = %d, %v; want %d", id, seq, err, rev)
		}
	}
}
