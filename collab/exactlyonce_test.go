package collab

import (
	"context"
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// TestDuplicateSubmit: a resubmitted (client, seq) is acknowledged again with
// the same revision and never applied twice — on the same connection, after
// a reconnect, after a restart on the same store and after pruning.
func TestDuplicateSubmit(t *testing.T) {
	const doc = "d"
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{})
	c := connect(t, ts, "ada")
	c.join(doc, nil)
	op := insertAt(0, 0, "héllo 👋")
	c.submit(doc, 0, 1, op)
	if a := c.ack(1); a.Rev != 1 {
		t.Fatalf("ack rev %d, want 1", a.Rev)
	}
	check := func(when string) {
		t.Helper()
		if text, rev := storeText(t, st, doc); text != "héllo 👋" || rev != 1 {
			t.Fatalf("%s: stored %q@%d, want the op applied once", when, text, rev)
		}
	}
	resubmit := func(c *tclient, when string) {
		t.Helper()
		c.submit(doc, 0, 1, op)
		if a := c.ack(1); a.Rev != 1 {
			t.Fatalf("%s: re-ack rev %d, want 1", when, a.Rev)
		}
		check(when)
	}
	resubmit(c, "same connection")

	// Reconnect: the new connection replaces the old one (4001).
	c2 := connect(t, ts, "ada")
	if code := c.closeCode(); code != wire.CloseReplaced {
		t.Fatalf("old connection closed with %d, want %d", code, wire.CloseReplaced)
	}
	j := c2.join(doc, ptr(uint64(0)))
	if j.Seq != 1 || len(j.Ops) != 1 || j.Ops[0].Client != wire.PublicID("ada") || j.Ops[0].Seq != 1 {
		t.Fatalf("resume joined = %+v, want own op seq 1 among ops and seq 1", j)
	}
	resubmit(c2, "after reconnect")

	// Restart: a new Server over the same store.
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, ts2 := startServer(t, st, Options{})
	c3 := connect(t, ts2, "ada")
	c3.join(doc, ptr(uint64(1)))
	resubmit(c3, "after restart")

	// Pruning: the ops are gone, the sequence record is not. Another
	// client's op follows, as a store may keep its head's record.
	c3.submit(doc, 1, 2, insertAt(7, 7, "!"))
	c3.ack(2)
	bo := connect(t, ts2, "bo")
	bo.join(doc, ptr(uint64(2)))
	bo.submit(doc, 2, 1, insertAt(8, 8, "?"))
	bo.ack(1)
	pruneTo(t, st, doc, 2)
	_, ts3 := startServer(t, st, Options{})
	c4 := connect(t, ts3, "ada")
	j = c4.join(doc, ptr(uint64(0)))
	if !j.Reset || j.Text == nil || *j.Text != "héllo 👋!?" || j.Seq != 2 {
		t.Fatalf("resume from pruned rev: %+v, want reset with text and seq 2", j)
	}
	c4.submit(doc, 1, 2, insertAt(7, 7, "!"))
	if a := c4.ack(2); a.Rev != 2 {
		t.Fatalf("after pruning: re-ack rev %d, want 2", a.Rev)
	}
	if text, rev := storeText(t, st, doc); text != "héllo 👋!?" || rev != 3 {
		t.Fatalf("after pruning: stored %q@%d", text, rev)
	}
}

// TestResume: a client resuming from revision r gets the ops after r, or the
// text with reset when r is pruned, beyond MaxCatchUp or in the future.
func TestResume(t *testing.T) {
	const doc = "r"
	st := newTestStore(t)
	_, ts := startServer(t, st, Options{MaxCatchUp: 6, Window: 2})
	w := connect(t, ts, "writer")
	w.join(doc, nil)
	text := ""
	for i := 0; i < 10; i++ {
		if i == 6 {
			pruneTo(t, st, doc, 5)
		}
		n := len([]rune(text))
		w.submit(doc, uint64(i), uint64(i+1), insertAt(n, n, "汉"))
		w.ack(uint64(i + 1))
		text += "汉"
	}
	tests := []struct {
		from    uint64
		wantOps int // -1: reset
	}{
		{from: 10, wantOps: 0},
		{from: 9, wantOps: 1},   // from the window
		{from: 6, wantOps: 4},   // from the store
		{from: 5, wantOps: 5},   // the oldest retained
		{from: 4, wantOps: -1},  // pruned
		{from: 3, wantOps: -1},  // beyond MaxCatchUp
		{from: 11, wantOps: -1}, // in the future
	}
	r := connect(t, ts, "reader")
	for _, tt := range tests {
		j := r.join(doc, ptr(tt.from))
		if tt.wantOps < 0 {
			if !j.Reset || j.Text == nil || *j.Text != text || j.Rev != 10 {
				t.Errorf("from %d: %+v, want reset to %q@10", tt.from, j, text)
			}
			continue
		}
		if j.Reset || j.Text != nil || len(j.Ops) != tt.wantOps || j.Rev != 10 {
			t.Errorf("from %d: got %d ops reset=%v, want %d ops", tt.from, len(j.Ops), j.Reset, tt.wantOps)
			continue
		}
		for i, rec := range j.Ops {
			if rec.Rev != tt.from+uint64(i)+1 || rec.Client != wire.PublicID("writer") {
				t.Errorf("from %d: op %d = %+v", tt.from, i, rec)
			}
		}
	}
}

// TestLateHelloOnOlderConnection: a hello that arrives late on a
// connection opened before the one its client now uses (a half-open link
// the client left) closes that older connection with 4001, not the live
// one. Before, the late hello replaced the live connection, and a client
// that takes 4001 as final stopped for good.
func TestLateHelloOnOlderConnection(t *testing.T) {
	st := newTestStore(t)
	_, ts := startServer(t, st, Options{})
	ws, _, err := dialRaw(t, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	stale := &tclient{t: t, ws: ws, id: "c"}
	live := connect(t, ts, "c") // opened after stale, says hello first
	live.join("doc", nil)
	stale.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "c"})
	if code := stale.closeCode(); code != wire.CloseReplaced {
		t.Fatalf("the older connection closed with %d, want %d", code, wire.CloseReplaced)
	}
	live.submit("doc", 0, 1, insertAt(0, 0, "still here"))
	live.ack(1)
}
