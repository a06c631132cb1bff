package bolt

import (
	"errors"
	"strings"
	"testing"

	"github.com/collabd/collab/storage"
)

// TestVersionsSurvivePruningAndRestart: a named version's text and
// authorship stay readable after pruning has cut the history past it and
// after a restart; removing the name leaves the history unchanged.
func TestVersionsSurvivePruningAndRestart(t *testing.T) {
	opts := Options{SnapshotEvery: 1000, KeepOps: 5}
	db, _ := openTemp(t, opts)
	appendInserts(t, db, "doc", "c", 0, 3)
	db.snapshotAll(map[string]uint64{"doc": 1}, true)
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: 2, Name: "draft ✍", Author: "Ann", Created: epoch}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: 3, Name: "three"}); err != nil {
		t.Fatal(err)
	}
	appendInserts(t, db, "doc", "c", 3, 20)
	db.snapshotAll(map[string]uint64{"doc": 1}, true) // prunes to the snapshot at 3
	db = reopen(t, db, opts)

	if _, err := db.TextAt(ctx, "doc", 1); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("TextAt(1) = %v, want storage.ErrPruned", err)
	}
	text, err := db.TextAt(ctx, "doc", 2)
	if err != nil || text != tokensText("doc", 2) {
		t.Fatalf("TextAt(2) = %q, %v; want the named version's text", text, err)
	}
	spans, err := db.AuthorsAt(ctx, "doc", 2)
	if err != nil || len(spans) != 1 || spans[0].Client != "c" || spans[0].Length != tokensLen("doc", 2) {
		t.Fatalf("AuthorsAt(2) = %v, %v", spans, err)
	}
	vs, err := db.Versions(ctx, "doc")
	if err != nil || len(vs) != 2 || vs[0] != (storage.Version{Rev: 2, Name: "draft ✍", Author: "Ann", Created: vs[0].Created}) || !vs[0].Created.Equal(epoch) || vs[1].Name != "three" {
		t.Fatalf("Versions = %+v, %v", vs, err)
	}
	// Renaming a pruned version keeps its text.
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: 2, Name: "final"}); err != nil {
		t.Fatal(err)
	}
	if text, err := db.TextAt(ctx, "doc", 2); err != nil || text != tokensText("doc", 2) {
		t.Fatalf("TextAt(2) after rename = %q, %v", text, err)
	}
	if err := db.DeleteVersion(ctx, "doc", 2); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteVersion(ctx, "doc", 2); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second DeleteVersion = %v, want storage.ErrNotFound", err)
	}
	if _, err := db.TextAt(ctx, "doc", 2); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("TextAt(2) after its name went = %v, want storage.ErrPruned", err)
	}
	if vs, _ := db.Versions(ctx, "doc"); len(vs) != 1 || vs[0].Rev != 3 {
		t.Fatalf("Versions = %+v, want only 3", vs)
	}
}

func TestVersionErrors(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c", 0, 2)
	for _, tc := range []struct {
		v    storage.Version
		want error
	}{
		{storage.Version{Rev: 1, Name: ""}, storage.ErrInvalid},
		{storage.Version{Rev: 1, Name: strings.Repeat("é", storage.MaxVersionName+1)}, storage.ErrInvalid},
		{storage.Version{Rev: 1, Name: "\xff"}, storage.ErrInvalid},
		{storage.Version{Rev: 3, Name: "future"}, storage.ErrInvalid},
	} {
		if err := db.PutVersion(ctx, "doc", tc.v); !errors.Is(err, tc.want) {
			t.Errorf("PutVersion(%+v) = %v, want %v", tc.v, err, tc.want)
		}
	}
	if err := db.PutVersion(ctx, "none", storage.Version{Name: "x"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PutVersion on a missing document = %v, want storage.ErrNotFound", err)
	}
	if _, err := db.Versions(ctx, "none"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Versions of a missing document = %v, want storage.ErrNotFound", err)
	}
	// MaxVersions names, then renaming one still works and a new one does not.
	appendInserts(t, db, "doc", "c", 2, storage.MaxVersions)
	for rev := uint64(1); rev <= storage.MaxVersions; rev++ {
		if err := db.PutVersion(ctx, "doc", storage.Version{Rev: rev, Name: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: 1, Name: "renamed"}); err != nil {
		t.Fatalf("renaming with storage.MaxVersions versions: %v", err)
	}
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: storage.MaxVersions + 1, Name: "one too many"}); !errors.Is(err, storage.ErrTooManyVersions) {
		t.Fatalf("version %d = %v, want storage.ErrTooManyVersions", storage.MaxVersions+1, err)
	}
	// Deleting the document takes its versions; a new one under the id has none.
	if err := db.PutVersion(ctx, "doc", storage.Version{Rev: 1, Name: "one"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(ctx, "doc"); err != nil {
		t.Fatal(err)
	}
	appendInserts(t, db, "doc", "c", 0, 1)
	if vs, err := db.Versions(ctx, "doc"); err != nil || len(vs) != 0 {
		t.Fatalf("Versions of the new document = %+v, %v", vs, err)
	}
}
