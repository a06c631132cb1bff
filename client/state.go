package client

import (
	"errors"
	"fmt"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// maxResyncs bounds the rejoins a Doc makes without progress before it
// gives up: a server whose state keeps contradicting the client's is broken.
const maxResyncs = 5

// The methods in this file run with d.mu held.

// join sends join on s. The Doc is live again when joined arrives.
func (d *Doc) join(s *session) { d.sendJoin(s, d.hasState && !d.forText) }

func (d *Doc) sendJoin(s *session, resume bool) {
	if d.ended {
		return
	}
	d.sess, d.live, d.awaitToken = s, false, false
	m := wire.Join{Type: wire.TypeJoin, Doc: d.id}
	if resume {
		rev := d.rev
		m.Rev = &rev
	}
	s.send(m)
}

// resync rejoins the document on its session: from the last revision known
// if resume, else for the full text, which is always safe. A leave goes
// first unless the server said we are not joined.
func (d *Doc) resync(resume bool, why error) {
	d.c.log.Warn("client: resynchronising document", "doc", d.id, "client", d.c.id, "err", why)
	d.resyncs++
	if d.resyncs > maxResyncs {
		d.leave()
		d.end(fmt.Errorf("%w: document %q keeps diverging: %v", ErrProtocol, d.id, why))
		return
	}
	if d.sess == nil {
		return // rejoins on reconnect
	}
	var se *ServerError
	if !errors.As(why, &se) || se.Code != wire.CodeNotJoined {
		d.leave()
	}
	d.sendJoin(d.sess, resume)
}

// offline marks the Doc disconnected after s ended.
func (d *Doc) offline(s *session) {
	if d.sess != s || d.ended {
		return
	}
	d.sess, d.live = nil, false
	d.setStatus(StatusOffline, nil)
	d.dropOthers()
	d.notify()
}

// dropOthers forgets the other editors' carets, which nobody updates
// while we are offline: each gets an EventLeave. The server announces the
// editors still there, with their carets, when we join again.
func (d *Doc) dropOthers() {
	for id, p := range d.others {
		d.events.emit(Event{Kind: EventLeave, Rev: d.rev, Client: id, Name: p.Name, Color: p.Color})
	}
	clear(d.others)
}

// end ends the Doc for good with err. Its state stays readable.
func (d *Doc) end(err error) {
	if d.ended {
		return
	}
	d.ended, d.err = true, err
	d.sess, d.live = nil, false
	d.setStatus(StatusClosed, err)
	d.events.close()
	if !d.hasState {
		close(d.joined)
	}
	d.notify()
}

func (d *Doc) setStatus(st Status, err error) {
	if d.status == st {
		return
	}
	d.status = st
	d.events.emit(Event{Kind: EventStatus, Status: st, Rev: d.rev, Err: err})
}

// notify wakes WaitSynced and WaitRev.
func (d *Doc) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// handle applies one message of session s. gone reports that the Doc
// ended; an error ends the session.
func (d *Doc) handle(s *session, msg any) (gone bool, err error) {
	if d.ended || d.sess != s {
		return false, nil // left, or a message of an older membership
	}
	defer d.notify()
	switch m := msg.(type) {
	case *wire.Joined:
		d.onJoined(m)
		return d.ended, nil
	case *wire.Error:
		err := d.onError(m)
		return d.ended, err
	}
	if !d.live {
		return false, nil // sent before the leave of a resync
	}
	switch m := msg.(type) {
	case *wire.Ack:
		d.onAck(m)
	case *wire.Op:
		d.onOp(m)
	case *wire.Presence:
		d.onPresence(m)
	case *wire.Editor:
		d.onEditor(m)
	}
	return d.ended, nil
}

func (d *Doc) onJoined(m *wire.Joined) {
	if d.live {
		d.c.log.Warn("client: joined without join", "doc", d.id)
		return
	}
	d.readOnly = m.ReadOnly
	clear(d.others) // the server sends every editor's presence again
	if m.Text != nil {
		d.forText = false
	}
	switch {
	case !d.hasState:
		if m.Text == nil {
			d.end(fmt.Errorf("%w: joined without text", ErrProtocol))
			return
		}
		d.text, d.server = newDocText(*m.Text), newDocText(*m.Text)
		d.rev, d.lastSeq, d.hasState = m.Rev, m.Seq, true
		close(d.joined)
	case m.Text != nil && m.Rev < d.rev:
		// The revision went back: the document was deleted while we were
		// away (or restored from an older copy). Rebasing onto it would
		// recreate it from our pending edits alone, without a word.
		d.leave()
		d.end(&ServerError{Code: wire.CodeNotFound, Doc: d.id,
			Message: fmt.Sprintf("client: the document was deleted while offline (it was at revision %d, it is at %d)", d.rev, m.Rev)})
		return
	case m.Text != nil:
		d.reset(m)
	default:
		for _, r := range m.Ops {
			if err := d.applyRecord(r); errors.Is(err, errStartOver) {
				d.startOver()
				return
			} else if err != nil {
				d.resync(false, err)
				return
			}
		}
		if d.rev != m.Rev {
			d.resync(false, fmt.Errorf("joined at %d, ops end at %d", m.Rev, d.rev))
			return
		}
	}
	d.lastSeq = max(d.lastSeq, m.Seq)
	if d.inflight != nil && d.inflight.seq <= m.Seq {
		// Committed, yet not among the ops since our revision: start over
		// from the text (also after a reconnect), as the browser does.
		d.startOver()
		return
	}
	d.live = true
	d.setStatus(StatusOnline, nil)
	d.sendMine = d.mine != nil
	if d.inflight != nil {
		d.submit() // resend at once, under its original seq
	}
	d.flush()
}

// reset adopts the full text of m: pending ops the server already has
// (seq ≤ m.Seq) are dropped, the others rebased over the server's change.
func (d *Doc) reset(m *wire.Joined) {
	base := d.server.String()
	if p := d.inflight; p != nil && p.seq <= m.Seq {
		if t, err := p.op.Apply(base); err == nil {
			base = t
		}
		d.inflight = nil
		d.events.emit(Event{Kind: EventAck, Seq: p.seq, Rev: m.Rev})
	}
	local, err := d.rebase(d.c.opts.Diff(base, *m.Text), "")
	if err != nil {
		// Cannot happen while the invariants hold; recover by dropping
		// the pending edits rather than diverging from the server.
		d.c.log.Error("client: rebase on reset failed; dropping pending edits", "doc", d.id, "err", err)
		local = ot.Diff(d.text.String(), *m.Text)
		d.inflight, d.buffer = nil, nil
		d.text = newDocText(*m.Text)
		d.moveCarets(local, "")
		d.events.emit(Event{Kind: EventError, Rev: m.Rev, Err: fmt.Errorf("client: pending edits lost on reset: %w", err)})
	}
	d.server, d.rev = newDocText(*m.Text), m.Rev
	if d.inflight != nil {
		d.inflight.confirm = true
	}
	d.events.emit(Event{Kind: EventReset, Rev: m.Rev, Op: local})
}

// errStartOver: the op in flight was acknowledged and must be confirmed
// from the text (pending.confirm).
var errStartOver = errors.New("client: confirm the acknowledged op from the text")

// startOver leaves the document and joins it again for its text.
func (d *Doc) startOver() {
	d.forText = true
	if d.sess == nil {
		return // joins on reconnect, for the text
	}
	d.leave()
	d.sendJoin(d.sess, false)
}

// rebase applies change, an op on the server text the pending ops start
// from, to the pending ops and the local text. It returns change as
// applied to the local text. author is the editor who made change, if any.
// On error nothing changed.
func (d *Doc) rebase(change ot.Op, author string) (ot.Op, error) {
	local := change
	var inflight, buffer ot.Op
	var err error
	if d.inflight != nil {
		if local, inflight, err = ot.Transform(local, d.inflight.op); err != nil {
			return ot.Op{}, fmt.Errorf("client: rebase in-flight op: %w", err)
		}
	}
	if d.buffer != nil {
		if local, buffer, err = ot.Transform(local, *d.buffer); err != nil {
			return ot.Op{}, fmt.Errorf("client: rebase buffer: %w", err)
		}
	}
	if err := d.text.apply(local); err != nil {
		return ot.Op{}, fmt.Errorf("client: rebase local text: %w", err)
	}
	if d.inflight != nil {
		d.inflight = &pending{seq: d.inflight.seq, op: inflight, confirm: d.inflight.confirm}
	}
	if d.buffer != nil {
		d.buffer = &buffer
	}
	d.moveCarets(local, author)
	return local, nil
}

// moveCarets moves the carets through op, just applied to the local text.
// author is op's editor's public id ("" for none, d.c.pub for us).
func (d *Doc) moveCarets(op ot.Op, author string) {
	n := d.text.Len()
	for id, p := range d.others {
		own := id == author
		p.Anchor = clamp(ot.TransformIndex(op, p.Anchor, own), n)
		p.Head = clamp(ot.TransformIndex(op, p.Head, own), n)
		d.others[id] = p
	}
	if d.mine != nil {
		own := author == d.c.pub
		d.mine = &selection{
			anchor: clamp(ot.TransformIndex(op, d.mine.anchor, own), n),
			head:   clamp(ot.TransformIndex(op, d.mine.head, own), n),
		}
	}
}

// applyRecord applies the committed op r, the next revision: our in-flight
// op (then it is its ack) or another editor's.
func (d *Doc) applyRecord(r wire.Record) error {
	if r.Rev <= d.rev {
		return nil // seen already
	}
	if r.Rev != d.rev+1 {
		return fmt.Errorf("gap: revision %d after %d", r.Rev, d.rev)
	}
	if n := d.server.Len(); r.Op.BaseLen() != n {
		return fmt.Errorf("revision %d: %w", r.Rev, &ot.LengthError{Want: r.Op.BaseLen(), Got: n})
	}
	if p := d.inflight; p != nil && r.Client == d.c.pub && r.Seq == p.seq {
		if !r.Op.Equal(p.op) {
			return fmt.Errorf("own seq %d committed as %v, sent as %v", p.seq, r.Op, p.op)
		}
		if err := d.server.apply(r.Op); err != nil {
			return fmt.Errorf("revision %d: %w", r.Rev, err)
		}
		d.rev, d.inflight, d.resyncs = r.Rev, nil, 0
		d.events.emit(Event{Kind: EventAck, Seq: p.seq, Rev: r.Rev})
		if p.confirm {
			return errStartOver
		}
		return nil
	}
	local := r.Op
	if d.inflight == nil && d.buffer == nil {
		// Nothing pending: the local text is the server's.
		if err := d.text.apply(r.Op); err != nil {
			return fmt.Errorf("revision %d: %w", r.Rev, err)
		}
		d.moveCarets(r.Op, r.Client)
	} else {
		var err error
		if local, err = d.rebase(r.Op, r.Client); err != nil {
			return err
		}
	}
	// Cannot fail: r.Op fits the server text's length, and the decoder
	// checked its components (the local text has it already).
	if err := d.server.apply(r.Op); err != nil {
		return fmt.Errorf("revision %d: %w", r.Rev, err)
	}
	d.rev = r.Rev
	d.events.emit(Event{Kind: EventOp, Rev: r.Rev, Op: local, Client: r.Client, Seq: r.Seq, Name: r.Name})
	return nil
}

func (d *Doc) onOp(m *wire.Op) {
	err := d.applyRecord(wire.Record{Rev: m.Rev, Op: m.Op, Client: m.Client, Seq: m.Seq, Name: m.Name})
	if errors.Is(err, errStartOver) {
		d.startOver()
		return
	} else if err != nil {
		d.resync(false, err)
		return
	}
	d.resyncs = 0
	d.flush()
}

func (d *Doc) onAck(m *wire.Ack) {
	p := d.inflight
	if p == nil || m.Seq != p.seq {
		return // the ack of a resubmission already counted
	}
	if m.Rev != d.rev+1 {
		d.resync(false, fmt.Errorf("ack of seq %d at revision %d after %d", m.Seq, m.Rev, d.rev))
		return
	}
	if err := d.server.apply(p.op); err != nil {
		d.resync(false, err)
		return
	}
	d.rev, d.inflight, d.resyncs = m.Rev, nil, 0
	d.events.emit(Event{Kind: EventAck, Seq: p.seq, Rev: m.Rev})
	if p.confirm {
		d.startOver()
		return
	}
	d.flush()
}

func (d *Doc) onPresence(m *wire.Presence) {
	if m.Client == d.c.pub {
		return
	}
	a, h := m.Anchor, m.Head
	if m.Rev == d.rev {
		// Positions in the server text: move them over our pending edits.
		for _, op := range d.pendingOps() {
			a, h = ot.TransformIndex(op, a, false), ot.TransformIndex(op, h, false)
		}
	}
	p := Presence{Client: m.Client, Name: m.Name, Color: m.Color,
		Anchor: clamp(a, d.text.Len()), Head: clamp(h, d.text.Len())}
	d.others[m.Client] = p
	d.events.emit(Event{Kind: EventPresence, Rev: d.rev, Client: m.Client, Name: m.Name, Color: m.Color, Presence: p})
}

func (d *Doc) onEditor(m *wire.Editor) {
	if m.Client == d.c.pub {
		return
	}
	e := Event{Kind: EventJoin, Rev: d.rev, Client: m.Client, Name: m.Name, Color: m.Color}
	if m.Event == wire.EventLeave {
		e.Kind = EventLeave
		delete(d.others, m.Client)
	}
	d.events.emit(e)
}

// onError handles an error about this document. An error it returns ends
// the session, to be retried after a backoff.
func (d *Doc) onError(m *wire.Error) error {
	se := &ServerError{Code: m.Code, Message: m.Message, Doc: m.Doc, Seq: m.Seq, By: m.By}
	if !d.hasState {
		if transientCode(m.Code) && d.c.opts.Reconnect {
			return se // retried after a backoff
		}
		d.end(se) // Join fails with se
		return nil
	}
	if !d.live && m.Code == wire.CodeNotJoined {
		return nil // the answer to the leave of a resync
	}
	if p := d.inflight; p != nil && m.Seq == p.seq {
		switch m.Code {
		case wire.CodeRevTooOld, wire.CodeFutureRev, wire.CodeNotJoined:
			d.resync(m.Code == wire.CodeNotJoined, se)
		case wire.CodeUnavailable, wire.CodeInternal, wire.CodeRateLimited, wire.CodeQuotaExceeded:
			return se
		default:
			d.reject(se)
		}
		return nil
	}
	switch {
	case m.Code == wire.CodeUnauthorized && d.live && m.Seq == 0:
		d.sessionEnded(se)
	case m.Code == wire.CodeNotJoined || m.Code == wire.CodeRevTooOld:
		d.resync(m.Code == wire.CodeNotJoined, se)
	case transientCode(m.Code):
		return se
	case !d.live, m.Code == wire.CodeNotFound:
		d.end(se) // rejoining refused, or the document was deleted
	default:
		d.events.emit(Event{Kind: EventError, Rev: d.rev, Seq: m.Seq, Err: se})
	}
	return nil
}

// reject drops the in-flight op the server refused, removing its effect
// from the local text by its inverse rebased over the buffer.
func (d *Doc) reject(se *ServerError) {
	p := d.inflight
	inv, err := p.op.Invert(d.server.String())
	if err != nil {
		d.resync(false, err)
		return
	}
	d.inflight = nil
	// inv applies to the server text plus p, where the buffer starts.
	local, err := d.rebase(inv, "")
	if err != nil {
		d.inflight = p
		d.resync(false, err)
		return
	}
	if se.Code == wire.CodeReadOnly {
		d.readOnly = true
	}
	d.c.log.Warn("client: edit refused by server", "doc", d.id, "seq", p.seq, "err", se)
	d.events.emit(Event{Kind: EventReject, Rev: d.rev, Seq: p.seq, Op: local, Err: se})
	if d.splitOff && d.buffer != nil {
		// The unsent rest of the same edit: the server would most likely
		// refuse it too; one refusal for one edit.
		d.refuseBuffer(se)
	}
	d.flush()
}

// applyLocal applies a local edit and queues it for the server.
func (d *Doc) applyLocal(op ot.Op) error {
	if d.ended {
		return d.err
	}
	if d.readOnly {
		return ErrReadOnly
	}
	if n := d.text.Len(); op.BaseLen() != n {
		return fmt.Errorf("client: apply: %w", &ot.LengthError{Want: op.BaseLen(), Got: n})
	}
	if op.IsNoop() {
		return nil
	}
	buffer := op
	if d.buffer != nil {
		var err error
		if buffer, err = ot.Compose(*d.buffer, op); err != nil {
			return fmt.Errorf("client: compose: %w", err)
		}
	}
	if err := d.text.apply(op); err != nil {
		return fmt.Errorf("client: apply: %w", err)
	}
	d.buffer, d.splitOff = &buffer, false
	d.moveCarets(op, d.c.pub)
	d.flush()
	d.notify()
	return nil
}

// flush sends the buffer when nothing is in flight, and the caret when
// nothing is pending.
func (d *Doc) flush() {
	if !d.live || d.ended {
		return
	}
	if d.inflight == nil && d.buffer != nil && d.takeBuffer() {
		d.submit()
	}
	if d.inflight == nil && d.buffer == nil && d.sendMine {
		m := wire.Presence{Type: wire.TypePresence, Doc: d.id, Rev: d.rev, Anchor: d.mine.anchor, Head: d.mine.head}
		d.sess.sendPresence(d.id, m)
		d.sendMine = false
	}
}

// takeBuffer numbers the buffer as the op in flight, or as much of it as
// fits in one submit under the server's limits, leaving the rest in the
// buffer: each piece is a valid op with a seq of its own, and the pieces
// compose to the edit. An edit that would make the document larger than
// the server takes is refused here, whole, rather than half committed. It
// reports whether an op is now in flight.
func (d *Doc) takeBuffer() bool {
	op := *d.buffer
	first, rest, split := budgetFor(d.sess.limits, d.id).split(op)
	if split {
		if n := len(d.text.String()); n > d.sess.limits.Doc {
			d.refuseBuffer(&ServerError{Code: wire.CodeDocTooLarge, Doc: d.id,
				Message: fmt.Sprintf("client: the edit would make the document %d bytes, over the server's limit of %d", n, d.sess.limits.Doc)})
			return false
		}
		d.buffer = &rest
	} else {
		d.buffer = nil
	}
	d.splitOff = split
	d.lastSeq++
	d.inflight = &pending{seq: d.lastSeq, op: first}
	return true
}

// refuseBuffer drops the buffered edits, never sent, for se: their effect
// leaves the local text. Nothing is in flight, so the buffer applies to
// the server text.
func (d *Doc) refuseBuffer(se *ServerError) {
	op := *d.buffer
	inv, err := op.Invert(d.server.String())
	if err == nil {
		err = d.text.apply(inv)
	}
	if err != nil {
		d.resync(false, err) // cannot happen: the buffer applies to the server text
		return
	}
	d.buffer, d.splitOff = nil, false
	d.moveCarets(inv, "")
	d.c.log.Warn("client: edit refused before sending", "doc", d.id, "err", se)
	d.events.emit(Event{Kind: EventReject, Rev: d.rev, Op: inv, Err: se})
}

func (d *Doc) submit() {
	p := d.inflight
	d.sess.send(wire.Submit{Type: wire.TypeSubmit, Doc: d.id, Rev: d.rev, Seq: p.seq, Op: p.op})
}

func (d *Doc) pendingOps() []ot.Op {
	var ops []ot.Op
	if d.inflight != nil {
		ops = append(ops, d.inflight.op)
	}
	if d.buffer != nil {
		ops = append(ops, *d.buffer)
	}
	return ops
}
