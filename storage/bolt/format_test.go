package bolt

import (
	"context"
	"errors"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// rewriteFile changes the closed file at path with fn in one transaction.
func rewriteFile(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bbolt.Open: %v", err)
	}
	defer b.Close()
	if err := b.Update(fn); err != nil {
		t.Fatalf("rewrite: %v", err)
	}
}

// TestUpgradeFormat2: a file written before the write-ahead log existed
// (format 2: no bucket log) opens with its documents, client sequence
// numbers and history intact, takes new writes, and is format 3 after.
func TestUpgradeFormat2(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t, Options{SnapshotEvery: 4})
	want := appendInserts(t, db, "doc", "c1", 0, 10)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rewriteFile(t, path, func(tx *bbolt.Tx) error {
		if n := tx.Bucket(bucketLog).Stats().KeyN; n != 0 {
			t.Fatalf("log holds %d keys after Close, want 0", n)
		}
		if err := tx.DeleteBucket(bucketLog); err != nil {
			return err
		}
		return tx.Bucket(bucketInfo).Put(keyFormat, []byte{2})
	})

	db, err := Open(path, Options{SnapshotEvery: 4})
	if err != nil {
		t.Fatalf("Open format 2: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := db.Load(ctx, "doc")
	if err != nil || d.Text != want || d.Rev != 10 {
		t.Fatalf("Load = %q rev %d, %v; want %q rev 10", d.Text, d.Rev, err, want)
	}
	if seq, rev, err := db.ClientSeq(ctx, "doc", "c1"); seq != 10 || rev != 10 || err != nil {
		t.Errorf("ClientSeq = %d, %d, %v; want 10, 10", seq, rev, err)
	}
	if ops, err := db.Ops(ctx, "doc", 0, 10); len(ops) != 10 || err != nil {
		t.Errorf("Ops(0, 10) = %d records, %v; want 10", len(ops), err)
	}
	want += appendInserts(t, db, "doc", "c1", 10, 5)
	db = reopen(t, db, Options{})
	if d, err := db.Load(ctx, "doc"); err != nil || d.Text != want || d.Rev != 15 {
		t.Errorf("after writes and reopen: %q rev %d, %v; want %q rev 15", d.Text, d.Rev, err, want)
	}
	db.view(func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketInfo).Get(keyFormat); len(v) != 1 || v[0] != fileFormat {
			t.Errorf("format = %x, want %d", v, fileFormat)
		}
		return nil
	})
}

// TestUnknownFormat: a file of a layout this version does not know is
// refused with ErrCorrupt and left as it was.
func TestUnknownFormat(t *testing.T) {
	db, path := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c1", 0, 3)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rewriteFile(t, path, func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketInfo).Put(keyFormat, []byte{99})
	})
	if db, err := Open(path, Options{}); !errors.Is(err, storage.ErrCorrupt) {
		if err == nil {
			db.Close()
		}
		t.Fatalf("Open format 99 = %v, want storage.ErrCorrupt", err)
	}
	rewriteFile(t, path, func(tx *bbolt.Tx) error {
		if v := tx.Bucket(bucketInfo).Get(keyFormat); len(v) != 1 || v[0] != 99 {
			t.Errorf("format after refused Open = %x, want 99", v)
		}
		return nil
	})
}
