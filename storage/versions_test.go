package storage

import (
	"errors"
	"strings"
	"testing"
)

// TestVersionsSurvivePruningAndRestart: a named version's text and
// authorship stay readable after pruning has cut the history past it and
// after a restart; removing the name leaves the history unchanged.
func TestVersionsSurvivePruningAndRestart(t *testing.T) {
	opts := Options{SnapshotEvery: 1000, KeepOps: 5}
	db, _ := openTemp(t, opts)
	appendInserts(t, db, "doc", "c", 0, 3)
	db.snapshotAll(map[string]uint64{"doc": 1}, true)
	if err := db.PutVersion(ctx, "doc", Version{Rev: 2, Name: "draft ✍", Author: "Ann", Created: epoch}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutVersion(ctx, "doc", Version{Rev: 3, Name: "three"}); err != nil {
		t.Fatal(err)
	}
	appendInserts(t, db, "doc", "c", 3, 20)
	db.snapshotAll(map[string]uint64{"doc": 1}, true) // prunes to the snapshot at 3
	db = reopen(t, db, opts)

	if _, err := db.TextAt(ctx, "doc", 1); !errors.Is(err, ErrPruned) {
		t.Fatalf("TextAt(1) = %v, want ErrPruned", err)
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
	if err != nil || len(vs) != 2 || vs[0] != (Version{Rev: 2, Name: "draft ✍", Author: "Ann", Created: vs[0].Created}) || !vs[0].Created.Equal(epoch) || vs[1].Name != "three" {
		t.Fatalf("Versions = %+v, %v", vs, err)
	}
	// Renaming a pruned version keeps its text.
	if err := db.PutVersion(ctx, "doc", Version{Rev: 2, Name: "final"}); err != nil {
		t.Fatal(err)
	}
	if text, err := db.TextAt(ctx, "doc", 2); err != nil || text != tokensText("doc", 2) {
		t.Fatalf("TextAt(2) after rename = %q, %v", text, err)
	}
	if err := db.DeleteVersion(ctx, "doc", 2); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteVersion(ctx, "doc", 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteVersion = %v, want ErrNotFound", err)
	}
	if _, err := db.TextAt(ctx, "doc", 2); !errors.Is(err, ErrPruned) {
		t.Fatalf("TextAt(2) after its name went = %v, want ErrPruned", err)
	}
	if vs, _ := db.Versions(ctx, "doc"); len(vs) != 1 || vs[0].Rev != 3 {
		t.Fatalf("Versions = %+v, want only 3", vs)
	}
}

func TestVersionErrors(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c", 0, 2)
	for _, tc := range []struct {
		v    Version
		want error
	}{
		{Version{Rev: 1, Name: ""}, ErrInvalid},
		{Version{Rev: 1, Name: strings.Repeat("é", MaxVersionName+1)}, ErrInvalid},
		{Version{Rev: 1, Name: "\xff"}, ErrInvalid},
		{Version{Rev: 3, Name: "future"}, ErrInvalid},
	} {
		if err := db.PutVersion(ctx, "doc", tc.v); !errors.Is(err, tc.want) {
			t.Errorf("PutVersion(%+v) = %v, want %v", tc.v, err, tc.want)
		}
	}
	if err := db.PutVersion(ctx, "none", Version{Name: "x"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("PutVersion on a missing document = %v, want ErrNotFound", err)
	}
	if _, err := db.Versions(ctx, "none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Versions of a missing document = %v, want ErrNotFound", err)
	}
	// MaxVersions names, then renaming one still works and a new one does not.
	appendInserts(t, db, "doc", "c", 2, MaxVersions)
	for rev := uint64(1); rev <= MaxVersions; rev++ {
		if err := db.PutVersion(ctx, "doc", Version{Rev: rev, Name: "v"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.PutVersion(ctx, "doc", Version{Rev: 1, Name: "renamed"}); err != nil {
		t.Fatalf("renaming with MaxVersions versions: %v", err)
	}
	if err := db.PutVersion(ctx, "doc", Version{Rev: MaxVersions + 1, Name: "one too many"}); !errors.Is(err, ErrTooManyVersions) {
		t.Fatalf("version %d = %v, want ErrTooManyVersions", MaxVersions+1, err)
	}
	// Deleting the document takes its versions; a new one under the id has none.
	if err := db.PutVersion(ctx, "doc", Version{Rev: 1, Name: "one"}); err != nil {
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
