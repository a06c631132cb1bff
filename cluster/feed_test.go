package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// TestSnapshotsAndPrune: a node loads from the newest snapshot, and after
// the history before it is pruned the document, its client records and
// later revisions are intact while older revisions are ErrPruned.
func TestSnapshotsAndPrune(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 10})
	b := open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 10})
	ctx := ctxT(t)
	text := ""
	for i := range 25 {
		client := []string{"c1", "c2"}[i%2]
		mustAppend(t, a, "long", rec(uint64(i+1), i, i, "x", client, uint64(i/2+1)))
		text += "x"
	}
	if err := a.Prune(ctx, "long"); err != nil {
		t.Fatal(err)
	}
	wantText(t, b, "long", text, 25)
	if _, err := b.Ops(ctx, "long", 0, 25); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("Ops from 0 after Prune: %v, want ErrPruned", err)
	}
	if _, err := b.TextAt(ctx, "long", 3); !errors.Is(err, storage.ErrPruned) {
		t.Fatalf("TextAt(3) after Prune: %v, want ErrPruned", err)
	}
	for _, tt := range []struct {
		client   string
		seq, rev uint64
	}{{"c1", 13, 25}, {"c2", 12, 24}} {
		if seq, rev, err := b.ClientSeq(ctx, "long", tt.client); err != nil || seq != tt.seq || rev != tt.rev {
			t.Errorf("ClientSeq(%s) after Prune = %d, %d, %v; want %d, %d", tt.client, seq, rev, err, tt.seq, tt.rev)
		}
	}
	mustAppend(t, b, "long", rec(26, 25, 0, "y", "c2", 13))
	wantText(t, a, "long", "y"+text, 26)
	if recs, err := a.Ops(ctx, "long", 25, 26); err != nil || len(recs) != 1 {
		t.Fatalf("Ops(25, 26) after Prune = %v, %v", recs, err)
	}
	if got, err := a.TextAt(ctx, "long", 25); err != nil || got != text {
		t.Fatalf("TextAt(25) after Prune = %q, %v", got, err)
	}
}

// TestFollow: a node following a document receives every record any node
// commits, in order and once, including the records committed between its
// load and the start of the feed; the feed closes when the document is
// deleted elsewhere.
func TestFollow(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{})
	b := open(t, []string{ns.URL()}, cluster.Options{})
	ctx := ctxT(t)
	mustAppend(t, a, "f", rec(1, 0, 0, "a", "ca", 1))
	doc := wantText(t, b, "f", "a", 1)
	mustAppend(t, a, "f", rec(2, 1, 1, "b", "ca", 2)) // after b's load, before its feed
	feed, err := b.Follow(ctx, "f", doc.Rev)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, a, "f", rec(3, 2, 2, "c", "ca", 3), rec(4, 3, 3, "d", "ca", 4))
	mustAppend(t, b, "f", rec(5, 4, 4, "e", "cb", 1)) // b's own commit comes back too
	for want := uint64(2); want <= 5; want++ {
		select {
		case r, ok := <-feed:
			if !ok || r.Rev != want {
				t.Fatalf("feed gave rev %d (open %v), want %d", r.Rev, ok, want)
			}
		case <-ctx.Done():
			t.Fatalf("no record %d on the feed", want)
		}
	}
	if err := a.Delete(ctx, "f"); err != nil {
		t.Fatal(err)
	}
	select {
	case r, ok := <-feed:
		if ok {
			t.Fatalf("feed gave %+v after the document was deleted, want it closed", r)
		}
	case <-ctx.Done():
		t.Fatal("feed still open after the document was deleted")
	}

	// A feed of a document that does not exist yet sees its creation.
	fctx, cancel := context.WithCancel(ctx)
	feed, err = b.Follow(fctx, "f", 0)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, a, "f", rec(1, 0, 0, "new", "ca", 1))
	if r := <-feed; r.Rev != 1 || r.Op.String() != `["new"]` {
		t.Fatalf("feed of the recreated document gave %+v", r)
	}
	cancel()
	for range feed { // closes once ctx ends
	}
}

// TestUnavailable: with the NATS server down, calls fail with
// ErrUnavailable (which collab reports as "unavailable") within the
// caller's deadline; once it is back, the same node commits again and its
// feed resumes where it stopped.
func TestUnavailable(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{Timeout: 500 * time.Millisecond})
	b := open(t, []string{ns.URL()}, cluster.Options{Timeout: 500 * time.Millisecond})
	ctx := ctxT(t)
	mustAppend(t, a, "u", rec(1, 0, 0, "a", "ca", 1))
	feed, err := b.Follow(ctx, "u", 0)
	if err != nil {
		t.Fatal(err)
	}
	if r := <-feed; r.Rev != 1 {
		t.Fatalf("feed gave rev %d, want 1", r.Rev)
	}
	ns.Stop()
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err = a.Append(short, "u", []storage.Record{rec(2, 1, 1, "b", "ca", 2)})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Append with NATS down: %v, want storage.ErrUnavailable", err)
	}
	if _, err := a.Load(short, "u"); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Load with NATS down: %v, want ErrUnavailable", err)
	}
	ns.Start()
	waitFor(t, "commit after NATS is back", func() bool {
		err := a.Append(ctx, "u", []storage.Record{rec(2, 1, 1, "b", "ca", 2)})
		if err != nil && !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("Append after restart: %v", err)
		}
		return err == nil
	})
	select {
	case r := <-feed:
		if r.Rev != 2 {
			t.Fatalf("feed after restart gave rev %d, want 2", r.Rev)
		}
	case <-ctx.Done():
		t.Fatal("feed did not resume after NATS came back")
	}
	wantText(t, b, "u", "ab", 2)
}

// waitFor polls cond until it holds or the test's wait passes; for states
// nothing signals (a server's reconnection).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFollowDropsConsumer: when a feed ends its consumer is deleted from
// the stream at once, not a minute later by NATS.
func TestFollowDropsConsumer(t *testing.T) {
	ns := natstest.Run(t)
	a := open(t, []string{ns.URL()}, cluster.Options{})
	ctx := ctxT(t)
	mustAppend(t, a, "gone", rec(1, 0, 0, "a", "ca", 1))
	js, done := jetStream(t, ns.URL())
	defer done()
	consumers := func() int {
		st, err := js.Stream(ctx, "COLLAB_OPS")
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return info.State.Consumers
	}
	before := consumers()
	fctx, stop := context.WithCancel(ctx)
	feed, err := a.Follow(fctx, "gone", 1)
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, a, "gone", rec(2, 1, 1, "b", "ca", 2))
	if r := <-feed; r.Rev != 2 {
		t.Fatalf("feed gave rev %d, want 2", r.Rev)
	}
	if got := consumers(); got != before+1 {
		t.Fatalf("%d consumers while following, want %d", got, before+1)
	}
	stop()
	for range feed {
	}
	waitFor(t, "the feed's consumer to be deleted", func() bool { return consumers() == before })
}

// TestStaleSnapshotAfterPrune: a snapshot materialized before a prune and
// stored after it, as a slow background writer would, does not replace
// the newer snapshot the prune kept, whose history is gone: the document
// still loads, also when its snapshots are large (blobs).
func TestStaleSnapshotAfterPrune(t *testing.T) {
	for _, size := range []int{1, 60 << 10} {
		t.Run(fmt.Sprintf("insert=%d", size), func(t *testing.T) {
			ns := natstest.Run(t)
			a := open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 1000})
			b := open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 1000})
			ctx := ctxT(t)
			ins, text := strings.Repeat("x", size), ""
			for i := range 25 {
				mustAppend(t, a, "long", rec(uint64(i+1), len(text), len(text), ins, "c1", uint64(i+1)))
				text += ins
			}
			late, err := a.StaleSnapshot(ctx, "long", 20)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Prune(ctx, "long"); err != nil {
				t.Fatal(err)
			}
			if err := late(); err != nil {
				t.Fatal(err)
			}
			if rev, ok := a.SnapshotRev(ctx, "long"); !ok || rev != 25 {
				t.Fatalf("stored snapshot at rev %d (%v), want the prune's, 25", rev, ok)
			}
			wantText(t, b, "long", text, 25)
		})
	}
}
