package collab

import (
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// TestSession walks the example session of docs/protocol.md.
func TestSession(t *testing.T) {
	st := newTestStore(t)
	_, ts := startServer(t, st, Options{})
	bo := connect(t, ts, "c-91b0")
	j := bo.join("notes", nil)
	if j.Rev != 0 || j.Text == nil || *j.Text != "" {
		t.Fatalf("joined new doc = %+v, want rev 0 and empty text", j)
	}
	bo.submit("notes", 0, 1, insertAt(0, 0, "Hi"))
	bo.ack(1)
	bo.send(wire.Presence{Type: wire.TypePresence, Doc: "notes", Rev: 1, Anchor: 2, Head: 2})

	ada := connect(t, ts, "c-7f3a")
	ada.send(wire.Join{Type: wire.TypeJoin, Doc: "notes"})
	var joined wire.Joined
	ada.expect(wire.TypeJoined, &joined)
	if joined.Rev != 1 || *joined.Text != "Hi" || joined.Seq != 0 {
		t.Fatalf("joined = %+v, want rev 1 text Hi seq 0", joined)
	}
	var ed wire.Editor
	ada.expect(wire.TypeEditor, &ed)
	if ed.Client != wire.PublicID("c-91b0") || ed.Event != wire.EventJoin {
		t.Fatalf("editor = %+v, want c-91b0 join", ed)
	}
	var pr wire.Presence
	ada.expect(wire.TypePresence, &pr)
	if pr.Client != wire.PublicID("c-91b0") || pr.Anchor != 2 || pr.Head != 2 || pr.Name != "name-c-91b0" {
		t.Fatalf("presence = %+v, want Bo's caret at 2", pr)
	}
	bo.expect(wire.TypeEditor, &ed)
	if ed.Client != wire.PublicID("c-7f3a") || ed.Event != wire.EventJoin {
		t.Fatalf("Bo saw editor %+v, want Ada joining", ed)
	}

	// Ada inserts at Bo's caret: his caret stays before her text.
	ada.submit("notes", 1, 1, insertAt(2, 2, " there 👋"))
	if a := ada.ack(1); a.Rev != 2 {
		t.Fatalf("ack rev %d, want 2", a.Rev)
	}
	var op wire.Op
	bo.expect(wire.TypeOp, &op)
	if op.Rev != 2 || op.Client != wire.PublicID("c-7f3a") || op.Seq != 1 || op.Name != "name-c-7f3a" {
		t.Fatalf("Bo got op %+v", op)
	}

	// Bo edits at rev 2 concurrently with Ada's next op at rev 2.
	bo.submit("notes", 2, 2, insertAt(10, 10, "!"))
	bo.ack(2)
	ada.submit("notes", 2, 2, ot.Op(deleteAt(10, 0, 2))) // still at rev 2
	ada.expect(wire.TypeOp, &op)
	if op.Rev != 3 {
		t.Fatalf("Ada got rev %d, want 3", op.Rev)
	}
	if a := ada.ack(2); a.Rev != 4 {
		t.Fatalf("Ada's concurrent op acked at %d, want 4", a.Rev)
	}
	bo.expect(wire.TypeOp, &op)
	if op.Rev != 4 || !op.Op.Equal(deleteAt(11, 0, 2)) {
		t.Fatalf("Bo got %+v, want Ada's delete at rev 4", op)
	}
	text, rev := storeText(t, st, "notes")
	if text != " there 👋!" || rev != 4 {
		t.Fatalf("stored %q@%d, want %q@4", text, rev, " there 👋!")
	}

	// A new joiner sees Bo's caret moved through every op: it was at 2
	// ("Hi|"), Ada inserted there (caret stays), Bo's own "!" at 10 does
	// not move it, Ada deleted "Hi" (caret to 0).
	cy := connect(t, ts, "c-cy")
	cy.send(wire.Join{Type: wire.TypeJoin, Doc: "notes"})
	cy.expect(wire.TypeJoined, nil)
	for {
		var p wire.Presence
		cy.expect(wire.TypePresence, &p)
		if p.Client == wire.PublicID("c-91b0") {
			if p.Anchor != 0 || p.Head != 0 || p.Rev != 4 {
				t.Fatalf("Bo's caret = %+v, want 0 at rev 4", p)
			}
			break
		}
	}

	// Leaving is announced.
	ada.send(wire.Leave{Type: wire.TypeLeave, Doc: "notes"})
	for {
		var e wire.Editor
		bo.expect(wire.TypeEditor, &e)
		if e.Client == wire.PublicID("c-7f3a") && e.Event == wire.EventLeave {
			break
		}
	}
	if got := replay(t, st, "notes"); got != text {
		t.Fatalf("replay = %q, want %q", got, text)
	}
}

// TestErrorBeforeClose: the error explaining a close reaches the client
// before the close frame, every time (the writer must not pick the close
// over a queued message).
func TestErrorBeforeClose(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	for i := range 50 {
		ws, _, err := dialRaw(t, ts, nil)
		if err != nil {
			t.Fatal(err)
		}
		c := &tclient{t: t, ws: ws, id: "v"}
		c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version + 1, Client: "v"})
		c.expectError(wire.CodeUnsupportedVersion)
		if code := c.closeCode(); code != websocket.CloseProtocolError {
			t.Fatalf("try %d: close code %d, want 1002", i, code)
		}
		ws.Close()
	}
}

// TestPing: a ping is answered with a pong, before hello too (a page may
// check its connection at any time), and changes nothing else.
func TestPing(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	ws, _, err := dialRaw(t, ts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &tclient{t: t, ws: ws, id: "pinger"}
	c.sendRaw([]byte(`{"type":"ping"}`))
	c.expect(wire.TypePong, nil)
	c = hello(t, ws, "pinger")
	c.join("doc", nil)
	c.sendRaw([]byte(`{"type":"ping"}`))
	c.expect(wire.TypePong, nil)
}
