package collab_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/authortest"
	"github.com/collabd/collab/storage/bolt"
)

// TestAuthorsUnderConcurrentEdits: editors edit one document at once,
// their ops transformed over each other's; then, at every revision, the
// author GET /api/docs/{id}/authors gives each code point equals the
// author of the op that inserted it, found by replaying the op log from
// the empty text independently of the server's authorship.
func TestAuthorsUnderConcurrentEdits(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "docs.db"), bolt.Options{SnapshotEvery: 7, CheckpointEvery: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, ts := startCollab(t, db)
	ctx := t.Context()
	addr := strings.TrimPrefix(ts.URL, "http://")
	const editors, edits = 3, 40
	docs := make([]*client.Doc, editors)
	for i := range docs {
		c := dialClient(t, ctx, addr, fmt.Sprintf("ed%d", i), false)
		if docs[i], err = c.Join(ctx, "shared"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(i), 21))
			for range edits {
				// Each edit is its own op, sent while the others' are in flight.
				if err := randomEdit(r, d); err != nil {
					t.Error(err)
					return
				}
				if err := d.WaitSynced(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	checkConverged(t, ctx, db, "shared", docs)

	head, err := db.Load(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := db.Ops(ctx, "shared", 0, head.Rev)
	if err != nil {
		t.Fatal(err)
	}
	var want []string // one "public id/name" per code point
	for _, rec := range recs {
		want = authortest.Replay(want, rec.Op, wire.PublicID(rec.Client)+"/"+rec.Author)
		var got wire.Authors
		res, err := http.Get(fmt.Sprintf("%s/api/docs/shared/authors?rev=%d", ts.URL, rec.Rev))
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("authors at %d: %d, %v", rec.Rev, res.StatusCode, err)
		}
		if per := perCodePoint(t, got.Spans); !slices.Equal(per, want) {
			t.Fatalf("rev %d: authors\n%v\nwant\n%v", rec.Rev, per, want)
		}
	}
	if len(recs) != editors*edits {
		t.Fatalf("%d ops, want %d", len(recs), editors*edits)
	}
}

// perCodePoint spells spans out, checking that they tile the text.
func perCodePoint(t *testing.T, spans []wire.AuthorSpan) []string {
	t.Helper()
	var out []string
	for _, s := range spans {
		if s.Start != len(out) || s.Length <= 0 {
			t.Fatalf("span %+v does not start where the previous ended (%d)", s, len(out))
		}
		for range s.Length {
			out = append(out, s.Client+"/"+s.Name)
		}
	}
	return out
}
