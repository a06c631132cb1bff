package collab

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// submit sequences one op: dedupe by (client, seq), transform from the
// client's revision over everything sequenced since, validate, and queue it
// for commit. Nothing is acknowledged or broadcast before the commit.
func (d *document) submit(r *submitReq) {
	rev, err := d.sequence(r)
	if err != nil {
		d.srv.log.Debug("submit refused", "doc", d.id, "client", r.client, "seq", r.seq, "err", err)
		if r.reply != nil {
			r.reply <- putResult{err: err}
		} else {
			r.c.sendError(err, d.id, r.seq)
		}
		return
	}
	if rev != 0 && r.reply != nil { // an HTTP no-op: nothing to commit
		r.reply <- putResult{rev: rev}
	}
	d.startCommit()
}

// sequence appends r's op to pending. It returns a revision != 0 when the
// request is answered already (a committed duplicate, an HTTP no-op).
func (d *document) sequence(r *submitReq) (uint64, error) {
	if r.c != nil {
		e, ok := d.editors[r.c]
		if !ok {
			return 0, ErrNotJoined
		}
		if d.lapsed(e) {
			return 0, ErrNotJoined // as after the timer ended the session
		}
		if e.readOnly { // the connection checks first; this keeps it true
			return 0, ErrReadOnly
		}
		r.name = e.name // the token's name, when it has one
		r.pub = e.pub
	}
	d.catchUpTo(r.rev) // first: what it applies may be this client's
	cs, err := d.lastSeq(r.client)
	if err != nil {
		return 0, err
	}
	if r.client != "" && r.seq <= cs.seq {
		// Already sequenced: never apply twice. A committed one is acked
		// now; a pending one is acked by its commit (see committed).
		if cs.crev > 0 && r.seq <= cs.cseq {
			d.ack(r.c, r.seq, cs.crev, r.recv)
		}
		return 0, nil
	}
	if r.rev > d.rev {
		return 0, fmt.Errorf("%w: rev %d, head %d", ErrFutureRev, r.rev, d.rev)
	}
	op, err := d.transform(r.op, r.rev, d.editors[r.c])
	if err != nil {
		return 0, err
	}
	if r.c == nil && op.IsNoop() && len(d.pending) == 0 && d.rev > 0 {
		return d.rev, nil
	}
	if err := d.checkSize(op); err != nil {
		return 0, err
	}
	if err := d.chargeGrowth(op, r.recv); err != nil {
		return 0, err
	}
	head := d.rev + uint64(len(d.pending)) + 1
	d.pending = append(d.pending, &pendingOp{
		rec:   storage.Record{Rev: head, Op: op, Author: r.name, Client: r.client, Seq: r.seq},
		recv:  r.recv,
		reply: r.reply,
		pub:   r.pub,
		orig:  r.op,
		base:  r.rev,
	})
	d.headMax += insertedBytes(op)
	if r.client != "" {
		cs.seq, cs.rev = r.seq, head
		d.seqs[r.client] = cs
	}
	return 0, nil
}

// transform moves op from revision rev to the head, committed and pending,
// if that is within the catch-up limits and the transform work allowed to
// e (nil: an HTTP request). The op sequenced earlier is Transform's first
// argument, so its text goes first when both insert at one position.
func (d *document) transform(op ot.Op, rev uint64, e *editor) (ot.Op, error) {
	recs, err := d.committedSince(rev)
	if err != nil {
		if errors.Is(err, ErrRevTooOld) {
			d.srv.limitHit(limitCatchUp)
		}
		return ot.Op{}, err
	}
	if err := d.chargeTransform(op, recs, e); err != nil {
		return ot.Op{}, err
	}
	for _, rec := range recs {
		if op, err = transformOver(rec.Op, op); err != nil {
			return ot.Op{}, fmt.Errorf("%w: %w", ErrInvalidOp, err)
		}
	}
	for _, p := range d.pending {
		if op, err = transformOver(p.rec.Op, op); err != nil {
			return ot.Op{}, fmt.Errorf("%w: %w", ErrInvalidOp, err)
		}
	}
	if n := d.headLen(); op.BaseLen() != n {
		return ot.Op{}, fmt.Errorf("%w: %w", ErrInvalidOp, &ot.LengthError{Want: op.BaseLen(), Got: n})
	}
	return op, nil
}

// headLen is the length in code points after all pending ops.
func (d *document) headLen() int {
	if n := len(d.pending); n > 0 {
		return d.pending[n-1].rec.Op.TargetLen()
	}
	return d.buf.Len()
}

// checkSize refuses an op that would grow the document past MaxDocSize.
// With nothing pending the size is exact; otherwise deletes in pending ops
// are not counted, which can only refuse early near the limit.
func (d *document) checkSize(op ot.Op) error {
	ins := insertedBytes(op)
	if ins == 0 {
		return nil
	}
	size := d.headMax + ins
	if len(d.pending) == 0 {
		size = d.bytes + ins - deletedBytes(d.buf, op)
	}
	if size > d.srv.opts.MaxDocSize {
		d.srv.limitHit(limitDocSize)
		return fmt.Errorf("%w: %d bytes, limit %d", ErrDocTooLarge, size, d.srv.opts.MaxDocSize)
	}
	return nil
}

// startCommit hands the pending ops to the store unless a commit is in
// flight; their acks wait for committed, which run calls when the result
// arrives on d.commits.
func (d *document) startCommit() { d.commitAfter(0) }

// commitAfter is startCommit with the store called after delay: the
// commit is in flight meanwhile, so that new ops wait for it.
func (d *document) commitAfter(delay time.Duration) {
	if d.inflight > 0 || len(d.pending) == 0 || d.paused {
		return
	}
	d.inflight = len(d.pending)
	recs := make([]storage.Record, d.inflight)
	now := time.Now()
	for i, p := range d.pending {
		if p.rec.Time.IsZero() { // kept across retries: it tells the commit apart in a shared log
			p.rec.Time = now
		}
		recs[i] = p.rec
	}
	store, id, out := d.srv.store, d.id, d.commits
	hist := d.srv.metrics.commitLatency
	start := time.Now()
	d.srv.wg.Add(1)
	if as, ok := store.(storage.AsyncAppender); ok && delay == 0 {
		err := as.AppendAsync(id, recs, func(err error) {
			hist.Observe(time.Since(start).Seconds())
			out <- commitResult{err: err} // capacity 1, one commit in flight: never blocks
			d.srv.wg.Done()
		})
		if err != nil {
			out <- commitResult{err: err}
			d.srv.wg.Done()
		}
		return
	}
	timeout := d.srv.opts.StoreTimeout
	commit := func() {
		defer d.srv.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		start := time.Now()
		err := store.Append(ctx, id, recs)
		hist.Observe(time.Since(start).Seconds())
		out <- commitResult{err: err}
	}
	if delay == 0 {
		go commit()
	} else {
		time.AfterFunc(delay, commit) // a retry (see retryDelay); stores that append async never wait
	}
}

// committed applies a finished commit: the ops enter the text, carets move,
// authors get acks and everyone else the ops, in revision order. It reports
// whether the document must stop (a failure it cannot recover from).
func (d *document) committed(res commitResult) (stop bool) {
	if res.err != nil {
		if d.feed != nil {
			return d.commitRefused(res.err)
		}
		return d.commitFailed(res.err)
	}
	for _, p := range d.pending[:d.inflight] {
		if err := d.apply(p); err != nil {
			// A bug: the op was validated against this text. The store has
			// it; stop so that the next join reloads from the store.
			d.srv.log.Error("apply committed op", "doc", d.id, "rev", p.rec.Rev, "err", err)
			d.flushOut()
			return true
		}
	}
	d.flushOut()
	d.publishCommit(d.pending[:d.inflight])
	d.pending = append(d.pending[:0:0], d.pending[d.inflight:]...)
	d.inflight = 0
	d.conflicts = 0
	if d.applyHeldRecords() {
		return true
	}
	d.resetHeadMax()
	d.startCommit()
	return false
}

// resetHeadMax recomputes the size bound of the pending ops.
func (d *document) resetHeadMax() {
	d.headMax = d.bytes
	for _, p := range d.pending {
		d.headMax += insertedBytes(p.rec.Op)
	}
}

// apply makes one committed op part of the in-memory document and gathers
// the op for everyone, an ack for its author (see gather; the caller
// flushes). The op was validated against this text, so Apply cannot fail.
func (d *document) apply(p *pendingOp) error {
	rec := p.rec
	del := deletedBytes(d.buf, rec.Op)
	if err := d.buf.Apply(rec.Op); err != nil {
		return err
	}
	d.bytes += insertedBytes(rec.Op) - del
	d.rev = rec.Rev
	d.keep(rec)
	if rec.Client != "" {
		cs := d.seqs[rec.Client]
		cs.cseq, cs.crev = rec.Seq, rec.Rev
		if cs.seq < rec.Seq { // committed by another server
			cs.seq, cs.rev = rec.Seq, rec.Rev
		}
		d.seqs[rec.Client] = cs
	}
	d.srv.metrics.opsApplied.Inc()
	pub := p.pub
	if pub == "" {
		pub = wire.PublicID(rec.Client)
	}
	msg := encode(&wire.Op{Type: wire.TypeOp, Doc: d.id, Rev: rec.Rev, Op: rec.Op, Client: pub, Seq: rec.Seq, Name: rec.Author})
	for _, e := range d.editors {
		own := rec.Client != "" && e.client == rec.Client
		if e.pres != nil {
			e.pres.transform(rec.Op, own)
		}
		if own {
			d.gather(e, d.ackMsg(rec.Seq, rec.Rev, p.recv))
		} else {
			d.gather(e, msg)
		}
	}
	d.moveRemote(rec)
	if p.reply != nil {
		p.reply <- putResult{rev: rec.Rev}
	}
	return nil
}

// gather holds msg for e until flushOut, so that the ops of one commit,
// and the author's acks among them, take one place in e's queue and go out
// in one write: in a crowded document each op would otherwise cost every
// reader a write(2) of its own. Order is kept: nothing else is sent to an
// editor between gather and flushOut.
func (d *document) gather(e *editor, msg []byte) {
	switch {
	case e.gatheredMsg == nil:
		e.gatheredMsg = msg
		d.outq = append(d.outq, e)
	case e.gatheredMsgs == nil:
		e.gatheredMsgs = [][]byte{e.gatheredMsg, msg}
	default:
		e.gatheredMsgs = append(e.gatheredMsgs, msg)
	}
}

// flushOut queues what gather held.
func (d *document) flushOut() {
	for _, e := range d.outq {
		if e.gatheredMsgs != nil {
			e.c.sendFrames(e.gatheredMsgs)
		} else {
			e.c.send(e.gatheredMsg)
		}
		e.gatheredMsg, e.gatheredMsgs = nil, nil
	}
	clear(d.outq)
	d.outq = d.outq[:0]
}

// ack acknowledges seq as revision rev to c (nil: an HTTP caller).
func (d *document) ack(c *conn, seq, rev uint64, recv time.Time) {
	if c != nil {
		c.send(d.ackMsg(seq, rev, recv))
	}
}

// ackMsg is the ack of seq as revision rev; recv, when the submit arrived,
// times it.
func (d *document) ackMsg(seq, rev uint64, recv time.Time) []byte {
	if !recv.IsZero() {
		d.srv.metrics.ackLatency.Observe(time.Since(recv).Seconds())
	}
	return encode(&wire.Ack{Type: wire.TypeAck, Doc: d.id, Seq: seq, Rev: rev})
}

// commitFailed keeps memory from running ahead of disk: every pending op is
// refused and the document is reloaded. If the store holds something else
// than what was committed here, the editors are sent away to rejoin.
func (d *document) commitFailed(err error) (stop bool) {
	d.srv.log.Error("commit failed", "doc", d.id, "rev", d.rev, "ops", d.inflight, "err", err)
	d.refuse(ErrUnavailable)
	rev := d.rev
	if lerr := d.load(); lerr != nil || d.rev != rev {
		d.srv.log.Error("reload after failed commit", "doc", d.id, "rev", rev, "stored", d.rev, "err", lerr)
		return true
	}
	return false
}

// transformOver returns op transformed over prior, where prior was
// sequenced first (its inserts win ties).
func transformOver(prior, op ot.Op) (ot.Op, error) {
	_, op2, err := ot.Transform(prior, op)
	return op2, err
}

func insertedBytes(op ot.Op) int {
	n := 0
	for i := 0; i < op.Len(); i++ {
		if c := op.Component(i); c.Kind == ot.Insert {
			n += len(c.Text)
		}
	}
	return n
}

// deletedBytes is the UTF-8 size of the text op deletes from buf.
func deletedBytes(buf *ot.Buffer, op ot.Op) int {
	n, pos := 0, 0
	for i := 0; i < op.Len(); i++ {
		switch c := op.Component(i); c.Kind {
		case ot.Retain:
			pos += c.N
		case ot.Delete:
			if pos+c.N <= buf.Len() {
				n += len(buf.Slice(pos, pos+c.N))
			}
			pos += c.N
		}
	}
	return n
}
