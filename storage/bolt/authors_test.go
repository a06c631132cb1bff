package bolt

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/internal/authortest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// expand turns spans into one "client/author" per code point.
func expand(spans []storage.Span) []string {
	var out []string
	for i, s := range spans {
		if i > 0 && spans[i-1].Client == s.Client && spans[i-1].Author == s.Author {
			out = append(out, "unmerged neighbours")
		}
		for range s.Length {
			out = append(out, s.Client+"/"+s.Author)
		}
	}
	return out
}

// randomEdit inserts or deletes at a random place of a text of length n.
func randomEdit(rng *rand.Rand, n int) ot.Op {
	var b ot.Builder
	pos := rng.IntN(n + 1)
	b.Retain(pos)
	if k := min(n-pos, 1+rng.IntN(6)); k > 0 && rng.IntN(3) == 0 {
		return b.Delete(k).Retain(n - pos - k).Op()
	}
	words := []string{"a", "bc", "é", "😀x", "def "}
	return b.Insert(words[rng.IntN(len(words))]).Retain(n - pos).Op()
}

// TestAuthorsProperty: after random edits by several authors, with
// snapshots (and the authorship saved with them) taken at random moments
// and records both checkpointed and still in the log, the author of every
// code point at every revision is the author of the op that inserted it,
// as an independent replay of the whole history finds.
func TestAuthorsProperty(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 21))
			db, _ := openTemp(t, Options{SnapshotEvery: 1 + rng.IntN(40), CheckpointEvery: 1 + rng.IntN(100)})
			clients := []string{"ann", "bob", "cy", ""} // "" is an HTTP edit
			want := [][]string{nil}
			n := 0
			var batch []storage.Record // appended together, 1 to 8 at a time
			for rev := uint64(1); rev <= 400; rev++ {
				c := clients[rng.IntN(len(clients))]
				op := randomEdit(rng, n)
				rec := storage.Record{Rev: rev, Op: op, Client: c, Author: "name of " + c}
				if c != "" {
					rec.Seq = rev
				}
				batch = append(batch, rec)
				if rng.IntN(8) == 0 || rev == 400 {
					if err := db.Append(ctx, "doc", batch); err != nil {
						t.Fatal(err)
					}
					batch = nil
				}
				want = append(want, authortest.Replay(want[rev-1], op, rec.Client+"/"+rec.Author))
				n = op.TargetLen()
				if batch == nil && rng.IntN(10) == 0 {
					db.snapshotAll(map[string]uint64{"doc": 1}, true)
				}
			}
			for rev := range want {
				spans, err := db.AuthorsAt(ctx, "doc", uint64(rev))
				if err != nil {
					t.Fatalf("AuthorsAt %d: %v", rev, err)
				}
				if got := expand(spans); !slices.Equal(got, want[rev]) {
					t.Fatalf("rev %d: authors\n%v\nwant\n%v", rev, got, want[rev])
				}
			}
		})
	}
}

// TestAuthorsSavedWithSnapshots: once history is pruned, the authorship
// at the kept revisions comes from what was saved with the snapshot at the
// cut (the ops before it are gone), and it survives a restart.
func TestAuthorsSavedWithSnapshots(t *testing.T) {
	opts := Options{SnapshotEvery: 1000, KeepOps: 10}
	db, _ := openTemp(t, opts)
	for rev := uint64(1); rev <= 45; rev++ {
		c := []string{"ann", "bob"}[rev%2]
		rec := storage.Record{Rev: rev, Op: insertOp(int(rev-1), int(rev-1), "x"), Client: c, Author: c, Seq: rev}
		if err := db.Append(ctx, "doc", []storage.Record{rec}); err != nil {
			t.Fatal(err)
		}
		if rev == 30 || rev == 45 {
			db.snapshotAll(map[string]uint64{"doc": 1}, true) // the second prunes to 30
		}
	}
	db = reopen(t, db, opts)
	if _, err := db.AuthorsAt(ctx, "doc", 29); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("AuthorsAt(29) = %v, want storage.ErrPruned", err)
	}
	spans, err := db.AuthorsAt(ctx, "doc", 45)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 45 || spans[0].Client != "bob" || spans[1].Author != "ann" || spans[44].Client != "bob" {
		t.Fatalf("spans at 45 = %v, want 45 alternating spans from bob", spans)
	}
}

// TestAuthorsBeforeAuthorship: a file written before authorship was kept
// has snapshots without it; their text is attributed to nobody and the ops
// after them to their authors.
func TestAuthorsBeforeAuthorship(t *testing.T) {
	opts := Options{SnapshotEvery: 5}
	db, path := openTemp(t, opts)
	appendInserts(t, db, "doc", "c", 0, 5)
	db.snapshotAll(map[string]uint64{"doc": 1}, true)
	db.Close()
	rawDoc(t, path, "doc", func(d doc) error { _, err := d.deleteRange(d.authors, 0, 5); return err })
	db, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	appendInserts(t, db, "doc", "c", 5, 1)
	spans, err := db.AuthorsAt(ctx, "doc", 6)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Span{{Length: tokensLen("doc", 5)}, {Length: len(token("doc", 6)), Client: "c", Author: "ann"}}
	if !slices.Equal(spans, want) {
		t.Fatalf("spans = %v, want %v", spans, want)
	}
}

func TestAuthorsCodec(t *testing.T) {
	spans := []storage.Span{{Length: 3, Client: "a", Author: "Ann"}, {Length: 1, Client: "", Author: ""}, {Length: 7, Client: "a", Author: "Ann"}, {Length: 2, Client: "b", Author: "Bé"}}
	got, err := authorship.Decode(authorship.Encode(spans))
	if err != nil || !slices.Equal(got, spans) {
		t.Fatalf("round trip = %v, %v", got, err)
	}
	for _, bad := range [][]byte{nil, {9}, {formatV1, 0, 1, 3, 0}, {formatV1, 0, 0, 1}} {
		if _, err := authorship.Decode(bad); err == nil {
			t.Errorf("Decode(%v) = nil error", bad)
		}
	}
}
