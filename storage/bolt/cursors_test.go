package bolt

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/collabd/collab/storage"
)

// TestCursors: a consumer's values survive closing the file, a nil value
// deletes, consumers do not see each other's, and a bad name or key is
// refused with nothing stored.
func TestCursors(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.Cursors(ctx, "hooks"); err != nil || len(got) != 0 {
		t.Fatalf("Cursors of a new file: %v, %v", got, err)
	}
	if err := db.PutCursors(ctx, "hooks", map[string][]byte{"a": []byte("1"), "b": []byte("2")}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCursors(ctx, "hooks", map[string][]byte{"a": nil, "c": []byte("3")}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCursors(ctx, "other", map[string][]byte{"a": []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutCursors(ctx, "hooks", map[string][]byte{"": []byte("x"), "d": []byte("4")}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("empty key: %v, want ErrInvalid", err)
	}
	if err := db.PutCursors(ctx, "", map[string][]byte{"d": []byte("4")}); !errors.Is(err, storage.ErrInvalid) {
		t.Fatalf("empty consumer: %v, want ErrInvalid", err)
	}
	db.Close()
	db, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Cursors(ctx, "hooks")
	if err != nil || len(got) != 2 || string(got["b"]) != "2" || string(got["c"]) != "3" {
		t.Fatalf("after reopening: %q, %v", got, err)
	}
}
