package collab

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// TestStalledClient: a client that never reads is disconnected (4002) while
// the other editors receive every op.
func TestStalledClient(t *testing.T) {
	const doc, ops = "busy", 2000
	st := newTestStore(t)
	// The stalled client never reads: its writer gives up after WriteWait,
	// long enough for its queue of 4 to fill first (4002) even on a slow store.
	// The writer may need hundreds of ops, of up to 64 KiB.
	srv, ts := startServer(t, st, Options{QueueLen: 4, MaxFrame: 1 << 20, Rate: 1e6, Burst: 1e6, WriteWait: 5 * time.Second, WriteRate: 1e12, DocGrowth: 1 << 40})
	stalled := connectSmallBuffer(t, ts, "stalled")
	stalled.join(doc, nil)
	w := connect(t, ts, "writer")
	w.join(doc, nil)
	r := connect(t, ts, "reader")
	r.join(doc, nil)

	// Every other op inserts 64 KiB. How much of that the stalled socket
	// absorbs before the server's writer blocks depends on the kernel: 2-4
	// MiB usually, 13 MiB seen here on 2026-12-02; ops only bounds the loop.
	chunk := strings.Repeat("x", 64<<10)
	left, rev := false, uint64(0)
	readUntil := func(want uint64) { // or until the stalled editor left
		for rev < want && !(want == math.MaxUint64 && left) {
			typ, data := r.next()
			switch typ {
			case wire.TypeOp:
				var got wire.Op
				json.Unmarshal(data, &got)
				if got.Rev != rev+1 {
					t.Fatalf("reader got rev %d, want %d", got.Rev, rev+1)
				}
				rev = got.Rev
			case wire.TypeEditor:
				var e wire.Editor
				json.Unmarshal(data, &e)
				left = left || (e.Client == wire.PublicID("stalled") && e.Event == wire.EventLeave)
			}
		}
	}
	// The reader gets every op, in order, and the stalled editor's departure.
	// Once the stalled client's queue is full, its close waits only for the
	// write under way to give up (WriteWait): no more ops are needed.
	for i := uint64(1); !left; i++ {
		if i > ops {
			t.Fatalf("the stalled client's queue did not fill in %d ops", ops)
		}
		if testutilCounter(t, srv, "collab_slow_disconnects_total") >= 1 {
			readUntil(math.MaxUint64)
			break
		}
		op := insertAt(0, 0, chunk)
		if i%2 == 0 {
			op = deleteAt(len(chunk), 0, len(chunk))
		}
		w.submit(doc, i-1, i, op)
		w.ack(i)
		readUntil(i)
	}
	t.Logf("stalled client dropped after %d ops", rev)
	if got := testutilCounter(t, srv, "collab_slow_disconnects_total"); got < 1 {
		t.Fatalf("slow disconnects = %v, want >= 1", got)
	}
}

// TestTooSlowCloseCode: a client that stopped reading long enough for its
// queue to fill, and then reads again, gets what was on its way and the
// close 4002, so it can tell "too slow" from a network failure. Before,
// the write in progress was aborted and the client saw 1006.
func TestTooSlowCloseCode(t *testing.T) {
	const doc = "busy"
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{QueueLen: 4, MaxFrame: 1 << 20, Rate: 1e6, Burst: 1e6})
	stalled := connect(t, ts, "stalled")
	stalled.join(doc, nil)
	w := connect(t, ts, "writer")
	w.join(doc, nil)
	chunk := strings.Repeat("x", 64<<10)
	for i := uint64(1); testutilCounter(t, srv, "collab_slow_disconnects_total") == 0; i++ {
		if i > 2000 {
			t.Fatal("the stalled client is still connected after 2000 ops")
		}
		op := insertAt(0, 0, chunk)
		if i%2 == 0 {
			op = deleteAt(len(chunk), 0, len(chunk))
		}
		w.submit(doc, i-1, i, op)
		w.ack(i)
	}
	if code := stalled.closeCode(); code != wire.CloseTooSlow {
		t.Fatalf("close code %d, want %d", code, wire.CloseTooSlow)
	}
}

// TestUnload: many documents load, unload after the grace period, and the
// server's goroutines go back to what they were.
func TestUnload(t *testing.T) {
	const docs = 300
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{Grace: 1, Rate: 1e6, Burst: 1e6}) // 1ns grace
	base := goroutines()
	c := connect(t, ts, "walker")
	for i := 0; i < docs; i++ {
		id := fmt.Sprintf("doc-%d", i)
		c.join(id, nil)
		c.submit(id, 0, 1, insertAt(0, 0, "x"))
		c.ack(1)
		c.send(wire.Leave{Type: wire.TypeLeave, Doc: id})
	}
	waitFor(t, "documents to unload", func() bool { return srv.Loaded() == 0 })
	c.ws.Close()
	waitFor(t, "goroutines to end", func() bool { return goroutines() <= base })
	metas, err := st.List(t.Context(), "", docs+1)
	if err != nil || len(metas) != docs {
		t.Fatalf("stored %d docs (%v), want %d", len(metas), err, docs)
	}
	// An unloaded document loads again with its text.
	c2 := connect(t, ts, "walker2")
	if j := c2.join("doc-7", nil); j.Rev != 1 || *j.Text != "x" {
		t.Fatalf("reloaded doc-7 = %+v", j)
	}
}

// TestShutdown: editors are closed with 1001, every acknowledged op is
// stored, and no goroutine of the server is left.
func TestShutdown(t *testing.T) {
	st := newTestStore(t)
	base := goroutines()
	srv := NewServer(st, Options{Logger: quietLogger()})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	c := connect(t, ts, "a")
	c.join("doc", nil)
	c.submit("doc", 0, 1, insertAt(0, 0, "kept"))
	c.ack(1)
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(t.Context()) }()
	if code := c.closeCode(); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if text, _ := storeText(t, st, "doc"); text != "kept" {
		t.Fatalf("stored %q", text)
	}
	if srv.Loaded() != 0 {
		t.Fatalf("%d documents still loaded", srv.Loaded())
	}
	ts.Close()
	waitFor(t, "goroutines to end", func() bool { return goroutines() <= base })
	// A new connection is refused.
	ts2 := httptest.NewServer(srv)
	defer ts2.Close()
	if _, res, err := dialRaw(t, ts2, nil); err == nil || res.StatusCode != 503 {
		t.Fatalf("dial after shutdown: %v", err)
	}
}
