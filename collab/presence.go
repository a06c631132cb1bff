package collab

import (
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// presence is an editor's caret or selection at the document's committed
// revision, in code points. Owned by the document's run.
type presence struct {
	anchor, head int
}

// transform moves the selection through op. own says op is the editor's own:
// a caret then moves after text it inserted at its position.
func (p *presence) transform(op ot.Op, own bool) {
	p.anchor = ot.TransformIndex(op, p.anchor, own)
	p.head = ot.TransformIndex(op, p.head, own)
}

func (e *editor) presenceMsg(doc string, rev uint64) *wire.Presence {
	return &wire.Presence{Type: wire.TypePresence, Doc: doc, Client: e.pub, Name: e.name, Color: e.color,
		Rev: rev, Anchor: e.pres.anchor, Head: e.pres.head}
}

// presence stores an editor's caret, moved from its revision to the head,
// and relays it to the other editors. A caret older than the in-memory
// window is dropped: the editor sends a new one as soon as it moves.
func (d *document) presence(r *presenceReq) {
	e, ok := d.editors[r.c]
	if !ok {
		r.c.sendError(ErrNotJoined, d.id, 0)
		return
	}
	if d.lapsed(e) {
		return
	}
	d.catchUpTo(r.p.Rev)
	if r.p.Rev > d.rev {
		r.c.sendError(ErrFutureRev, d.id, 0)
		return
	}
	if d.rev-r.p.Rev > d.srv.opts.MaxCatchUp {
		d.srv.limitHit(limitCatchUp)
		r.c.sendError(errTooFar, d.id, 0)
		return
	}
	base := d.rev - uint64(len(d.window))
	if r.p.Rev < base {
		return // older than the window: the next caret will do
	}
	p := &presence{anchor: r.p.Anchor, head: r.p.Head}
	for _, rec := range d.window[r.p.Rev-base:] {
		p.transform(rec.Op, rec.Client != "" && rec.Client == e.client) // clamps to the op's base
	}
	p.anchor, p.head = min(p.anchor, d.buf.Len()), min(p.head, d.buf.Len())
	e.pres = p
	d.broadcast(encode(e.presenceMsg(d.id, d.rev)), r.c)
	d.publishToServers(busMsg{Kind: busPresence, Editors: []busEditor{d.busEditorOf(e)}})
}
