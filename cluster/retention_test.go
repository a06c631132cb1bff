package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// TestPruneAged: with KeepFor, a document whose history is all older
// loses it up to its head, one whose newest snapshot is older loses it up
// to the snapshot, and a recent one keeps it; reads before a cut are
// ErrPruned, the texts and every client's last seq stay (exactly once
// after pruning).
func TestPruneAged(t *testing.T) {
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

	n, err := st.PruneAged(ctx)
	if err != nil || n != 2 {
		t.Fatalf("PruneAged = %d, %v; want 2 documents cut", n, err)
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
