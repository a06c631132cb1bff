package bolt

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collabd/collab/storage"
)

// TestCorruptRecord writes garbage into records of some documents: those
// fail with ErrCorrupt naming the document, the others are served as usual.
func TestCorruptRecord(t *testing.T) {
	opts := Options{SnapshotEvery: 5}
	db, path := openTemp(t, opts)
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		appendInserts(t, db, id, "x", 0, 12)
	}
	db.Close()
	garbage := []byte{formatV1, 0xff, 0xff, 0xff}
	rawDoc(t, path, "a", func(d doc) error {
		// Without snapshots, Load must read the bad op.
		if _, err := d.deleteRange(d.snaps, 0, 12); err != nil {
			return err
		}
		return d.ops.Put(d.key(11), garbage)
	})
	rawDoc(t, path, "c", func(d doc) error { return d.meta.Put(d.metaKey(), []byte("junk")) })
	rawDoc(t, path, "d", func(d doc) error {
		rev, _, ok := d.atOrBelow(d.snaps.Cursor(), 12)
		if !ok {
			t.Fatal("no snapshot of d")
		}
		return d.snaps.Put(d.key(rev), []byte{formatV1, 3, 'x'})
	})
	rawDoc(t, path, "e", func(d doc) error { return d.clients.Put(d.clientKey("x"), garbage) })

	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for _, tt := range []struct{ id, mention string }{
		{"a", `document "a" op 11`},
		{"c", `document "c" metadata`},
		{"d", `document "d" snapshot`},
	} {
		_, err := db.Load(ctx, tt.id)
		if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), tt.mention) {
			t.Errorf("Load(%s) = %v, want storage.ErrCorrupt mentioning %q", tt.id, err, tt.mention)
		}
	}
	if _, err := db.Ops(ctx, "a", 5, 12); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("Ops over the bad record = %v, want storage.ErrCorrupt", err)
	}
	if recs, err := db.Ops(ctx, "a", 0, 10); err != nil || len(recs) != 10 {
		t.Errorf("Ops before the bad record = %d, %v; want 10 records", len(recs), err)
	}
	if n := tokensLen("c", 12); !errors.Is(db.Append(ctx, "c", []storage.Record{{Rev: 13, Op: insertOp(n, 0, "x")}}), storage.ErrCorrupt) {
		t.Errorf("Append to a document with corrupt metadata did not fail with storage.ErrCorrupt")
	}
	if _, _, err := db.ClientSeq(ctx, "e", "x"); !errors.Is(err, storage.ErrCorrupt) {
		t.Errorf("ClientSeq with a corrupt record = %v, want storage.ErrCorrupt", err)
	}
	if n := tokensLen("e", 12); !errors.Is(db.Append(ctx, "e", []storage.Record{{Rev: 13, Op: insertOp(n, n, "x"), Client: "x", Seq: 13}}), storage.ErrCorrupt) {
		t.Errorf("Append by a client with a corrupt record did not fail with storage.ErrCorrupt")
	}

	// The healthy document is untouched and writable.
	if d, err := db.Load(ctx, "b"); err != nil || d.Text != tokensText("b", 12) {
		t.Errorf("Load(b) = %q, %v", d.Text, err)
	}
	appendInserts(t, db, "b", "x", 12, 3)
	metas, err := db.List(ctx, "", 10)
	if err != nil || len(metas) != 5 {
		t.Fatalf("List = %v, %v; want 5 documents", metas, err)
	}
	if metas[2].ID != "c" || metas[2].Rev != 0 || metas[1].Rev != 15 {
		t.Errorf("List = %+v: want c listed by ID only, b at 15", metas)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, Options{})
	if err == nil {
		db.Close()
		t.Fatal("Open of a junk file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(storage.Record{Op: insertOp(3, 1, "hé😀"), Author: "a", Client: "c", Seq: 4, Time: epoch}))
	f.Add(encodeRecord(storage.Record{Op: deleteOp(9, 2, 3)}))
	f.Add([]byte{formatV1, 0, 0, 0, 0, 1, 2, 0})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord(1, v)
		if err != nil {
			return
		}
		again, err := decodeRecord(1, encodeRecord(r))
		if err != nil || !sameRecord(r, again) {
			t.Fatalf("re-encoding %+v gave %+v, %v", r, again, err)
		}
	})
}
