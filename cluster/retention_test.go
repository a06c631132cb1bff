package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// TestPruneHistory: with KeepFor, a document whose history is all older
// loses it up to its head, one whose newest snapshot is older loses it up
// to the snapshot, and a recent one keeps it; reads before a cut are
// ErrPruned, the texts and every client's last seq stay (exactly once
// after pruning).
func TestPruneHistory(t *testing.T) {
	ns := natstest.Run(t)
	st := open(t, []string{ns.URL()}, cluster.Options{KeepFor: time.Hour, SnapshotEvery: 4})
	ctx := ctxT(t)
	old := time.Now().Add(-2 * time.Hour)
	aged := func(r storage.Record) storage.Record { r.Time = old; return r }
	mustAppend(t, st, "idle", aged(rec(1, 0, 0, "a", "ca", 1)))
	mustAppend(t, st, "idle", aged(rec(2, 1, 1, "b", "cb", 1)))
	mustAppend(t, st, "fresh", rec(1, 0, 0, "a", "ca", 1))
	for i := range 4 {
		mustAppend(t, st, "busy", aged(rec(uint64(i+1), i, i, "x", "ca", uint64(i+1))))
	}
	waitFor(t, "the snapshot at revision 4", func() bool {
		rev, ok := st.SnapshotRev(ctx, "busy")
		return ok && rev == 4
	})
	mustAppend(t, st, "busy", rec(5, 4, 4, "y", "cb", 1), rec(6, 5, 5, "z", "cb", 2))

	n, err := st.PruneHistory(ctx)
	if err != nil || n != 2 {
		t.Fatalf("PruneHistory = %d, %v; want 2 documents cut", n, err)
	}
	for _, tc := range []struct {
		id        string
		from, to  uint64
		pruned    bool
		text      string
		client    string
		seq, crev uint64
	}{
		{"idle", 0, 2, true, "ab", "ca", 1, 1},
		{"idle", 2, 2, false, "ab", "cb", 1, 2},
		{"busy", 0, 6, true, "xxxxyz", "ca", 4, 4},
		{"busy", 4, 6, false, "xxxxyz", "cb", 2, 6},
		{"fresh", 0, 1, false, "a", "ca", 1, 1},
	} {
		_, err := st.Ops(ctx, tc.id, tc.from, tc.to)
		if tc.pruned != errors.Is(err, storage.ErrPruned) || (!tc.pruned && err != nil) {
			t.Errorf("%s: Ops(%d, %d) = %v, want pruned %v", tc.id, tc.from, tc.to, err, tc.pruned)
		}
		wantText(t, st, tc.id, tc.text, tc.to)
		if seq, rev, err := st.ClientSeq(ctx, tc.id, tc.client); err != nil || seq != tc.seq || rev != tc.crev {
			t.Errorf("%s: ClientSeq(%s) = %d, %d, %v; want %d, %d", tc.id, tc.client, seq, rev, err, tc.seq, tc.crev)
		}
	}
	if _, err := st.TextAt(ctx, "busy", 5); err != nil {
		t.Errorf("TextAt(5) after the snapshot at 4: %v", err)
	}
	if _, err := st.TextAt(ctx, "busy", 3); !errors.Is(err, storage.ErrPruned) {
		t.Errorf("TextAt(3) before the cut: %v, want ErrPruned", err)
	}
}

// TestPruneKeepOps: with KeepOps, history is cut KeepOps revisions before
// the head, in the middle of a message, where a base snapshot is written:
// the texts and authorship from the cut on stay readable, older ones are
// ErrPruned except at a named version, every client's last seq stays
// (exactly once after pruning), and a second cut moves the base.
func TestPruneKeepOps(t *testing.T) {
	ns := natstest.Run(t)
	st := open(t, []string{ns.URL()}, cluster.Options{KeepOps: 5, SnapshotEvery: 1 << 40})
	ctx := ctxT(t)
	clients := []string{"ca", "cb", "cc"}
	add := func(from, to int) { // revisions from..to in one message
		var recs []storage.Record
		for r := from; r <= to; r++ {
			c := clients[(r-1)/3%3]
			recs = append(recs, rec(uint64(r), r-1, r-1, string(rune('a'+r-1)), c, uint64(r)))
		}
		mustAppend(t, st, "d", recs...)
	}
	for r := 1; r <= 12; r += 3 {
		add(r, r+2)
	}
	if err := st.PutVersion(ctx, "d", storage.Version{Rev: 2, Name: "two"}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.PruneHistory(ctx); err != nil || n != 1 {
		t.Fatalf("PruneHistory = %d, %v; want 1 document cut", n, err)
	}
	other := open(t, []string{ns.URL()}, cluster.Options{}) // another node, nothing cached
	check := func(head, cut int) {
		t.Helper()
		text := "abcdefghijklmnopqrstuvwxyz"[:head]
		for _, s := range []*cluster.Store{st, other} {
			wantText(t, s, "d", text, uint64(head))
			if _, err := s.Ops(ctx, "d", 0, uint64(head)); !errors.Is(err, storage.ErrPruned) {
				t.Errorf("Ops(0, %d) = %v, want ErrPruned", head, err)
			}
			if recs, err := s.Ops(ctx, "d", uint64(cut), uint64(head)); err != nil || len(recs) != head-cut {
				t.Errorf("Ops(%d, %d) = %d records, %v", cut, head, len(recs), err)
			}
			for rev := cut; rev <= head; rev++ {
				if got, err := s.TextAt(ctx, "d", uint64(rev)); err != nil || got != text[:rev] {
					t.Errorf("TextAt(%d) = %q, %v", rev, got, err)
				}
			}
			if _, err := s.TextAt(ctx, "d", uint64(cut-1)); !errors.Is(err, storage.ErrPruned) {
				t.Errorf("TextAt(%d) before the cut: %v, want ErrPruned", cut-1, err)
			}
			if got, err := s.TextAt(ctx, "d", 2); err != nil || got != "ab" {
				t.Errorf("TextAt(2), a named version: %q, %v", got, err)
			}
			spans, err := s.AuthorsAt(ctx, "d", uint64(cut))
			if err != nil || len(spans) == 0 || spans[0].Client != "ca" || spans[0].Length != 3 {
				t.Errorf("AuthorsAt(%d) = %+v, %v", cut, spans, err)
			}
			for i, c := range clients {
				if seq, rev, err := s.ClientSeq(ctx, "d", c); err != nil || seq == 0 || seq != rev {
					t.Errorf("ClientSeq(%s) = %d, %d, %v (client %d)", c, seq, rev, err, i)
				}
			}
		}
	}
	check(12, 7)
	for r := 13; r <= 18; r += 3 {
		add(r, r+2)
	}
	if n, err := st.PruneHistory(ctx); err != nil || n != 1 {
		t.Fatalf("second PruneHistory = %d, %v; want 1 document cut", n, err)
	}
	check(18, 13)
}

// TestPruneOnSnapshot: with KeepOps, the node that writes a snapshot
// prunes the document then, without waiting for PruneHistory.
func TestPruneOnSnapshot(t *testing.T) {
	ns := natstest.Run(t)
	st := open(t, []string{ns.URL()}, cluster.Options{KeepOps: 4, SnapshotEvery: 4})
	ctx := ctxT(t)
	for r := 1; r <= 8; r++ {
		mustAppend(t, st, "d", rec(uint64(r), r-1, r-1, "x", "c", uint64(r)))
	}
	waitFor(t, "the history before revision 4 to be pruned", func() bool {
		_, err := st.TextAt(ctx, "d", 3)
		return errors.Is(err, storage.ErrPruned)
	})
	if got, err := st.TextAt(ctx, "d", 4); err != nil || got != "xxxx" {
		t.Fatalf("TextAt(4) = %q, %v; want xxxx", got, err)
	}
}

// TestClientSeqAfterPruneElsewhere: a node that remembers client records
// from before another node's cut still answers ClientSeq after it.
func TestClientSeqAfterPruneElsewhere(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{})
	b := open(t, []string{ns.URL()}, cluster.Options{KeepOps: 2, SnapshotEvery: 1 << 40})
	ctx := ctxT(t)
	mustAppend(t, a, "d", rec(1, 0, 0, "a", "ca", 1))
	if _, err := a.Load(ctx, "d"); err != nil { // remembers the client records at 1
		t.Fatal(err)
	}
	for r := 2; r <= 8; r++ {
		mustAppend(t, b, "d", rec(uint64(r), r-1, r-1, "b", "cb", uint64(r)))
	}
	if n, err := b.PruneHistory(ctx); err != nil || n != 1 {
		t.Fatalf("PruneHistory = %d, %v", n, err)
	}
	for _, c := range []struct {
		client    string
		seq, crev uint64
	}{{"ca", 1, 1}, {"cb", 8, 8}} {
		if seq, rev, err := a.ClientSeq(ctx, "d", c.client); err != nil || seq != c.seq || rev != c.crev {
			t.Errorf("ClientSeq(%s) on the other node = %d, %d, %v; want %d, %d", c.client, seq, rev, err, c.seq, c.crev)
		}
	}
}
