package bolt

import (
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// TestRevocations: a revocation of the same tokens replaces the stored one
// (the later at and until kept), revocations past their until are not
// returned and are deleted by the next put, and they survive a reopen.
func TestRevocations(t *testing.T) {
	db, path := openTemp(t, Options{})
	ctx := t.Context()
	now := time.Now().Unix()
	put := func(r storage.Revocation) {
		t.Helper()
		if err := db.PutRevocation(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	put(storage.Revocation{ID: "a", At: now, Until: now + 100})
	put(storage.Revocation{ID: "a", At: now + 1, Until: now + 50})
	put(storage.Revocation{Name: "Ada", Doc: "team-*", At: now, Until: now - 1}) // lapsed
	rs, err := db.Revocations(ctx)
	if err != nil || len(rs) != 1 || rs[0] != (storage.Revocation{ID: "a", At: now + 1, Until: now + 100}) {
		t.Fatalf("Revocations = %+v, %v", rs, err)
	}
	put(storage.Revocation{Subject: "u1", Doc: "*", At: now, Until: now + 10})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rs, err = db.Revocations(ctx)
	if err != nil || len(rs) != 2 {
		t.Fatalf("after reopen: %+v, %v", rs, err)
	}
	var keys int
	db.view(func(tx *bbolt.Tx) error {
		keys = tx.Bucket(bucketRevoked).Stats().KeyN
		return nil
	})
	if keys != 2 {
		t.Fatalf("%d stored revocations, want 2 (the lapsed one deleted)", keys)
	}
}
