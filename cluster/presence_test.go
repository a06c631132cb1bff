package cluster_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/natstest"
)

// expectClose reads what c was sent until the server closes the
// connection, with code.
func (c *wsClient) expectClose(code int) {
	c.t.Helper()
	if got := c.CloseCode(); got != code {
		c.t.Fatalf("%s: the connection ended with close %d, want %d", c.id, got, code)
	}
}

// waitEditor reads c's messages until an editor event of client, skipping
// ops and carets.
func (c *wsClient) waitEditor(client, event string) {
	c.t.Helper()
	for {
		typ, data := c.next()
		switch typ {
		case wire.TypeEditor:
			var m wire.Editor
			json.Unmarshal(data, &m)
			if m.Client == wire.PublicID(client) && m.Event == event {
				return
			}
		case wire.TypeOp, wire.TypePresence, wire.TypeAck:
		default:
			c.t.Fatalf("%s: got %s while waiting for %s %s", c.id, data, client, event)
		}
	}
}

func (c *wsClient) waitPresence(client string) wire.Presence {
	c.t.Helper()
	for {
		typ, data := c.next()
		if typ == wire.TypePresence {
			var m wire.Presence
			json.Unmarshal(data, &m)
			if m.Client == wire.PublicID(client) {
				return m
			}
		}
	}
}

// TestPresenceAcrossNodes: editors on different nodes see each other
// arrive, their carets move, and leave; when a node shuts down its
// editors vanish from the others at once.
func TestPresenceAcrossNodes(t *testing.T) {
	_, a, b := twoNodes(t)
	ca := wsDial(t, a.addr(), "ca")
	ca.join("d", nil)
	cb := wsDial(t, b.addr(), "cb")
	cb.join("d", nil)
	cb.waitEditor("ca", wire.EventJoin)
	ca.waitEditor("cb", wire.EventJoin)

	ca.submit("d", 0, 1, insert(0, 0, "hello"))
	ca.ack(1, 1)
	ca.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 1, Head: 3})
	if p := cb.waitPresence("ca"); p.Rev != 1 || p.Anchor != 1 || p.Head != 3 || p.Name != "name-ca" {
		t.Fatalf("cb saw ca's caret %+v, want rev 1 at 1-3", p)
	}
	cb.send(wire.Leave{Type: wire.TypeLeave, Doc: "d"})
	ca.waitEditor("cb", wire.EventLeave)

	cb2 := wsDial(t, b.addr(), "cb2")
	cb2.join("d", nil)
	cb2.waitEditor("ca", wire.EventJoin)
	a.stop()
	cb2.waitEditor("ca", wire.EventLeave)
	late := wsDial(t, b.addr(), "late")
	late.join("d", nil)
	cb2.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 0, Head: 0})
	for {
		typ, data := late.next()
		if typ == wire.TypeEditor {
			var m wire.Editor
			json.Unmarshal(data, &m)
			if m.Client == wire.PublicID("ca") {
				t.Fatalf("a late joiner on b sees ca, whose node shut down: %s", data)
			}
		}
		if typ == wire.TypePresence {
			break // cb2's caret comes after every editor present
		}
	}
}

// TestSilentNodeForgotten: a node that stops without a word (its beacon
// goes silent) is taken for dead after three heartbeats, and its editors
// leave the other nodes' documents.
func TestSilentNodeForgotten(t *testing.T) {
	ns := natstest.Run(t)
	urls := []string{ns.URL()}
	b := startNode(t, urls, cluster.Options{Heartbeat: 50 * time.Millisecond})
	cb := wsDial(t, b.addr(), "cb")
	cb.join("d", nil)

	ghost, err := nats.Connect(ns.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer ghost.Close()
	hdr := nats.Header{"Collab-Node": []string{"ghost"}}
	ghost.PublishMsg(&nats.Msg{Subject: "collab.nodes", Data: []byte("alive"), Header: hdr})
	ghost.PublishMsg(&nats.Msg{Subject: "collab.pres.d", Header: hdr,
		Data: []byte(`{"k":"join","e":[{"c":"ghost-editor","n":"Ghost"}]}`)})
	cb.waitEditor("ghost-editor", wire.EventJoin)
	// The ghost says nothing more.
	cb.waitEditor("ghost-editor", wire.EventLeave)
}

// TestReplacedAcrossNodes: a client id joining a document on one node
// closes the connection editing it under that id on the other (4001), so
// that a duplicated tab sent to another node cannot number its submits as
// the first does and have its ops, or the other's, dropped as duplicates.
func TestReplacedAcrossNodes(t *testing.T) {
	_, a, b := twoNodes(t)
	first := wsDial(t, a.addr(), "tab")
	first.join("d", nil)
	dup := wsDial(t, b.addr(), "tab")
	dup.join("d", nil)
	first.expectClose(wire.CloseReplaced)
	dup.submit("d", 0, 1, insert(0, 0, "x"))
	dup.ack(1, 1)
}

// TestNoOwnEditorEvents: a client that moves to another node while its
// old connection is still open never hears of itself there: not in the
// editors it is greeted with, not when its old connection is replaced and
// leaves, not its own caret. The editors of the other node see it once.
func TestNoOwnEditorEvents(t *testing.T) {
	_, a, b := twoNodes(t)
	w := wsDial(t, b.addr(), "w") // keeps d loaded on b
	w.join("d", nil)
	old := wsDial(t, a.addr(), "c1")
	old.join("d", nil)
	p := wsDial(t, a.addr(), "p") // stays on a, to mark the end of what a says
	p.join("d", nil)
	old.submit("d", 0, 1, insert(0, 0, "hello"))
	old.ack(1, 1)
	old.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 2, Head: 2})
	w.waitPresence("c1") // b holds c1 as a remote editor with a caret

	moved := wsDial(t, b.addr(), "c1")
	moved.join("d", ptr(uint64(1)))
	old.expectClose(wire.CloseReplaced)
	// Its leave is queued on a's document before the connection is
	// counted out; p's caret goes out after it on the same bus subject.
	waitFor(t, "the old connection gone from a", func() bool {
		_, body := call(t, "GET", "http://"+a.addr()+"/metrics", "")
		return strings.Contains(body, "\ncollab_connections 1\n")
	})
	p.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 1, Head: 1})
	w.waitPresence("p")
	w.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 0, Head: 0})
	for {
		typ, data := moved.next()
		var m struct{ Client, Event string }
		json.Unmarshal(data, &m)
		if (typ == wire.TypeEditor || typ == wire.TypePresence) && m.Client == wire.PublicID("c1") {
			t.Fatalf("the moved client heard of itself: %s", data)
		}
		if typ == wire.TypePresence && m.Client == wire.PublicID("w") {
			break
		}
	}
}

// TestReplacedAfterNATSOutage: a client id joins a document on a second
// node while NATS is down, so its join never reaches the node where the
// same id already edits it. Once NATS is back the nodes exchange their
// editors and the older connection is closed with 4001; the newer one
// goes on editing.
func TestReplacedAfterNATSOutage(t *testing.T) {
	ns, a, b := twoNodes(t)
	w := wsDial(t, b.addr(), "w") // keeps d loaded on b
	w.join("d", nil)
	first := wsDial(t, a.addr(), "tab")
	first.join("d", nil)
	first.submit("d", 0, 1, insert(0, 0, "x"))
	first.ack(1, 1)
	w.expect(wire.TypeOp, nil) // b knows tab's last seq without asking NATS

	ns.Stop()
	dup := wsDial(t, b.addr(), "tab")
	// Its join is not published: NATS is down. A fresh join, without
	// rev: b answers it from what it knows of tab, where a resuming join
	// would read tab's last seq from the store and get unavailable.
	dup.join("d", nil)
	ns.Start()
	first.expectClose(wire.CloseReplaced)
	waitFor(t, "the store to take commits again", func() bool {
		dup.submit("d", 1, 2, insert(1, 1, "y"))
		typ, data := dup.next()
		for typ == wire.TypeEditor || typ == wire.TypePresence {
			typ, data = dup.next()
		}
		if typ == wire.TypeAck {
			return true
		}
		if !strings.Contains(string(data), wire.CodeUnavailable) {
			t.Fatalf("submit after the outage: %s", data)
		}
		return false
	})
}
