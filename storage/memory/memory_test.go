package memory

import (
	"errors"
	"strings"
	"testing"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// TestAppendAllOrNothing: an Append whose second record does not
// fit the text changes nothing, not even the first record's text.
func TestAppendAllOrNothing(t *testing.T) {
	m := New()
	ctx := t.Context()
	if err := m.Append(ctx, "d", []storage.Record{{Rev: 1, Op: insertAt(0, 0, "héllo")}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		recs []storage.Record
	}{
		{"length", []storage.Record{{Rev: 2, Op: insertAt(5, 5, "!")}, {Rev: 3, Op: insertAt(5, 0, "x")}}},
		{"revision", []storage.Record{{Rev: 2, Op: insertAt(5, 5, "!")}, {Rev: 4, Op: insertAt(6, 0, "x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := m.Append(ctx, "d", tc.recs)
			if !errors.Is(err, storage.ErrConflict) {
				t.Fatalf("Append = %v, want ErrConflict", err)
			}
			doc, err := m.Load(ctx, "d")
			if err != nil {
				t.Fatal(err)
			}
			if doc.Text != "héllo" || doc.Rev != 1 || doc.Length != 5 {
				t.Errorf("after a refused Append: %q rev %d length %d, want %q rev 1 length 5", doc.Text, doc.Rev, doc.Length, "héllo")
			}
		})
	}
	if err := m.Append(ctx, "d", []storage.Record{{Rev: 2, Op: insertAt(5, 5, "!")}, {Rev: 3, Op: insertAt(6, 0, "¡")}}); err != nil {
		t.Fatal(err)
	}
	if got, err := m.TextAt(ctx, "d", 2); err != nil || got != "héllo!" {
		t.Errorf("TextAt(2) = %q, %v; want %q", got, err, "héllo!")
	}
	if doc, _ := m.Load(ctx, "d"); doc.Text != "¡héllo!" || doc.Length != 7 {
		t.Errorf("Load = %q length %d, want %q length 7", doc.Text, doc.Length, "¡héllo!")
	}
}

// TestListLimit: List pages like the other stores, and refuses a
// limit below one as they do (bolt.DB, cluster.Store).
func TestListLimit(t *testing.T) {
	m := New()
	ctx := t.Context()
	for _, id := range []string{"c", "a", "b"} {
		if err := m.Append(ctx, id, []storage.Record{{Rev: 1, Op: insertAt(0, 0, id)}}); err != nil {
			t.Fatal(err)
		}
	}
	metas, err := m.List(ctx, "a", 1)
	if err != nil || len(metas) != 1 || metas[0].ID != "b" {
		t.Fatalf("List(a, 1) = %+v, %v; want b", metas, err)
	}
	for _, limit := range []int{0, -1} {
		if _, err := m.List(ctx, "", limit); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("List limit %d: %v, want storage.ErrInvalid", limit, err)
		}
	}
}

// TestIDRule: the store applies package storage's id rules, like the
// other stores, and an id it refuses changes nothing.
func TestIDRule(t *testing.T) {
	m := New()
	ctx := t.Context()
	rec := storage.Record{Rev: 1, Op: insertAt(0, 0, "x")}
	for _, id := range []string{"", ".", "..", "a b", "a/b", "é", strings.Repeat("x", storage.MaxDocIDLen+1)} {
		if err := m.Append(ctx, id, []storage.Record{rec}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Append(%q) = %v, want ErrInvalid", id, err)
		}
		if _, err := m.Load(ctx, id); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("Load(%q) = %v, want ErrInvalid", id, err)
		}
	}
	bad := rec
	bad.Client, bad.Seq = "tab 1", 1
	if err := m.Append(ctx, "d", []storage.Record{bad}); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("Append with client id %q = %v, want ErrInvalid", bad.Client, err)
	}
	if metas, _ := m.List(ctx, "", 10); len(metas) != 0 {
		t.Errorf("List after refused appends = %+v, want none", metas)
	}
	if err := m.Append(ctx, strings.Repeat("x", storage.MaxDocIDLen), []storage.Record{rec}); err != nil {
		t.Errorf("Append with the longest id: %v", err)
	}
}

func insertAt(n, pos int, s string) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Insert(s).Retain(n - pos).Op()
}
