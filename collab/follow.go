package collab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Commits refused without the document learning anything new (JetStream
// refuses an expected-last-sequence check while another message for the
// subject is still being replicated, before the head shows it) are
// retried after a jittered backoff from minRetryDelay doubling up to
// maxRetryDelay, until the store's deadline (Options.StoreTimeout) has
// passed since the first of them; then the pending ops are refused
// (ErrUnavailable: their authors resubmit).
const (
	minRetryDelay = 2 * time.Millisecond
	maxRetryDelay = 250 * time.Millisecond
)

// open loads the document and, with a shared store, starts following it
// from the loaded revision and hearing the other servers' editors.
func (d *document) open() error {
	if err := d.load(); err != nil {
		return err
	}
	f, follows := d.srv.store.(storage.Follower)
	if _, buses := d.srv.store.(storage.Bus); !follows && !buses {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	d.endShared = cancel
	if follows {
		feed, err := f.Follow(ctx, d.id, d.rev)
		if err != nil {
			cancel()
			return err
		}
		d.feed = feed
	}
	if err := d.subscribe(ctx); err != nil {
		d.srv.log.Warn("presence of other servers unavailable", "doc", d.id, "err", err)
	}
	return nil
}

// closeShared tells the other servers this one has no editors left and
// stops the feed.
func (d *document) closeShared() {
	if d.endShared == nil {
		return
	}
	d.publishToServers(busMsg{Kind: busState, Editors: []busEditor{}})
	d.endShared()
}

// handleFeedRecord takes one record from the feed (ok false: the feed
// ended); true means run must return.
func (d *document) handleFeedRecord(rec storage.Record, ok bool) (exit bool) {
	if !ok {
		d.feedEnded()
		return true
	}
	if d.inflight > 0 {
		// Ours (the feed can beat the store's answer) or one that makes our
		// commit fail: committed sorts them out.
		d.held = append(d.held, rec)
		return false
	}
	if d.applyLogRecord(rec) {
		d.stop(cmp.Or(d.failure, ErrUnavailable))
		return true
	}
	d.startCommit()
	return false
}

// feedEnded stops the document: deleted by some server, or the store is
// gone.
func (d *document) feedEnded() {
	d.feed = nil
	ctx, cancel := d.ctx()
	_, err := d.srv.store.Load(ctx, d.id)
	cancel()
	if errors.Is(err, storage.ErrNotFound) {
		d.stop(&DeletedError{}) // by another server, who knows whom
		return
	}
	d.srv.log.Error("document feed ended", "doc", d.id, "err", err)
	d.stop(ErrUnavailable)
}

// applyHeldRecords applies the feed records held during a commit; those
// the commit itself wrote are known already.
func (d *document) applyHeldRecords() (stop bool) {
	held := d.held
	d.held = nil
	for _, rec := range held {
		if d.applyLogRecord(rec) {
			return true
		}
	}
	return false
}

// applyLogRecord applies a record of the log committed by another server
// (or by this one, unseen): it is applied and broadcast like a local
// commit, and the pending ops are sequenced again after it. Nothing may be
// in flight. True means the document must stop (its text no longer follows
// the log).
func (d *document) applyLogRecord(rec storage.Record) (stop bool) {
	if rec.Rev <= d.rev {
		return false // known: our own commit, or read from the store
	}
	if rec.Rev > d.rev+1 {
		if d.fetch(rec.Rev - 1) {
			return true
		}
		if rec.Rev <= d.rev {
			return false
		}
		if rec.Rev != d.rev+1 {
			d.srv.log.Error("document behind its log", "doc", d.id, "rev", d.rev, "next", rec.Rev)
			return true
		}
	}
	d.dropCommitted(rec)
	d.conflicts = 0 // progress: a refusal after it starts a new wait
	err := d.apply(&pendingOp{rec: rec})
	d.flushOut()
	if err != nil {
		d.srv.log.Error("apply remote op", "doc", d.id, "rev", rec.Rev, "err", err)
		return true
	}
	if err := d.resequence(); err != nil {
		d.srv.log.Error("sequence pending ops again", "doc", d.id, "rev", rec.Rev, "err", err)
		d.refuse(ErrUnavailable)
	}
	d.resetHeadMax()
	return false
}

// dropCommitted removes the pending op that rec is, if any: the same
// client and seq (resubmitted to another server), or this server's own
// commit whose answer was lost. An HTTP waiter gets rec's revision; an
// editor gets its ack when rec is applied.
func (d *document) dropCommitted(rec storage.Record) {
	for i, p := range d.pending {
		if sameCommit(rec, p.rec) {
			if p.reply != nil {
				p.reply <- putResult{rev: rec.Rev}
			}
			d.pending = append(d.pending[:i:i], d.pending[i+1:]...)
			return
		}
	}
}

// resequence transforms every pending op again, from its original form
// and revision, over what is committed now and the pending ops before it:
// the order in which its author's client transforms it, one op after the
// other as the records arrive. (Transforming the already transformed ops
// over the new record instead reaches the same text along another path,
// and text OT does not promise the same op along both.)
func (d *document) resequence() error {
	pending := d.pending
	d.pending = make([]*pendingOp, 0, len(pending))
	for i, p := range pending {
		op, err := d.transform(p.orig, p.base, nil)
		if err != nil {
			d.pending = append(d.pending, pending[i:]...)
			return err
		}
		p.rec.Op, p.rec.Rev = op, d.rev+uint64(len(d.pending))+1
		if cs, ok := d.seqs[p.rec.Client]; ok && p.rec.Client != "" && cs.seq == p.rec.Seq {
			cs.rev = p.rec.Rev
			d.seqs[p.rec.Client] = cs
		}
		d.pending = append(d.pending, p)
	}
	return nil
}

// sameCommit reports whether the committed rec is pending op p: by client
// and seq (a client's seqs commit in order), or, for ops without a client,
// by author and commit time (set once, before the first attempt).
func sameCommit(rec, p storage.Record) bool {
	if p.Client != "" {
		return rec.Client == p.Client && p.Seq <= rec.Seq
	}
	return rec.Client == "" && !p.Time.IsZero() && rec.Time.Equal(p.Time) && rec.Author == p.Author
}

// commitRefused handles a failed commit when the store is shared. Another
// server committed first (ErrConflict): the document takes what it missed,
// from the feed or else from the store, and commits its ops again,
// transformed. Any other error: the store may or may not have the commit
// (the feed will tell); the ops are refused so their authors resubmit,
// which the (client, seq) records make safe.
func (d *document) commitRefused(err error) (stop bool) {
	d.inflight = 0
	rev := d.rev
	if d.applyHeldRecords() {
		return true
	}
	conflict, tooLarge := errors.Is(err, storage.ErrConflict), errors.Is(err, ot.ErrTooLarge)
	if !conflict && !tooLarge {
		d.srv.log.Warn("commit failed", "doc", d.id, "rev", d.rev, "ops", len(d.pending), "err", err)
		d.refuse(ErrUnavailable)
		return false
	}
	if (tooLarge || d.rev == rev) && d.fetch(math.MaxUint64) {
		return true
	}
	if tooLarge {
		// The ops before the large one are written (and taken from the
		// store just now): the large one is the first pending. It is
		// refused for good; the others are resubmitted by their authors.
		d.srv.log.Warn("op too large for the store", "doc", d.id, "err", err)
		d.refuseFirst(fmt.Errorf("%w: the op is larger than the store takes", ErrDocTooLarge), ErrUnavailable)
		return false
	}
	if d.rev != rev {
		d.conflicts = 0
		d.startCommit()
		return false
	}
	if d.conflicts == 0 {
		d.stalled = time.Now()
	}
	d.conflicts++
	if time.Since(d.stalled) >= d.srv.opts.StoreTimeout {
		d.srv.log.Error("commits refused without progress", "doc", d.id, "rev", d.rev, "refusals", d.conflicts, "err", err)
		d.refuse(ErrUnavailable)
		return false
	}
	d.commitAfter(retryDelay(d.conflicts))
	return false
}

// retryDelay is the wait before the nth retry of a commit refused without
// progress: doubling from minRetryDelay, at most maxRetryDelay, and
// between half of that and all of it at random, so that nodes racing for
// one document spread their retries.
func retryDelay(n int) time.Duration {
	d := maxRetryDelay
	if n < 16 {
		d = min(minRetryDelay<<(n-1), maxRetryDelay)
	}
	return d/2 + rand.N(d/2+1)
}

// fetch reads the records after the document's revision up to to from
// the store and applies them. Nothing may be in flight. A store that
// cannot answer is left to the feed; one that no longer has them (pruned)
// stops the document, whose editors then reload it.
func (d *document) fetch(to uint64) (stop bool) {
	ctx, cancel := d.ctx()
	recs, err := d.srv.store.Ops(ctx, d.id, d.rev, to)
	cancel()
	switch {
	case errors.Is(err, storage.ErrNotFound) && d.rev > 0:
		d.failure = &DeletedError{} // by another server
		return true
	case err != nil:
		d.srv.log.Warn("catch up from the store", "doc", d.id, "rev", d.rev, "err", err)
		return errors.Is(err, storage.ErrPruned)
	}
	for _, rec := range recs {
		if d.applyLogRecord(rec) {
			return true
		}
	}
	return false
}

// settle waits for the commit in flight and applies its outcome, without
// starting another.
func (d *document) settle() {
	if d.inflight == 0 {
		return
	}
	d.paused = true
	if d.committed(<-d.commits) {
		d.failure = cmp.Or(d.failure, ErrUnavailable)
	}
	d.paused = false
}

// catchUpTo brings the document to revision rev when a client or the store
// knows of revisions the feed has not delivered yet (a shared store).
func (d *document) catchUpTo(rev uint64) {
	if d.feed == nil || rev <= d.rev || d.failure != nil {
		return
	}
	d.settle()
	if d.failure == nil && rev > d.rev && d.fetch(rev) {
		d.failure = cmp.Or(d.failure, ErrUnavailable)
	}
	d.startCommit()
}
