package bolt

import (
	"errors"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// rawDoc runs fn on document id's records in the closed store's file.
func rawDoc(t *testing.T, path, id string, fn func(d doc) error) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("bbolt.Open: %v", err)
	}
	defer b.Close()
	err = b.Update(func(tx *bbolt.Tx) error {
		return fn(docIn(tx, id))
	})
	if err != nil {
		t.Fatalf("raw update: %v", err)
	}
}

// snapRevs reads the stored snapshots and metadata of id, after moving
// the write-ahead log into the documents.
func snapRevs(t testing.TB, db *DB, id string) (revs []uint64, m docMeta) {
	t.Helper()
	if err := db.checkpoint(); err != nil {
		t.Fatal(err)
	}
	err := db.view(func(tx *bbolt.Tx) error {
		d, meta, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		m = meta
		c := d.snaps.Cursor()
		for k, _ := c.Seek(d.prefix); k != nil; k, _ = c.Next() {
			rev, ok := d.rev(k)
			if !ok {
				break
			}
			revs = append(revs, rev)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading snapshots: %v", err)
	}
	return revs, m
}

// TestSnapshotsTakenByStore: the store snapshots by itself every
// SnapshotEvery ops, and Load then reads only the newest snapshot and the
// ops after it.
func TestSnapshotsTakenByStore(t *testing.T) {
	opts := Options{SnapshotEvery: 10}
	db, path := openTemp(t, opts)
	appendInserts(t, db, "doc", "c", 0, 95)
	appendInserts(t, db, "small", "c", 0, 5)
	db = reopen(t, db, opts) // Close takes the snapshots still requested

	revs, m := snapRevs(t, db, "doc")
	if len(revs) == 0 || m.snapRev != revs[len(revs)-1] || m.Rev-m.snapRev >= 10 {
		t.Fatalf("snapshots %v, meta snapRev %d rev %d: want a snapshot within 10 of the head", revs, m.snapRev, m.Rev)
	}
	if revs, _ := snapRevs(t, db, "small"); len(revs) != 0 {
		t.Errorf("document with 5 ops has snapshots %v", revs)
	}
	if s := db.Stats(); s.Snapshots != 0 {
		t.Errorf("fresh store Stats().Snapshots = %d", s.Snapshots)
	}
	db.Close()

	// Remove every op the newest snapshot covers: Load must not need them.
	rawDoc(t, path, "doc", func(d doc) error {
		_, err := d.deleteRange(d.ops, 1, m.snapRev)
		return err
	})
	db2, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	d, err := db2.Load(ctx, "doc")
	if err != nil || d.Text != tokensText("doc", 95) {
		t.Errorf("Load = %q, %v; want %q", d.Text, err, tokensText("doc", 95))
	}
	if got, err := db2.TextAt(ctx, "doc", m.snapRev); err != nil || got != tokensText("doc", int(m.snapRev)) {
		t.Errorf("TextAt(snapshot) = %q, %v", got, err)
	}
	if _, err := db2.TextAt(ctx, "doc", m.snapRev-1); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("TextAt below snapshot with its ops gone = %v, want storage.ErrCorrupt (snapshots %v)", err, revs)
	}
}

// TestPrune keeps the newest KeepOps ops, cutting at a snapshot.
func TestPrune(t *testing.T) {
	// Snapshots are taken by hand at 10, 20, ... so the cut is known.
	opts := Options{SnapshotEvery: 1 << 30, KeepOps: 25}
	db, _ := openTemp(t, opts)
	for rev := 0; rev < 100; rev += 10 {
		appendInserts(t, db, "doc", "c", rev, 10)
		db.snapshotAll(map[string]uint64{"doc": 1}, true)
	}
	// Client "old" wrote only op 1, which is pruned; its record stays.
	appendOne(t, db, "doc", 101, "old", 7)
	appendInserts(t, db, "doc", "c", 101, 9) // rev 110; ops 102.. by c
	db.snapshotAll(map[string]uint64{"doc": 1}, true)

	const cut = 80 // newest snapshot at or below 110-25
	checkPruned(t, db, "doc", cut, 110)
	if seq, rev, err := db.ClientSeq(ctx, "doc", "old"); err != nil || seq != 7 || rev != 101 {
		t.Errorf("ClientSeq(old) = %d, %d, %v; want 7, 101", seq, rev, err)
	}
	if got := db.Stats().PrunedOps; got != cut {
		t.Errorf("Stats().PrunedOps = %d, want %d", got, cut)
	}
	// The cut and the client records survive a restart; writing goes on.
	db = reopen(t, db, opts)
	checkPruned(t, db, "doc", cut, 110)
	if seq, _, _ := db.ClientSeq(ctx, "doc", "c"); seq != 110 {
		t.Errorf("ClientSeq(c) after restart = %d, want 110", seq)
	}
	if err := db.Append(ctx, "doc", []storage.Record{{Rev: 111, Op: insertOp(docLen(t, db, "doc"), 0, "x"), Client: "c", Seq: 110}}); !errors.Is(err, storage.ErrConflict) {
		t.Errorf("resubmitted seq after pruning: Append = %v, want storage.ErrConflict", err)
	}
}

// appendOne appends one token op at rev as client with seq; the text is
// then no longer tokensText, so tests using it compare with TextAt.
func appendOne(t *testing.T, db *DB, id string, rev int, client string, seq uint64) {
	t.Helper()
	n := docLen(t, db, id)
	if err := db.Append(ctx, id, []storage.Record{{Rev: uint64(rev), Op: insertOp(n, n, token(id, rev)), Client: client, Seq: seq}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
}

func docLen(t *testing.T, db *DB, id string) int {
	t.Helper()
	d, err := db.Load(ctx, id)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return d.Length
}

// checkPruned asserts history below cut is gone and everything from cut
// to head is served.
func checkPruned(t *testing.T, db *DB, id string, cut, head uint64) {
	t.Helper()
	want := tokensText(id, int(head))
	if d, err := db.Load(ctx, id); err != nil || d.Text != want || d.Rev != head {
		t.Errorf("Load = %q rev %d, %v; want %q rev %d", d.Text, d.Rev, err, want, head)
	}
	for _, from := range []uint64{0, 1, cut - 1} {
		if _, err := db.Ops(ctx, id, from, head); !errors.Is(err, storage.ErrPruned) {
			t.Errorf("Ops(%d, %d) = %v, want storage.ErrPruned", from, head, err)
		}
		if _, err := db.TextAt(ctx, id, from); !errors.Is(err, storage.ErrPruned) {
			t.Errorf("TextAt(%d) = %v, want storage.ErrPruned", from, err)
		}
	}
	recs, err := db.Ops(ctx, id, cut, head)
	if err != nil || uint64(len(recs)) != head-cut || (len(recs) > 0 && recs[0].Rev != cut+1) {
		t.Errorf("Ops(%d, %d) = %d records, %v; want %d", cut, head, len(recs), err, head-cut)
	}
	for _, rev := range []uint64{cut, min(cut+1, head), head} {
		if got, err := db.TextAt(ctx, id, rev); err != nil || got != tokensText(id, int(rev)) {
			t.Errorf("TextAt(%d) = %q, %v; want %q", rev, got, err, tokensText(id, int(rev)))
		}
	}
}

// TestPruneByAge keeps ops younger than KeepFor.
func TestPruneByAge(t *testing.T) {
	opts := Options{SnapshotEvery: 1 << 30, KeepFor: time.Hour}
	db, _ := openTemp(t, opts)
	old := time.Now().Add(-2 * time.Hour)
	for rev := 1; rev <= 60; rev++ {
		n := tokensLen("doc", rev-1)
		rec := storage.Record{Rev: uint64(rev), Op: insertOp(n, n, token("doc", rev)), Client: "c", Seq: uint64(rev)}
		if rev <= 35 {
			rec.Time = old
		}
		if err := db.Append(ctx, "doc", []storage.Record{rec}); err != nil {
			t.Fatal(err)
		}
		if rev%10 == 0 {
			db.snapshotAll(map[string]uint64{"doc": 1}, true)
		}
	}
	checkPruned(t, db, "doc", 30, 60) // op 40 is young, op 30 old
	if n, err := db.Prune(ctx); err != nil || n != 0 {
		t.Errorf("Prune = %d, %v; want nothing more to prune", n, err)
	}
}

// TestPruneIdle: Prune ages out history of documents nobody writes.
func TestPruneIdle(t *testing.T) {
	opts := Options{SnapshotEvery: 1 << 30, KeepFor: time.Hour}
	db, _ := openTemp(t, opts)
	old := time.Now().Add(-2 * time.Hour)
	for rev := 1; rev <= 20; rev++ {
		n := tokensLen("doc", rev-1)
		rec := storage.Record{Rev: uint64(rev), Op: insertOp(n, n, token("doc", rev)), Time: old}
		if err := db.Append(ctx, "doc", []storage.Record{rec}); err != nil {
			t.Fatal(err)
		}
	}
	db.opts.KeepFor = 0 // snapshot without pruning, as before a policy change
	db.snapshotAll(map[string]uint64{"doc": 1}, true)
	db.opts.KeepFor = time.Hour
	if n, err := db.Prune(ctx); err != nil || n != 20 {
		t.Fatalf("Prune = %d, %v; want 20", n, err)
	}
	checkPruned(t, db, "doc", 20, 20)
}
