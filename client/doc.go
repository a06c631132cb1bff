package client

import (
	"context"
	"fmt"
	"sync"
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// Doc is one joined document: its local text (the server's text with the
// local edits not yet acknowledged applied), the pending edits and the
// other editors' carets. All methods are safe for concurrent use.
type Doc struct {
	c  *Conn
	id string

	mu       sync.Mutex
	events   *eventQueue // guarded by mu
	text     docText     // guarded by mu; local text
	server   docText     // guarded by mu; server text at rev
	rev      uint64      // guarded by mu; last server revision known
	hasState bool        // guarded by mu; a first joined arrived
	inflight *pending    // guarded by mu; the submit awaiting its ack
	buffer   *ot.Op      // guarded by mu; local edits composed, not sent
	splitOff bool        // guarded by mu; buffer is the unsent rest of the edit in flight, nothing added
	lastSeq  uint64      // guarded by mu; last seq given (or committed)
	readOnly bool        // guarded by mu
	sess     *session    // guarded by mu; session the join was sent on
	live     bool        // guarded by mu; joined arrived on sess
	// forText: the Doc started over to confirm an acknowledged op from
	// the server's text (pending.confirm); until a joined brings the
	// text, every join asks for it rather than resuming from rev, whose
	// text is unconfirmed. Guarded by mu.
	forText bool
	// awaitToken: the server ended the session for its token; the Doc
	// rejoins on sess once run got a new one. Guarded by mu.
	awaitToken bool
	status     Status              // guarded by mu
	others     map[string]Presence // guarded by mu; by client id
	mine       *selection          // guarded by mu; own caret, local positions
	sendMine   bool                // guarded by mu; mine not yet sent
	resyncs    int                 // guarded by mu; rejoins since the last progress
	changed    chan struct{}       // guarded by mu; closed and replaced on change
	joined     chan struct{}       // closed on the first joined or on end
	ended      bool                // guarded by mu
	err        error               // guarded by mu; why the Doc ended
}

// pending is the submit in flight. seq never changes; op is rebased over
// the remote ops that arrive until it is acknowledged, so it always applies
// to the server text at Doc.rev.
type pending struct {
	seq uint64
	op  ot.Op
	// confirm: a reset rebased op after it was sent, so the server may
	// commit it as first sent (sequenced through another server before
	// the reset, committed after); its ack is followed by a join for the
	// text, which shows which was committed.
	confirm bool
}

// Join starts editing document id and waits until the server sent its
// state. If the Conn is offline and reconnects, Join waits for that. A
// refusal is a *ServerError (e.g. invalid_doc_id, forbidden).
func (c *Conn) Join(ctx context.Context, id string) (*Doc, error) {
	d := &Doc{
		c:       c,
		id:      id,
		events:  newEventQueue(c.opts.EventBuffer),
		others:  make(map[string]Presence),
		changed: make(chan struct{}),
		joined:  make(chan struct{}),
	}
	c.mu.Lock()
	switch {
	case c.status == StatusClosed:
		c.mu.Unlock()
		return nil, ErrClosed
	case c.docs[id] != nil:
		c.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", ErrJoined, id)
	}
	c.docs[id] = d
	if c.sess != nil {
		d.mu.Lock()
		d.join(c.sess)
		d.mu.Unlock()
	}
	c.mu.Unlock()

	select {
	case <-d.joined:
	case <-ctx.Done():
		d.mu.Lock()
		if !d.hasState {
			d.leave()
			d.end(context.Cause(ctx))
		}
		d.mu.Unlock()
	}
	d.mu.Lock()
	ok, err := d.hasState, d.err
	d.mu.Unlock()
	if !ok {
		c.remove(d)
		return nil, err
	}
	return d, nil
}

// ID returns the document id.
func (d *Doc) ID() string { return d.id }

// Text returns the local text: the server's with local edits applied.
func (d *Doc) Text() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text.String()
}

// Len returns the length of the local text in code points.
func (d *Doc) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.text.Len()
}

// Rev returns the last server revision the Doc knows.
func (d *Doc) Rev() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rev
}

// Pending returns the number of local ops not yet acknowledged: 0
// (synchronised), 1 (one in flight, or one buffered while offline) or 2
// (one in flight and a buffer).
func (d *Doc) Pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	if d.inflight != nil {
		n++
	}
	if d.buffer != nil {
		n++
	}
	return n
}

// Status reports whether the Doc is online (joined and live), offline
// (waiting to rejoin) or closed.
func (d *Doc) Status() Status {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status
}

// ReadOnly reports whether the server lets this editor only read.
func (d *Doc) ReadOnly() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.readOnly
}

// Err returns why the Doc ended (ErrLeft, the Conn's error), or nil.
func (d *Doc) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// Events returns the Doc's event channel. It is bounded (Options.EventBuffer)
// and never blocks the client: when full, events are dropped and the next
// one delivered counts them in Missed. It is closed when the Doc ends.
func (d *Doc) Events() <-chan Event { return d.events.ch }

// Presence returns the other editors' carets, by client id, in local text
// positions.
func (d *Doc) Presence() map[string]Presence {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := make(map[string]Presence, len(d.others))
	for k, v := range d.others {
		m[k] = v
	}
	return m
}

// Apply applies op, a local edit of the current local text, and sends it
// to the server in the background. It fails, changing nothing, if op does
// not apply to the local text (an error wrapping an ot error), the Doc is
// read-only (ErrReadOnly) or has ended.
func (d *Doc) Apply(op ot.Op) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.applyLocal(op)
}

// Edit applies the op fn returns for the current local text, atomically:
// no remote op can move the text between fn's view and the edit. fn runs
// with the Doc locked and must not call the Doc's methods. If fn returns
// an error, Edit returns it and changes nothing.
func (d *Doc) Edit(fn func(text string) (ot.Op, error)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		return d.err
	}
	op, err := fn(d.text.String())
	if err != nil {
		return err
	}
	return d.applyLocal(op)
}

// Insert inserts s at code point pos of the local text.
func (d *Doc) Insert(pos int, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("client: insert: %w", ot.ErrInvalidText)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	n := d.text.Len()
	if pos < 0 || pos > n {
		return fmt.Errorf("%w: insert at %d in %d code points", ErrPosition, pos, n)
	}
	var b ot.Builder
	return d.applyLocal(b.Retain(pos).Insert(s).Retain(n - pos).Op())
}

// Delete deletes n code points of the local text from pos.
func (d *Doc) Delete(pos, n int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := d.text.Len()
	if pos < 0 || n < 0 || pos+n > l {
		return fmt.Errorf("%w: delete %d at %d in %d code points", ErrPosition, n, pos, l)
	}
	var b ot.Builder
	return d.applyLocal(b.Retain(pos).Delete(n).Retain(l - pos - n).Op())
}

// Replace makes the local text equal to text, as the edit ot.Diff finds.
func (d *Doc) Replace(text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cur := d.text.String()
	if cur == text {
		return nil
	}
	return d.applyLocal(ot.Diff(cur, text))
}

// SetPresence sets this editor's caret or selection, in local text
// positions. It is sent when no local edit is pending (the server reads
// positions at a revision, and pending edits have none yet), moved through
// every op applied meanwhile, and sent again after reconnecting.
func (d *Doc) SetPresence(anchor, head int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ended {
		return d.err
	}
	if n := d.text.Len(); anchor < 0 || head < 0 || anchor > n || head > n {
		return fmt.Errorf("%w: selection %d-%d in %d code points", ErrPosition, anchor, head, n)
	}
	d.mine = &selection{anchor: anchor, head: head}
	d.sendMine = true
	d.flush()
	return nil
}

// WaitSynced waits until every local edit is acknowledged: nothing is in
// flight or buffered. It returns early with ctx's error, or with the Doc's
// error if the Doc ends with edits pending.
func (d *Doc) WaitSynced(ctx context.Context) error {
	for {
		d.mu.Lock()
		synced, ended, err, ch := d.inflight == nil && d.buffer == nil, d.ended, d.err, d.changed
		d.mu.Unlock()
		switch {
		case synced:
			return nil
		case ended:
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// WaitRev waits until the Doc knows revision rev or later.
func (d *Doc) WaitRev(ctx context.Context, rev uint64) error {
	for {
		d.mu.Lock()
		got, ended, err, ch := d.rev, d.ended, d.err, d.changed
		d.mu.Unlock()
		switch {
		case got >= rev:
			return nil
		case ended:
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// Leave waits until the local edits are acknowledged (WaitSynced), then
// stops editing the document; its state stays readable. If ctx ends first,
// Leave returns its error and the Doc stays joined, edits pending.
func (d *Doc) Leave(ctx context.Context) error {
	if err := d.WaitSynced(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	d.leave()
	d.end(ErrLeft)
	d.mu.Unlock()
	d.c.remove(d)
	return nil
}

// leave tells the server the Doc leaves, if it was told it joined.
func (d *Doc) leave() {
	if d.sess != nil {
		d.sess.send(wire.Leave{Type: wire.TypeLeave, Doc: d.id})
	}
}
