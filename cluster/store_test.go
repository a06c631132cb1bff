package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

var (
	_ storage.Store        = (*cluster.Store)(nil)
	_ storage.HistoryStore = (*cluster.Store)(nil)
	_ storage.Store        = (*bolt.DB)(nil)
)

const testWait = 20 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open connects a Store (one node) to urls; it closes at the end of the test.
func open(t testing.TB, urls []string, opts cluster.Options) *cluster.Store {
	t.Helper()
	opts.URLs = urls
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	st, err := cluster.Open(ctx, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	t.Cleanup(cancel)
	return ctx
}

// rec builds the record inserting s at pos of a text n code points long.
func rec(rev uint64, n, pos int, s, client string, seq uint64) storage.Record {
	var b ot.Builder
	return storage.Record{Rev: rev, Op: b.Retain(pos).Insert(s).Retain(n - pos).Op(), Client: client, Seq: seq, Author: "name-" + client}
}

func mustAppend(t *testing.T, st *cluster.Store, id string, recs ...storage.Record) {
	t.Helper()
	if err := st.Append(ctxT(t), id, recs); err != nil {
		t.Fatalf("Append(%s, rev %d): %v", id, recs[0].Rev, err)
	}
}

func wantText(t *testing.T, st *cluster.Store, id, text string, rev uint64) storage.Doc {
	t.Helper()
	doc, err := st.Load(ctxT(t), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	if doc.Text != text || doc.Rev != rev || doc.Length != len([]rune(text)) {
		t.Fatalf("Load(%s) = %q rev %d length %d, want %q rev %d", id, doc.Text, doc.Rev, doc.Length, text, rev)
	}
	return doc
}

// TestStore runs every Store method against one NATS server: appends,
// reads at any revision, client records, listing in id order with ids that need escaping,
// deletion and a new incarnation that sees nothing of the old one.
func TestStore(t *testing.T) {
	ns := natstest.Run(t)
	st := open(t, []string{ns.URL()}, cluster.Options{})
	ctx := ctxT(t)
	id := "a.b.c" // not a valid subject token as is
	for _, bad := range []string{"a b", "a*b>c", "😀", ".."} {
		if _, err := st.Load(ctx, bad); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("Load(%q): %v, want ErrInvalid (storage.ValidDocID)", bad, err)
		}
		if err := st.Append(ctx, bad, []storage.Record{rec(1, 0, 0, "x", "", 0)}); !errors.Is(err, storage.ErrInvalid) {
			t.Fatalf("Append(%q): %v, want ErrInvalid (storage.ValidDocID)", bad, err)
		}
	}

	if _, err := st.Load(ctx, id); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Load of a new document: %v, want ErrNotFound", err)
	}
	if seq, rev, err := st.ClientSeq(ctx, id, "c1"); err != nil || seq != 0 || rev != 0 {
		t.Fatalf("ClientSeq of a new document = %d, %d, %v", seq, rev, err)
	}
	before := time.Now()
	mustAppend(t, st, id, rec(1, 0, 0, "hé", "c1", 1))
	mustAppend(t, st, id, rec(2, 2, 2, "😀", "c2", 1), rec(3, 3, 0, ">", "c1", 2))
	doc := wantText(t, st, id, ">hé😀", 3)
	if doc.Created.Before(before) || doc.Updated.Before(doc.Created) || doc.ID != id {
		t.Errorf("meta %+v: created/updated/id wrong (appends began %v)", doc.Meta, before)
	}

	t.Run("Ops", func(t *testing.T) {
		for _, tt := range []struct{ from, to, n uint64 }{{0, 3, 3}, {1, 2, 1}, {2, 99, 1}, {3, 3, 0}, {0, 1, 1}} {
			recs, err := st.Ops(ctx, id, tt.from, tt.to)
			if err != nil || uint64(len(recs)) != tt.n {
				t.Fatalf("Ops(%d, %d) = %d records, %v; want %d", tt.from, tt.to, len(recs), err, tt.n)
			}
			for i, r := range recs {
				if r.Rev != tt.from+uint64(i)+1 || r.Time.IsZero() {
					t.Errorf("Ops(%d, %d)[%d] = rev %d time %v", tt.from, tt.to, i, r.Rev, r.Time)
				}
			}
		}
		recs, _ := st.Ops(ctx, id, 2, 3)
		if r := recs[0]; r.Client != "c1" || r.Seq != 2 || r.Author != "name-c1" || r.Op.String() != `[">",3]` {
			t.Errorf("record 3 = %+v", r)
		}
	})
	t.Run("TextAt", func(t *testing.T) {
		for rev, want := range []string{"", "hé", "hé😀", ">hé😀"} {
			got, err := st.TextAt(ctx, id, uint64(rev))
			if err != nil || got != want {
				t.Errorf("TextAt(%d) = %q, %v; want %q", rev, got, err, want)
			}
		}
		if _, err := st.TextAt(ctx, id, 4); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("TextAt(4) of a document at 3: %v, want ErrInvalid", err)
		}
	})
	t.Run("ClientSeq", func(t *testing.T) {
		for _, tt := range []struct {
			client   string
			seq, rev uint64
		}{{"c1", 2, 3}, {"c2", 1, 2}, {"c3", 0, 0}} {
			seq, rev, err := st.ClientSeq(ctx, id, tt.client)
			if err != nil || seq != tt.seq || rev != tt.rev {
				t.Errorf("ClientSeq(%s) = %d, %d, %v; want %d, %d", tt.client, seq, rev, err, tt.seq, tt.rev)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		for _, other := range []string{"b", "a", "a.b", "z_z"} {
			mustAppend(t, st, other, rec(1, 0, 0, other, "", 0))
		}
		all, err := st.List(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range all {
			got = append(got, m.ID)
		}
		want := []string{"a", "a.b", id, "b", "z_z"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("List = %q, want %q", got, want)
		}
		if all[2].Rev != 3 || all[2].Length != 4 {
			t.Errorf("List entry %+v, want rev 3 length 4", all[2])
		}
		page, err := st.List(ctx, "a.b", 2)
		if err != nil || len(page) != 2 || page[0].ID != id || page[1].ID != "b" {
			t.Errorf("List(after a.b, 2) = %+v, %v", page, err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if err := st.Delete(ctx, id); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second Delete: %v, want ErrNotFound", err)
		}
		if _, err := st.Load(ctx, id); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Load after Delete: %v, want ErrNotFound", err)
		}
		if _, err := st.Ops(ctx, id, 0, 3); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Ops after Delete: %v, want ErrNotFound", err)
		}
		if seq, _, err := st.ClientSeq(ctx, id, "c1"); err != nil || seq != 0 {
			t.Fatalf("ClientSeq after Delete = %d, %v; want 0", seq, err)
		}
		list, _ := st.List(ctx, "a.b", 1)
		if len(list) != 1 || list[0].ID != "b" {
			t.Fatalf("List after Delete = %+v, want b first after a.b", list)
		}
		// A continuation of the old incarnation is refused; a new one starts at 1.
		if err := st.Append(ctx, id, []storage.Record{rec(4, 4, 0, "x", "c1", 3)}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("Append rev 4 after Delete: %v, want ErrConflict", err)
		}
		mustAppend(t, st, id, rec(1, 0, 0, "new", "c1", 1))
		wantText(t, st, id, "new", 1)
		if seq, rev, _ := st.ClientSeq(ctx, id, "c1"); seq != 1 || rev != 1 {
			t.Fatalf("ClientSeq in the new incarnation = %d, %d; want 1, 1", seq, rev)
		}
		if recs, err := st.Ops(ctx, id, 0, 10); err != nil || len(recs) != 1 || recs[0].Op.String() != `["new"]` {
			t.Fatalf("Ops of the new incarnation = %+v, %v", recs, err)
		}
	})
}

// TestConflict: two nodes commit to one document; the one that transformed
// against a stale head is refused with ErrConflict and writes nothing,
// whether its own memory or only the stream knows the head moved.
func TestConflict(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{})
	b := open(t, []string{ns.URL()}, cluster.Options{})
	ctx := ctxT(t)
	mustAppend(t, a, "d", rec(1, 0, 0, "a", "ca", 1))
	if err := b.Append(ctx, "d", []storage.Record{rec(1, 0, 0, "b", "cb", 1)}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("second rev 1: %v, want ErrConflict", err)
	}
	mustAppend(t, b, "d", rec(2, 1, 1, "b", "cb", 1))
	// a's memory says rev 1: JetStream refuses its commit.
	if err := a.Append(ctx, "d", []storage.Record{rec(2, 1, 0, "x", "ca", 2)}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("a's stale rev 2: %v, want ErrConflict", err)
	}
	if err := a.Append(ctx, "d", []storage.Record{rec(5, 2, 0, "x", "ca", 2)}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rev 5 after 2: %v, want ErrConflict", err)
	}
	mustAppend(t, a, "d", rec(3, 2, 0, "x", "ca", 2))
	wantText(t, b, "d", "xab", 3)
}

// TestConcurrentCommits: several nodes race to commit to one document; the
// losers reload and retry. The log holds every commit exactly once and in
// one order, which every node reads alike.
func TestConcurrentCommits(t *testing.T) {
	ns := natstest.Run(t)
	const nodes, each = 3, 15
	stores := make([]*cluster.Store, nodes)
	for i := range stores {
		stores[i] = open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 7})
	}
	ctx := ctxT(t)
	errs := make(chan error, nodes)
	for i, st := range stores {
		go func() {
			client := fmt.Sprintf("c%d", i)
			for seq := uint64(1); seq <= each; {
				doc, err := st.Load(ctx, "race")
				if errors.Is(err, storage.ErrNotFound) {
					err = nil
				}
				if err != nil {
					errs <- err
					return
				}
				err = st.Append(ctx, "race", []storage.Record{rec(doc.Rev+1, doc.Length, 0, string(rune('a'+i)), client, seq)})
				switch {
				case errors.Is(err, storage.ErrConflict):
					continue
				case err != nil:
					errs <- err
					return
				}
				seq++
			}
			errs <- nil
		}()
	}
	for range stores {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	first, err := stores[0].Load(ctx, "race")
	if err != nil || first.Rev != nodes*each || first.Length != nodes*each {
		t.Fatalf("Load = rev %d length %d, %v; want %d", first.Rev, first.Length, err, nodes*each)
	}
	for _, st := range stores[1:] {
		wantText(t, st, "race", first.Text, nodes*each)
	}
	recs, err := stores[1].Ops(ctx, "race", 0, nodes*each)
	if err != nil || len(recs) != nodes*each {
		t.Fatalf("Ops = %d records, %v", len(recs), err)
	}
	seen := make(map[string]uint64)
	for _, r := range recs {
		if r.Seq != seen[r.Client]+1 {
			t.Fatalf("client %s: seq %d after %d (each seq exactly once, in order)", r.Client, r.Seq, seen[r.Client])
		}
		seen[r.Client] = r.Seq
	}
	for _, st := range stores {
		for i := range nodes {
			c := fmt.Sprintf("c%d", i)
			if seq, _, err := st.ClientSeq(ctx, "race", c); err != nil || seq != each {
				t.Errorf("ClientSeq(%s) = %d, %v; want %d", c, seq, err, each)
			}
		}
	}
}
