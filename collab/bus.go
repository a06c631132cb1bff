package collab

import (
	"context"
	"encoding/json"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

// busBuffer bounds what other servers said and the document has not read
// yet; beyond it, messages are dropped (the next state repairs them).
const busBuffer = 1024

// Kinds of bus messages.
const (
	busJoin     = "join"     // an editor arrived on the sender
	busLeave    = "leave"    // an editor left the sender
	busPresence = "presence" // an editor of the sender moved its caret
	busSync     = "sync"     // the sender loaded the document: send it your state
	busState    = "state"    // every editor of the sender (none: it unloaded the document)
)

// busMsg is what servers say to each other about a document.
type busMsg struct {
	Kind    string      `json:"k"`
	Editors []busEditor `json:"e,omitempty"`
}

// busEditor is one editor, with its caret at committed revision Rev when
// Caret is set.
type busEditor struct {
	Client string `json:"c"`
	Name   string `json:"n,omitempty"`
	Color  string `json:"o,omitempty"`
	Caret  bool   `json:"p,omitempty"`
	Rev    uint64 `json:"r,omitempty"`
	Anchor int    `json:"a,omitempty"`
	Head   int    `json:"h,omitempty"`
	// Joined is when the editor joined, in Unix nanoseconds, so that only
	// an older connection is replaced (see replaced).
	Joined int64 `json:"j,omitempty"`
}

// busEvent is one bus message as the document's owner receives it.
type busEvent struct {
	from string
	data []byte
}

type remoteKey struct{ from, client string }

// remoteEditor is an editor on another server. Owned by run.
//
// A client connected here too (it moved, its old connection half dead or
// its old server not yet known to be gone) is one editor, the local one:
// its remote copy is shadowed, nothing about it is sent to anyone, so that
// the client never hears of itself and the others do not see it leave
// while it is still here.
type remoteEditor struct {
	busEditor
	pub   string     // wire.PublicID(Client), what local editors see
	pres  *presence  // at the document's revision; nil if none
	ahead *busEditor // a caret at a revision not applied here yet
}

// subscribe starts hearing what other servers say about the document and
// asks them for their editors.
func (d *document) subscribe(ctx context.Context) error {
	b, ok := d.srv.store.(storage.Bus)
	if !ok {
		return nil
	}
	in := make(chan busEvent, busBuffer)
	err := b.Subscribe(ctx, d.id, func(from string, data []byte) {
		select {
		case in <- busEvent{from: from, data: data}:
		default:
		}
	})
	if err != nil {
		return err
	}
	d.bus, d.busIn, d.others = b, in, make(map[remoteKey]*remoteEditor)
	d.publishToServers(busMsg{Kind: busSync})
	return nil
}

// publishToServers publishes m to the other servers; failures only cost
// presence.
func (d *document) publishToServers(m busMsg) {
	if d.bus == nil {
		return
	}
	data, err := json.Marshal(m)
	if err == nil {
		err = d.bus.Publish(d.id, data)
	}
	if err != nil {
		d.srv.log.Debug("presence not sent to other servers", "doc", d.id, "err", err)
	}
}

// busEditorOf describes a local editor for the other servers.
func (d *document) busEditorOf(e *editor) busEditor {
	b := busEditor{Client: e.client, Name: e.name, Color: e.color, Joined: e.joined.UnixNano()}
	if e.pres != nil {
		b.Caret, b.Rev, b.Anchor, b.Head = true, d.rev, e.pres.anchor, e.pres.head
	}
	return b
}

// state is every local editor, for a server that asked.
func (d *document) state() busMsg {
	m := busMsg{Kind: busState, Editors: []busEditor{}}
	for _, e := range d.editors {
		m.Editors = append(m.Editors, d.busEditorOf(e))
	}
	return m
}

// handleBusEvent handles one bus event.
func (d *document) handleBusEvent(ev busEvent) {
	switch {
	case ev.data == nil:
		d.forget(ev.from, nil)
		return
	case len(ev.data) == 0:
		d.publishToServers(d.state())
		return
	}
	var m busMsg
	if err := json.Unmarshal(ev.data, &m); err != nil {
		d.srv.log.Debug("undecodable bus message", "doc", d.id, "from", ev.from, "err", err)
		return
	}
	switch m.Kind {
	case busSync:
		d.publishToServers(d.state())
	case busJoin:
		for _, e := range m.Editors {
			d.replaced(e)
			d.arrive(ev.from, e)
		}
	case busPresence:
		for _, e := range m.Editors {
			d.replaced(e)
			d.arrive(ev.from, e)
		}
	case busLeave:
		for _, e := range m.Editors {
			d.depart(remoteKey{ev.from, e.Client})
		}
	case busState:
		keep := make(map[string]bool, len(m.Editors))
		for _, e := range m.Editors {
			keep[e.Client] = true
			d.replaced(e)
			d.arrive(ev.from, e)
		}
		d.forget(ev.from, keep)
	}
}

// replaced closes the local connections that joined the document as b's
// client before b joined it on another server. A client id is used by one
// connection at a time (4001) across servers too: two connections under
// one id, such as a duplicated browser tab sent to another server, number
// their submits alike, and one's ops would be taken for the other's
// duplicates and dropped. Only older connections go: the join of a
// connection since closed can arrive after its client reconnected here.
//
// Joins, carets and states all carry the join time, and a local editor
// newer than b is announced again, so the older connection goes whichever
// message gets through: a join lost on the bus is made up for by the
// states servers exchange when one appears or reconnects to the bus.
func (d *document) replaced(b busEditor) {
	if b.Joined == 0 {
		return
	}
	for c, e := range d.editors {
		switch t := e.joined.UnixNano(); {
		case e.client != b.Client:
		case t < b.Joined:
			c.closeWith(wire.CloseReplaced, "replaced by a newer connection on another server")
		case t > b.Joined:
			d.publishToServers(busMsg{Kind: busJoin, Editors: []busEditor{d.busEditorOf(e)}})
		}
	}
}

// arrive adds or updates a remote editor, and its caret.
func (d *document) arrive(from string, b busEditor) {
	k := remoteKey{from, b.Client}
	r := d.others[k]
	if r == nil {
		r = &remoteEditor{pub: wire.PublicID(b.Client)}
		d.others[k] = r
		r.busEditor = b
		d.tellLocal(r, &wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: r.pub, Name: b.Name, Color: b.Color, Event: wire.EventJoin})
	}
	r.busEditor = b
	if b.Caret {
		r.ahead = &b
		d.placeRemote(r)
	}
}

// placeRemote moves a remote caret from its revision to the document's
// and relays it, once the document has that revision.
func (d *document) placeRemote(r *remoteEditor) {
	b := r.ahead
	if b == nil || b.Rev > d.rev {
		return // applied when the document gets there
	}
	r.ahead = nil
	base := d.rev - uint64(len(d.window))
	if b.Rev < base {
		return // too old: the next move brings a fresh one
	}
	p := &presence{anchor: b.Anchor, head: b.Head}
	for _, rec := range d.window[b.Rev-base:] {
		p.transform(rec.Op, rec.Client != "" && rec.Client == b.Client)
	}
	p.anchor, p.head = min(p.anchor, d.buf.Len()), min(p.head, d.buf.Len())
	r.pres = p
	d.tellLocal(r, r.presenceMsg(d.id, d.rev))
}

// tellLocal sends the local editors msg about remote editor r, unless r
// is shadowed by a local editor of the same client.
func (d *document) tellLocal(r *remoteEditor, msg any) {
	if !d.shadowed(r.Client) {
		d.broadcast(encode(msg), nil)
	}
}

// shadowed reports whether client is a local editor.
func (d *document) shadowed(client string) bool {
	for _, e := range d.editors {
		if e.client == client {
			return true
		}
	}
	return false
}

func (r *remoteEditor) presenceMsg(doc string, rev uint64) *wire.Presence {
	return &wire.Presence{Type: wire.TypePresence, Doc: doc, Client: r.pub, Name: r.Name, Color: r.Color,
		Rev: rev, Anchor: r.pres.anchor, Head: r.pres.head}
}

// depart removes a remote editor and tells the local ones.
func (d *document) depart(k remoteKey) {
	r, ok := d.others[k]
	if !ok {
		return
	}
	delete(d.others, k)
	d.tellLocal(r, &wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: r.pub, Name: r.Name, Color: r.Color, Event: wire.EventLeave})
}

// forget removes the editors of server from, but those in keep.
func (d *document) forget(from string, keep map[string]bool) {
	for k := range d.others {
		if k.from == from && !keep[k.client] {
			d.depart(k)
		}
	}
}

// moveRemote moves the remote carets through a committed op and places
// those that were waiting for its revision.
func (d *document) moveRemote(rec storage.Record) {
	for _, r := range d.others {
		if r.pres != nil {
			r.pres.transform(rec.Op, rec.Client != "" && rec.Client == r.Client)
		}
		if r.ahead != nil && r.ahead.Rev == d.rev {
			d.placeRemote(r)
		}
	}
}

// greeting appends, to the welcome of a local newcomer of client, the
// editors of the other servers, but those of client, which it shadows.
func (d *document) greeting(msgs []any, client string) []any {
	for _, r := range d.others {
		if r.Client == client || d.shadowed(r.Client) {
			continue
		}
		msgs = append(msgs, &wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: r.pub, Name: r.Name, Color: r.Color, Event: wire.EventJoin})
		if r.pres != nil {
			msgs = append(msgs, r.presenceMsg(d.id, d.rev))
		}
	}
	return msgs
}
