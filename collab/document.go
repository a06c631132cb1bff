package collab

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// maxPending bounds the ops applied but not yet committed; past it the owner
// stops reading its mailbox until a commit completes (backpressure on the
// submitters' readers, never on other documents).
const maxPending = 4096

// document is one loaded document. Its goroutine, run, owns all the state
// below "owned by run"; others talk to it through in.
type document struct {
	id      string
	srv     *Server
	in      chan any          // requests: *joinReq, *leaveReq, *submitReq, *presenceReq, *deleteReq, *evictReq
	done    chan struct{}     // closed by end: the document takes no more requests
	ended   sync.Once         // closes done once
	idle    chan struct{}     // cap 1: the last reference was released
	commits chan commitResult // cap 1: the Append in flight finished

	refs   int           // guarded by srv.reg.mu
	idleAt *list.Element // guarded by srv.reg.mu: place in the registry's idle list while refs == 0

	// owned by run:
	buf      *ot.Buffer           // the committed text
	bytes    int                  // UTF-8 size of buf
	rev      uint64               // the committed revision
	window   []storage.Record     // the newest committed records, window[len-1].Rev == rev
	winSize  int                  // Op.Size of window's ops
	pending  []*pendingOp         // transformed, validated, not yet committed, in revision order
	inflight int                  // pending[:inflight] are in the Append in flight
	headMax  int                  // upper bound of the UTF-8 size after all pending ops
	editors  map[*conn]*editor    // editors of the document
	outq     []*editor            // editors holding gathered messages, until flushOut
	seqs     map[string]clientSeq // last seq per client, committed or pending
	joinWait []*joinReq           // joins held until their client's pending ops commit (see joinOrWait)
	grace    *time.Timer          // running while nobody references the document
	expiry   *time.Timer          // fires at expiryAt; nil until an editor's token expires
	expiryAt time.Time            // the earliest deadline of the editors' tokens; zero: none armed

	// owned by run, when the store is shared (a Follower, a Bus; see
	// follow.go and bus.go):
	endShared context.CancelFunc          // stops feed and busIn
	feed      <-chan storage.Record       // what any server commits to the document
	bus       storage.Bus                 // nil without one
	busIn     chan busEvent               // what other servers say of their editors
	others    map[remoteKey]*remoteEditor // editors on other servers
	held      []storage.Record            // feed records that arrived while a commit was in flight
	paused    bool                        // startCommit waits: a catch-up is under way
	failure   error                       // why run must stop the document: a catch-up failed, deleted elsewhere
	conflicts int                         // commits refused in a row without the document moving
	stalled   time.Time                   // when the first of them was refused
}

// editor is one connection editing the document. Owned by run.
type editor struct {
	c                   *conn
	client, name, color string
	pub                 string    // wire.PublicID(client), what others see
	joined              time.Time // when it joined (see replaced)
	pres                *presence // nil until the editor sends one
	readOnly            bool
	claims              *Claims  // the token the session runs on; nil: open mode
	session             uint64   // joinedDoc.session, named when the session is cut
	gatheredMsg         []byte   // the first message gathered for the editor (see gather)
	gatheredMsgs        [][]byte // all of them, once there is more than one

	work     float64   // transform work the editor may spend now (Options.MaxTransform)
	workLast time.Time // when work was last refilled; zero: never, the bucket is full
}

// clientSeq is what the document knows of one client's submits: the newest
// seq (pending or committed) and its revision, and the newest committed one.
type clientSeq struct {
	seq, rev   uint64
	cseq, crev uint64
}

// pendingOp is an op sequenced after the committed head, waiting for commit.
type pendingOp struct {
	rec   storage.Record
	recv  time.Time      // when the submit arrived
	reply chan putResult // HTTP waiter, nil for editors
	pub   string         // wire.PublicID(rec.Client) if known, else empty
	// The op as submitted, at revision base: with a shared store, a record
	// committed elsewhere can land before the pending ops, which are then
	// sequenced again from these.
	orig ot.Op
	base uint64
}

type commitResult struct {
	err error
}

// Requests posted to a document.
type (
	joinReq struct {
		c                   *conn
		client, name, color string
		rev                 *uint64
		readOnly            bool
		claims              *Claims    // nil: open mode
		session             uint64     // joinedDoc.session
		reply               chan error // cap 1
	}
	leaveReq    struct{ c *conn }
	presenceReq struct {
		c *conn
		p wire.Presence
	}
	submitReq struct {
		c      *conn // nil for HTTP
		client string
		name   string
		pub    string // set by sequence: wire.PublicID(client)
		rev    uint64
		seq    uint64
		op     ot.Op
		recv   time.Time
		reply  chan putResult // cap 1, HTTP only
	}
	deleteReq struct {
		by    string // the deleting token's name, if any
		reply chan error
	}
	// evictReq asks an idle document to unload at once; it answers whether
	// it did.
	evictReq struct{ reply chan bool }
)

type putResult struct {
	rev uint64
	err error
}

func newDocument(srv *Server, id string) *document {
	return &document{
		id:      id,
		srv:     srv,
		in:      make(chan any, 64),
		done:    make(chan struct{}),
		idle:    make(chan struct{}, 1),
		commits: make(chan commitResult, 1),
		editors: make(map[*conn]*editor),
		seqs:    make(map[string]clientSeq),
	}
}

// post hands req to the owner; false if the document is gone. A request
// that races with the owner's exit may be dropped: the owner's exit kicked
// every editor (an error for the document), and waiters also watch done.
func (d *document) post(req any) bool {
	select {
	case <-d.done:
		return false
	default:
	}
	select {
	case d.in <- req:
		return true
	case <-d.done:
		return false
	}
}

// await posts req and returns its answer from reply, or gone when the
// document ends first (an answer sent just before the end still counts).
func await[T any](d *document, req any, reply <-chan T, gone T) T {
	if !d.post(req) {
		return gone
	}
	select {
	case v := <-reply:
		return v
	case <-d.done:
		select {
		case v := <-reply:
			return v
		default:
			return gone
		}
	}
}

func (d *document) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d.srv.opts.StoreTimeout)
}

// run loads the document, serves requests until the document unloads, is
// deleted, fails or the server shuts down, and finishes every commit it
// started before returning.
func (d *document) run() {
	defer d.end()
	defer func() { d.srv.metrics.windowBytes.Sub(float64(d.winSize)) }()
	if err := d.open(); err != nil {
		d.srv.log.Error("load document", "doc", d.id, "err", err)
		d.srv.reg.remove(d)
		d.failRequests(ErrUnavailable)
		return
	}
	defer d.closeShared()
	defer d.stopExpiry()
	d.grace = time.NewTimer(d.srv.opts.Grace)
	d.grace.Stop()
	for {
		d.admitJoins()
		in := d.in
		if len(d.pending) >= maxPending {
			in = nil
		}
		select {
		case req := <-in:
			if d.handle(req) {
				return
			}
			if d.failure != nil {
				d.stop(d.failure)
				return
			}
		case rec, ok := <-d.feed:
			if d.handleFeedRecord(rec, ok) {
				return
			}
		case ev := <-d.busIn:
			d.handleBusEvent(ev)
		case <-d.expiryC():
			d.expire()
		case res := <-d.commits:
			if d.committed(res) {
				d.stop(cmp.Or(d.failure, ErrUnavailable))
				return
			}
		case <-d.idle:
			d.grace.Reset(d.srv.opts.Grace)
		case <-d.grace.C:
			unloaded, referenced := d.srv.reg.tryUnload(d, len(d.editors) == 0 && len(d.pending) == 0)
			if unloaded {
				return
			}
			if !referenced { // a leave or commit still to process: look again
				d.grace.Reset(d.srv.opts.Grace)
			}
		case <-d.srv.quit:
			d.drain()
			d.stop(ErrShuttingDown)
			return
		}
	}
}

func (d *document) load() error {
	ctx, cancel := d.ctx()
	defer cancel()
	doc, err := d.srv.store.Load(ctx, d.id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		doc = storage.Doc{}
	case err != nil:
		return err
	}
	d.buf = ot.NewBuffer(doc.Text)
	d.bytes = len(doc.Text)
	d.rev = doc.Rev
	d.headMax = d.bytes
	clear(d.window)
	d.srv.metrics.windowBytes.Sub(float64(d.winSize))
	d.window, d.winSize = d.window[:0], 0
	d.pending = nil
	d.inflight = 0
	clear(d.seqs)
	return nil
}

// failRequests answers what is left in the mailbox after run decided to stop.
func (d *document) failRequests(err error) {
	for {
		select {
		case req := <-d.in:
			switch r := req.(type) {
			case *joinReq:
				r.reply <- err
			case *submitReq:
				if r.reply != nil {
					r.reply <- putResult{err: err}
				} else {
					r.c.sendError(ErrNotJoined, d.id, r.seq) // as post does once done is closed
				}
			case *presenceReq:
				r.c.sendError(ErrNotJoined, d.id, 0)
			case *deleteReq:
				r.reply <- err
			case *evictReq:
				r.reply <- true
			}
		default:
			return
		}
	}
}

// handle serves one request; true means run must return.
func (d *document) handle(req any) bool {
	switch r := req.(type) {
	case *joinReq:
		d.joinOrWait(r)
	case *leaveReq:
		d.leave(r.c)
	case *presenceReq:
		d.presence(r)
	case *submitReq:
		d.submit(r)
	case *deleteReq:
		return d.delete(r)
	case *reauthReq:
		d.reauth(r)
	case *revokeReq:
		d.revoke(r)
	case *evictReq:
		unloaded, _ := d.srv.reg.tryUnload(d, len(d.editors) == 0 && len(d.pending) == 0)
		r.reply <- unloaded
		return unloaded
	}
	return false
}

// drain waits until every pending op is committed or refused.
func (d *document) drain() {
	for len(d.pending) > 0 {
		d.startCommit()
		if d.committed(<-d.commits) {
			d.pending, d.inflight = nil, 0
		}
	}
}

// stop unloads the document at once: editors are sent away with err and
// requests still queued fail with it.
func (d *document) stop(err error) {
	d.srv.reg.remove(d)
	for _, r := range d.joinWait {
		r.reply <- err
	}
	d.joinWait = nil
	d.kick(err)
	d.refuse(err)
	d.failRequests(err)
	// Closed now, not when run returns after its teardown (closeShared
	// publishes to other servers): a request posted meanwhile would be
	// taken into a mailbox nobody reads, and a kicked editor's next
	// submit would go unanswered instead of getting not_joined.
	d.end()
	d.failRequests(err)
}

// end closes done: posts fail from now on.
func (d *document) end() { d.ended.Do(func() { close(d.done) }) }

func (d *document) delete(r *deleteReq) bool {
	d.drain()
	ctx, cancel := d.ctx()
	err := d.srv.store.Delete(ctx, d.id)
	cancel()
	if err != nil && !(errors.Is(err, storage.ErrNotFound) && d.rev > 0) {
		r.reply <- err
		return false
	}
	d.srv.publishChange(Change{Doc: d.id, From: d.rev, Deleted: true})
	// Answered once out of the registry, so that a request sent after the
	// answer loads a new document instead of reaching this one on its way
	// out; and before done closes, which await would take for a failure.
	d.srv.reg.remove(d)
	r.reply <- nil
	d.stop(&DeletedError{By: r.by})
	return true
}

// kick tells every editor the document is gone; they must join again.
func (d *document) kick(err error) {
	for c := range d.editors {
		c.sendError(err, d.id, 0)
	}
	clear(d.editors)
}

// joinOrWait answers r at once unless r's client has ops on the document
// that are sequenced but not committed: then r waits until they are
// committed or refused. joined.seq counts committed ops only, and a
// client resuming from a reset drops its pending ops up to joined.seq and
// rebases the rest over a diff: answered earlier, it would rebase an op
// the server still commits as it was sequenced, and the texts would differ.
func (d *document) joinOrWait(r *joinReq) {
	if d.uncommitted(r.client) {
		d.joinWait = append(d.joinWait, r)
		d.srv.metrics.joinsDelayed.Inc()
		return
	}
	r.reply <- d.join(r)
}

// uncommitted reports whether client has ops sequenced but not committed.
func (d *document) uncommitted(client string) bool {
	cs, ok := d.seqs[client]
	return ok && client != "" && cs.seq > cs.cseq
}

// admitJoins answers the held joins whose clients' ops are no longer
// pending; the others wait on.
func (d *document) admitJoins() {
	if len(d.joinWait) == 0 {
		return
	}
	held := d.joinWait[:0]
	for _, r := range d.joinWait {
		if d.uncommitted(r.client) {
			held = append(held, r)
		} else {
			r.reply <- d.join(r)
		}
	}
	clear(d.joinWait[len(held):])
	d.joinWait = held
}

func (d *document) join(r *joinReq) error {
	if len(d.editors) >= d.srv.opts.MaxEditors {
		d.srv.limitHit(limitEditors)
		return ErrTooManyEditors
	}
	if _, ok := d.editors[r.c]; ok {
		return fmt.Errorf("%w: already joined", ErrBadMessage)
	}
	if err := d.srv.revoked.check(r.claims, d.id); err != nil {
		return err // revoked after the connection checked it: the revocation's request may have come first
	}
	if r.rev != nil {
		d.catchUpTo(*r.rev)
		d.forgetSeqOnResume(r.client)
	}
	seq, err := d.lastSeq(r.client)
	if err != nil {
		return err
	}
	joined := &wire.Joined{Type: wire.TypeJoined, Doc: d.id, Rev: d.rev, Seq: seq.cseq, ReadOnly: r.readOnly}
	var recs []storage.Record
	caughtUp := false
	if r.rev != nil {
		recs, caughtUp = d.catchUp(*r.rev)
	}
	if caughtUp {
		for _, rec := range recs {
			joined.Ops = append(joined.Ops, wire.Record{Rev: rec.Rev, Op: rec.Op, Client: wire.PublicID(rec.Client), Seq: rec.Seq, Name: rec.Author})
		}
	} else {
		text := d.buf.String()
		joined.Text, joined.Reset = &text, r.rev != nil // a rev it cannot catch up from
	}
	e := &editor{c: r.c, client: r.client, pub: wire.PublicID(r.client), joined: time.Now(), name: r.name, color: r.color,
		readOnly: r.readOnly, claims: r.claims, session: r.session}
	arrive := encode(&wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: e.pub, Name: e.name, Color: e.color, Event: wire.EventJoin})
	welcome := []any{joined}
	for _, o := range d.editors {
		welcome = append(welcome, &wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: o.pub, Name: o.name, Color: o.color, Event: wire.EventJoin})
		if o.pres != nil {
			welcome = append(welcome, o.presenceMsg(d.id, d.rev))
		}
		o.c.send(arrive)
	}
	r.c.sendAll(d.greeting(welcome, r.client))
	d.editors[r.c] = e
	d.armExpiry(deadline(e.claims))
	d.grace.Stop()
	d.publishToServers(busMsg{Kind: busJoin, Editors: []busEditor{d.busEditorOf(e)}})
	return nil
}

// catchUp returns the records after rev up to the head, or false when the
// client must get the whole text instead.
func (d *document) catchUp(rev uint64) ([]storage.Record, bool) {
	if rev > d.rev {
		return nil, false
	}
	recs, err := d.committedSince(rev)
	if err != nil {
		if err == errCatchUpBytes {
			d.srv.limitHit(limitHistory)
		}
		return nil, false
	}
	return recs, true
}

// committedSince returns the committed records with Rev > rev, from the
// window when it reaches back far enough, else from the store; errTooFar
// when they are more than MaxCatchUp ops or MaxCatchUpBytes, which are
// never read.
func (d *document) committedSince(rev uint64) ([]storage.Record, error) {
	if rev >= d.rev {
		return nil, nil
	}
	if d.rev-rev > d.srv.opts.MaxCatchUp {
		return nil, errTooFar
	}
	budget := d.srv.opts.MaxCatchUpBytes
	if base := d.rev - uint64(len(d.window)); rev >= base {
		recs := d.window[rev-base:]
		if opsSize(recs) > budget {
			return nil, errCatchUpBytes
		}
		return recs, nil
	}
	ctx, cancel := d.ctx()
	defer cancel()
	recs, more, err := opsWithin(ctx, d.srv.store, d.id, rev, d.rev, budget)
	switch {
	case err != nil:
		return nil, err
	case more || opsSize(recs) > budget:
		return nil, errCatchUpBytes
	case uint64(len(recs)) == d.rev-rev:
		return recs, nil
	default:
		return nil, fmt.Errorf("collab: store returned %d ops for (%d, %d]: %w", len(recs), rev, d.rev, storage.ErrCorrupt)
	}
}

func (d *document) leave(c *conn) {
	e, ok := d.editors[c]
	if !ok {
		return
	}
	delete(d.editors, c)
	d.broadcast(encode(&wire.Editor{Type: wire.TypeEditor, Doc: d.id, Client: e.pub, Name: e.name, Color: e.color, Event: wire.EventLeave}), nil)
	d.publishToServers(busMsg{Kind: busLeave, Editors: []busEditor{{Client: e.client, Name: e.name, Color: e.color}}})
}

// broadcast queues msg on every editor's connection but skip's; encoded
// once. It goes after what gather holds for them, which it flushes.
func (d *document) broadcast(msg []byte, skip *conn) {
	for c, e := range d.editors {
		if c != skip {
			d.gather(e, msg)
		}
	}
	d.flushOut()
}

// forgetSeqOnResume drops what a shared store's document remembers of a
// resuming client, unless it has ops pending here, so that lastSeq reads
// the store's record again: the client may have committed ops through
// another server since, which joined.seq must cover (a reset that left
// them out would make the client rebase them over a diff while the log
// holds them transformed step by step).
func (d *document) forgetSeqOnResume(client string) {
	if d.feed != nil && !d.uncommitted(client) {
		delete(d.seqs, client)
	}
}

// lastSeq is the last sequence number seen from client on this document,
// from the owner's cache or the store.
func (d *document) lastSeq(client string) (clientSeq, error) {
	if client == "" {
		return clientSeq{}, nil
	}
	if s, ok := d.seqs[client]; ok {
		return s, nil
	}
	ctx, cancel := d.ctx()
	defer cancel()
	seq, rev, err := d.srv.store.ClientSeq(ctx, d.id, client)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return clientSeq{}, err
	}
	if rev > d.rev && d.feed != nil {
		// Committed by another server, not applied here yet: answering
		// before applying it would ack a revision this server lacks.
		d.catchUpTo(rev)
		if s, ok := d.seqs[client]; ok && s.cseq >= seq {
			return s, nil
		}
		if rev > d.rev {
			return clientSeq{}, fmt.Errorf("%w: behind the store (rev %d, store %d)", ErrUnavailable, d.rev, rev)
		}
	}
	s := clientSeq{seq: seq, rev: rev, cseq: seq, crev: rev}
	d.seqs[client] = s
	return s, nil
}
