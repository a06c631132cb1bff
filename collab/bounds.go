package collab

import (
	"context"
	"fmt"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// errTooFar is a revision further behind the head than a client may
// resume from or submit at (Options.MaxCatchUp, MaxCatchUpBytes).
var errTooFar = fmt.Errorf("%w: too far behind the head, join again", ErrRevTooOld)

// errCatchUpBytes is errTooFar for the ops' bytes (MaxCatchUpBytes).
var errCatchUpBytes = fmt.Errorf("%w (more bytes of ops than a catch-up carries)", errTooFar)

// keep adds a committed record to the window, dropping the oldest past
// Options.Window ops or WindowBytes.
func (d *document) keep(rec storage.Record) {
	d.window = append(d.window, rec)
	before := d.winSize
	d.winSize += rec.Op.Size()
	drop := 0
	for over := len(d.window) - d.srv.opts.Window; drop < len(d.window) &&
		(drop < over || d.winSize > d.srv.opts.WindowBytes); drop++ {
		d.winSize -= d.window[drop].Op.Size()
		d.window[drop] = storage.Record{} // the backing array outlives the slice
	}
	// Reslice, not copy: moving the whole window down cost a memmove per
	// op; append reallocates once the backing array is used up.
	d.window = d.window[drop:]
	d.srv.metrics.windowBytes.Add(float64(d.winSize - before))
}

// chargeTransform refuses, rev_too_old, to transform op over recs and the
// pending ops when that is more work than MaxTransform, or than e has left
// of its MaxTransform per second. The work is what Transform's cost grows
// with: both ops' components, at each step.
func (d *document) chargeTransform(op ot.Op, recs []storage.Record, e *editor) error {
	steps := len(recs) + len(d.pending)
	if steps == 0 {
		return nil
	}
	work := steps * op.Len()
	for _, r := range recs {
		work += r.Op.Len()
	}
	for _, p := range d.pending {
		work += p.rec.Op.Len()
	}
	limit := float64(d.srv.opts.MaxTransform)
	ok := float64(work) <= limit
	if ok && e != nil {
		now := time.Now()
		if e.workLast.IsZero() {
			e.work, e.workLast = limit, now
		}
		ok = takeTokens(&e.work, &e.workLast, float64(work), limit, limit, now)
	}
	if !ok {
		d.srv.limitHit(limitTransform)
		return fmt.Errorf("%w: transforming over %d ops is %d units of work, limit %d per submit and per second", errTooFar, steps, work, d.srv.opts.MaxTransform)
	}
	d.srv.metrics.transformWork.Add(float64(work))
	return nil
}

// chargeGrowth takes op's growth from the document's quota (DocGrowth).
func (d *document) chargeGrowth(op ot.Op, now time.Time) error {
	if now.IsZero() {
		now = time.Now()
	}
	return d.srv.takeGrowth(d.id, growthBytes(op), now)
}

// takeGrowth takes n bytes from document id's quota (DocGrowth), which
// ops and the copies of named versions draw on alike.
func (s *Server) takeGrowth(id string, n int, now time.Time) error {
	if !s.growth.allowN(id, float64(n), now) {
		s.limitHit(limitDocGrowth)
		return fmt.Errorf("%w: %d bytes, %d per %v", ErrQuota, n, s.opts.DocGrowth, s.opts.DocGrowthWindow)
	}
	return nil
}

// growthBytes is about what op adds to the stored history: its text and
// a few bytes per component.
func growthBytes(op ot.Op) int { return insertedBytes(op) + 3*op.Len() }

func opsSize(recs []storage.Record) int {
	n := 0
	for _, r := range recs {
		n += r.Op.Size()
	}
	return n
}

// opsWithin reads the records after from up to to, stopping before the one
// that would take their Size past maxBytes (more: stopped there); the
// first is returned whatever its size.
func opsWithin(ctx context.Context, store storage.Store, id string, from, to uint64, maxBytes int) (out []storage.Record, more bool, err error) {
	if s, ok := store.(storage.OpsReader); ok {
		return s.OpsWithin(ctx, id, from, to, maxBytes)
	}
	const chunk = 16
	size := 0
	for from < to {
		recs, err := store.Ops(ctx, id, from, min(to, from+chunk))
		if err != nil || len(recs) == 0 {
			return out, false, err
		}
		for _, r := range recs {
			if size += r.Op.Size(); size > maxBytes && len(out) > 0 {
				return out, true, nil
			}
			out = append(out, r)
		}
		from = recs[len(recs)-1].Rev
	}
	return out, false, nil
}
