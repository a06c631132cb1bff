package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// maxIDLen bounds document and client ids, well under bbolt's key limit.
const maxIDLen = 1024

// write is one pending Append, handed from the caller to commitLoop.
type write struct {
	id   string
	recs []Record
	vals [][]byte   // encoded recs, prepared by the caller's goroutine
	done chan error // capacity 1: the result, sent once by commitLoop
}

// Append commits recs, which must continue document id's log: recs[0].Rev
// is the current revision + 1, revisions are consecutive and each op's base
// length is the document's length before it. A client's sequence numbers
// must increase. A missing document is created. Append returns after the
// transaction holding recs has committed, or with an error wrapping
// ErrConflict, ErrCorrupt, ErrInvalid or ErrClosed, in which case nothing of
// recs was written. Appends from concurrent callers share transactions.
//
// ctx bounds only the wait to enter the commit queue: once queued, a write
// is committed or refused and Append reports which, so a caller never
// mistakes a durable op for a lost one.
func (db *DB) Append(ctx context.Context, id string, recs []Record) error {
	if err := checkID("document", id); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	// A copy, so filling in times leaves the caller's slice alone.
	recs = append([]Record(nil), recs...)
	w := &write{id: id, recs: recs, vals: make([][]byte, len(recs)), done: make(chan error, 1)}
	now := time.Now()
	for i := range recs {
		if err := checkRecord(recs[i]); err != nil {
			return fmt.Errorf("%w: document %q revision %d: %v", ErrInvalid, id, recs[i].Rev, err)
		}
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
		w.vals[i] = encodeRecord(recs[i])
	}
	if db.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case db.writes <- w:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-w.done
}

func checkID(what, id string) error {
	if id == "" || len(id) > maxIDLen || !utf8.ValidString(id) || strings.IndexByte(id, 0) >= 0 {
		return fmt.Errorf("%w: %s id must be 1 to %d bytes of UTF-8 without NUL", ErrInvalid, what, maxIDLen)
	}
	return nil
}

func checkRecord(r Record) error {
	if r.Client != "" {
		if err := checkID("client", r.Client); err != nil {
			return err
		}
	}
	for i := 0; i < r.Op.Len(); i++ {
		if c := r.Op.Component(i); !utf8.ValidString(c.Text) {
			return errBadText
		}
	}
	return nil
}

// commitLoop owns the write side of the file: it takes every write waiting
// in the queue, commits them in one transaction and answers each waiter.
func (db *DB) commitLoop() {
	defer db.wg.Done()
	batch := make([]*write, 0, db.opts.MaxBatch)
	for {
		select {
		case w := <-db.writes:
			batch = append(batch[:0], w)
		case <-db.quit:
			return
		}
	drain:
		for len(batch) < db.opts.MaxBatch {
			select {
			case w := <-db.writes:
				batch = append(batch, w)
			default:
				break drain
			}
		}
		db.commit(batch)
		clear(batch)
	}
}

// commit writes batch in one transaction and answers every waiter. If the
// transaction itself fails (not a single write's validation), each write is
// retried alone so that one cause cannot fail the others.
func (db *DB) commit(batch []*write) {
	results := make([]error, len(batch))
	metas := make([]docMeta, len(batch))
	start := time.Now()
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		for i, w := range batch {
			m, rejected, err := appendWrite(tx, w)
			if err != nil {
				return err
			}
			results[i], metas[i] = rejected, m
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, w := range batch {
			db.commit([]*write{w})
		}
		return
	}
	if err != nil {
		results[0] = fmt.Errorf("storage: commit: %w", closedErr(err))
	} else {
		db.stats.commits.Add(1)
		db.stats.commitNanos.Add(int64(time.Since(start)))
	}
	for i, w := range batch {
		if results[i] == nil {
			db.stats.writes.Add(1)
			db.stats.ops.Add(uint64(len(w.recs)))
			if m := metas[i]; m.Rev-m.snapRev >= uint64(db.opts.SnapshotEvery) {
				db.requestSnapshot(m.ID, m.gen)
			}
		} else {
			db.stats.rejected.Add(1)
		}
		w.done <- results[i]
	}
}

// appendWrite validates w against the document's stored state and, if it
// continues the log, writes it. A refused write returns rejected and
// changes nothing; err is a failure of the transaction itself.
func appendWrite(tx *bolt.Tx, w *write) (m docMeta, rejected, err error) {
	d, m, err := openDoc(tx, w.id)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return m, err, nil
	}
	if isNew {
		m = docMeta{Meta: Meta{ID: w.id}}
	}
	if rejected := validateWrite(d, m, isNew, w.recs); rejected != nil {
		return m, rejected, nil
	}
	if isNew {
		seq, err := d.ids.NextSequence()
		if err != nil {
			return m, nil, err
		}
		if err := d.ids.Put([]byte(w.id), []byte{}); err != nil {
			return m, nil, err
		}
		m.gen, m.Created = seq, w.recs[0].Time
	}
	for i, r := range w.recs {
		if err := d.ops.Put(d.key(r.Rev), w.vals[i]); err != nil {
			return m, nil, err
		}
		if r.Client != "" && r.Seq > 0 {
			if err := d.clients.Put(d.clientKey(r.Client), encodeClient(r.Seq, r.Rev)); err != nil {
				return m, nil, err
			}
		}
	}
	last := w.recs[len(w.recs)-1]
	m.Rev, m.Length, m.Updated = last.Rev, last.Op.TargetLen(), last.Time
	return m, nil, d.putMeta(m)
}

// validateWrite checks that recs continue d's log, described by m.
func validateWrite(d doc, m docMeta, isNew bool, recs []Record) error {
	rev, length := m.Rev, m.Length
	seen := map[string]uint64{}
	for _, r := range recs {
		if r.Rev != rev+1 {
			return fmt.Errorf("%w: document %q is at revision %d, record has revision %d", ErrConflict, m.ID, rev, r.Rev)
		}
		if r.Op.BaseLen() != length {
			return fmt.Errorf("%w: document %q revision %d: op expects length %d, document has %d", ErrConflict, m.ID, r.Rev, r.Op.BaseLen(), length)
		}
		if r.Client != "" && r.Seq > 0 {
			last, ok := seen[r.Client]
			if !ok && !isNew {
				var err error
				if last, _, err = d.client(r.Client); err != nil {
					return err
				}
			}
			if r.Seq <= last {
				return fmt.Errorf("%w: document %q: client %q sequence %d is not after %d", ErrConflict, m.ID, r.Client, r.Seq, last)
			}
			seen[r.Client] = r.Seq
		}
		rev, length = r.Rev, r.Op.TargetLen()
	}
	return nil
}

func corrupt(id, what string, err error) error {
	return fmt.Errorf("%w: document %q %s: %v", ErrCorrupt, id, what, err)
}

// stats are updated with atomics by the goroutine doing the work.
type stats struct {
	commits, writes, ops, rejected atomic.Uint64
	commitNanos                    atomic.Int64
	snapshots, snapshotErrs        atomic.Uint64
	pruned                         atomic.Uint64
}

// Stats are cumulative counters since Open, for metrics.
type Stats struct {
	Commits        uint64        // transactions committed by the group-commit loop
	Writes         uint64        // Append calls committed
	Ops            uint64        // records committed
	Rejected       uint64        // Append calls refused (conflict, corrupt document, I/O)
	CommitTime     time.Duration // total time spent in those transactions, fsync included
	Snapshots      uint64        // snapshots written
	SnapshotErrors uint64        // snapshots that failed; they are retried on later writes
	PrunedOps      uint64        // ops removed by pruning
}

// Stats returns the counters. Average commit latency is
// CommitTime/Commits; average group size is Writes/Commits.
func (db *DB) Stats() Stats {
	s := &db.stats
	return Stats{
		Commits:        s.commits.Load(),
		Writes:         s.writes.Load(),
		Ops:            s.ops.Load(),
		Rejected:       s.rejected.Load(),
		CommitTime:     time.Duration(s.commitNanos.Load()),
		Snapshots:      s.snapshots.Load(),
		SnapshotErrors: s.snapshotErrs.Load(),
		PrunedOps:      s.pruned.Load(),
	}
}
