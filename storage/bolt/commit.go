package bolt

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/storage"
)

// write is one pending Append, handed from the caller to commitLoop.
type write struct {
	id   string
	recs []storage.Record
	vals [][]byte    // encoded recs, prepared by the caller's goroutine
	done func(error) // called once with the result, by commitLoop
}

// Append commits recs, which must continue document id's log: recs[0].Rev
// is the current revision + 1, revisions are consecutive and each op's base
// length is the document's length before it. A client's sequence numbers
// must increase. A missing document is created. Append returns after the
// transaction holding recs has committed, or with an error wrapping
// ErrConflict, ErrCorrupt, ErrInvalid or ErrClosed, in which case nothing of
// recs was written. Appends from concurrent callers share transactions.
//
// ctx is checked before the write is queued: once queued, a write is
// committed or refused and Append reports which, so a caller never
// mistakes a durable op for a lost one.
func (db *DB) Append(ctx context.Context, id string, recs []storage.Record) error {
	if len(recs) == 0 {
		return storage.CheckDocID(id)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	result := make(chan error, 1)
	if err := db.AppendAsync(id, recs, func(err error) { result <- err }); err != nil {
		return err
	}
	return <-result
}

// AppendAsync is Append without the wait, for a caller that has its own
// loop to come back to (collab's documents): it queues recs and returns,
// and done is called once with what Append would have returned, from the
// commit goroutine, so it must hand the result on without blocking. An
// error returned here (invalid records, a closed DB) means nothing was
// queued and done is not called. recs must be non-empty.
func (db *DB) AppendAsync(id string, recs []storage.Record, done func(error)) error {
	if len(recs) == 0 {
		return fmt.Errorf("%w: no records", storage.ErrInvalid)
	}
	w, err := db.newWrite(id, recs)
	if err != nil {
		return err
	}
	w.done = done
	if !db.enqueue(w) {
		return storage.ErrClosed
	}
	return nil
}

// newWrite checks and encodes recs (a copy: filling in times leaves the
// caller's slice alone) on the caller's goroutine.
func (db *DB) newWrite(id string, recs []storage.Record) (*write, error) {
	if err := storage.CheckDocID(id); err != nil {
		return nil, err
	}
	recs = append([]storage.Record(nil), recs...)
	w := &write{id: id, recs: recs, vals: make([][]byte, len(recs))}
	now := time.Now()
	for i := range recs {
		if err := checkRecord(recs[i]); err != nil {
			return nil, fmt.Errorf("%w: document %q revision %d: %v", storage.ErrInvalid, id, recs[i].Rev, err)
		}
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
		w.vals[i] = encodeRecord(recs[i])
	}
	if db.closed.Load() {
		return nil, storage.ErrClosed
	}
	return w, nil
}

// enqueue hands w to commitLoop without waiting; false after Close.
func (db *DB) enqueue(w *write) bool {
	db.qmu.Lock()
	if db.qclosed {
		db.qmu.Unlock()
		return false
	}
	db.queue = append(db.queue, w)
	wake := len(db.queue) >= db.qwant
	db.qmu.Unlock()
	if wake {
		select {
		case db.qwake <- struct{}{}:
		default:
		}
	}
	return true
}

// pace waits, after a commit of prev > 1 writes, until as many are queued
// again or CommitInterval has passed since that commit started: writers
// are many, and the next group grows meanwhile (Options.CommitInterval).
// Writers that wait for each commit before they write again are all back
// long before the interval ends, so they are not slowed.
func (db *DB) pace(last time.Time, prev int) {
	if prev < 2 || db.opts.CommitInterval <= 0 {
		return
	}
	deadline := last.Add(db.opts.CommitInterval)
	db.want(prev)
	defer db.want(0)
	for {
		db.qmu.Lock()
		n := len(db.queue)
		db.qmu.Unlock()
		if n >= prev {
			return
		}
		d := time.Until(deadline)
		if d <= 0 || !db.pause(d) {
			return
		}
	}
}

// want sets how many queued writes wake commitLoop (0: any).
func (db *DB) want(n int) {
	db.qmu.Lock()
	db.qwant = n
	db.qmu.Unlock()
}

// waitWake waits up to d for an enqueue's wake and reports whether one came
// (not the time or Close).
func (db *DB) waitWake(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-db.qwake:
		return true
	case <-t.C:
	case <-db.quit:
	}
	return false
}

// gather is take after the goroutines ready to run have had their turn.
// Woken by an enqueue, commitLoop runs next on the waker's processor,
// ahead of everything else runnable: without yielding it would commit each
// write almost alone, and under load the same writers would queue one by
// one behind commits of two or three writes each (a bbolt commit costs
// about 150 µs of CPU here, with its two fdatasyncs). Yielding once lets the
// readers and documents already runnable queue their writes first, so the
// group grows with the load; on an idle server nothing else is runnable
// and the yield returns at once.
func (db *DB) gather(batch []*write) []*write {
	runtime.Gosched()
	return db.take(batch)
}

// take moves up to MaxBatch queued writes into batch.
func (db *DB) take(batch []*write) []*write {
	db.qmu.Lock()
	defer db.qmu.Unlock()
	n := min(len(db.queue), db.opts.MaxBatch)
	batch = append(batch[:0], db.queue[:n]...)
	rest := copy(db.queue, db.queue[n:])
	clear(db.queue[rest:])
	db.queue = db.queue[:rest]
	return batch
}

func checkRecord(r storage.Record) error {
	if r.Client != "" {
		if err := storage.CheckClientID(r.Client); err != nil {
			return err
		}
	}
	for i := 0; i < r.Op.Len(); i++ {
		if c := r.Op.Component(i); !utf8.ValidString(c.Text) {
			return recordcodec.ErrBadText
		}
	}
	return nil
}

// commitLoop owns the write side of the file: it takes every write waiting
// in the queue, commits them in one transaction and answers each waiter.
// At Close it commits what is still queued (nothing more can be) and ends.
func (db *DB) commitLoop() {
	defer db.commitWG.Done()
	batch := make([]*write, 0, db.opts.MaxBatch)
	var last time.Time // when the previous commit started
	prev := 0          // and how many writes it carried
	for {
		quit := false
		select {
		case <-db.qwake:
		case <-db.quit:
			quit = true
		}
		for {
			db.pace(last, prev)
			if batch = db.gather(batch); len(batch) == 0 {
				break
			}
			db.holdForCheckpoint()
			last, prev = time.Now(), len(batch)
			if db.beforeCommit != nil {
				db.beforeCommit(len(batch))
			}
			db.commit(batch)
			clear(batch)
		}
		if quit {
			return
		}
	}
}

// holdForCheckpoint checkpoints before the next commit when the log holds
// twice Options.CheckpointBytes: writers faster than the background
// checkpoint wait for it rather than grow the log in memory without end.
func (db *DB) holdForCheckpoint() {
	db.memMu.RLock()
	size := db.pendSize
	db.memMu.RUnlock()
	if size < 2*db.opts.CheckpointBytes {
		return
	}
	db.stats.logWaits.Add(1)
	db.checkpoint() // on failure the commit goes on; the next one tries again
}

// commit writes batch in one transaction and answers every waiter. Every
// record goes into bucket log under the next global sequence number, so a
// commit dirties the log's last leaf or two however many documents it
// touches; writes are validated against each document's head in memory.
// If the transaction itself fails (not a single write's validation), each
// write is retried alone so that one cause cannot fail the others.
func (db *DB) commit(batch []*write) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	db.commitLocked(batch)
}

func (db *DB) commitLocked(batch []*write) {
	results := make([]error, len(batch))
	var staged map[string]*pending
	var next uint64
	start := time.Now()
	err := db.bbolt.Update(func(tx *bbolt.Tx) error {
		staged, next = make(map[string]*pending), db.logNext
		log := tx.Bucket(bucketLog)
		log.FillPercent = 0.95 // keys only grow: pack the leaves
		for i, w := range batch {
			p, err := db.stage(tx, staged, w.id)
			if err == nil {
				err = validateWrite(tx, p, w.recs)
			}
			if err != nil {
				results[i] = err
				continue
			}
			for j, r := range w.recs {
				if err := log.Put(logKey(next), encodeLogValue(w.id, r.Rev, w.vals[j])); err != nil {
					return err
				}
				p.add(r, w.vals[j], next)
				next++
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, w := range batch {
			db.commitLocked([]*write{w})
		}
		return
	}
	if err != nil {
		results[0] = fmt.Errorf("storage: commit: %w", closedErr(err))
	} else {
		db.publish(staged, next)
		db.stats.commits.Add(1)
		db.stats.commitNanos.Add(int64(time.Since(start)))
	}
	for i, w := range batch {
		if results[i] == nil {
			db.stats.writes.Add(1)
			db.stats.ops.Add(uint64(len(w.recs)))
		} else {
			db.stats.rejected.Add(1)
		}
		w.done(results[i])
	}
}

// publish makes a commit's records visible to readers, before any waiter
// hears of the commit, and wakes the checkpointer when the log is long.
func (db *DB) publish(staged map[string]*pending, next uint64) {
	added := int(next - db.logNext)
	db.memMu.Lock()
	for id, p := range staged {
		if len(p.keys) > 0 {
			if old := db.pend[id]; old != nil {
				db.pendSize -= old.size
			}
			db.pendSize += p.size
			db.pend[id] = p
		}
	}
	db.logNext = next
	db.pendRecs += added
	db.logKeys += added
	n, size := db.pendRecs, db.pendSize
	db.memMu.Unlock()
	if n >= db.opts.CheckpointEvery || size >= db.opts.CheckpointBytes {
		select {
		case db.ckWake <- struct{}{}:
		default:
		}
	}
}

func corrupt(id, what string, err error) error {
	return fmt.Errorf("%w: document %q %s: %v", storage.ErrCorrupt, id, what, err)
}

// stats are updated with atomics by the goroutine doing the work.
type stats struct {
	commits, writes, ops, rejected atomic.Uint64
	commitNanos                    atomic.Int64
	snapshots, snapshotErrs        atomic.Uint64
	snapshotBytes                  atomic.Uint64
	pruned, checkpoints            atomic.Uint64
	logWaits                       atomic.Uint64
}

// Stats are cumulative counters since Open, for metrics.
type Stats struct {
	Commits        uint64        // transactions committed by the group-commit loop
	Writes         uint64        // Append calls committed
	Ops            uint64        // records committed
	Rejected       uint64        // Append calls refused (conflict, corrupt document, I/O)
	CommitTime     time.Duration // total time spent in those transactions, fsync included
	Snapshots      uint64        // snapshots written
	SnapshotBytes  uint64        // bytes of the snapshots written, text and authorship (Options.SnapshotRatio)
	SnapshotErrors uint64        // snapshots that failed; they are retried on later writes
	PrunedOps      uint64        // ops removed by pruning
	Checkpoints    uint64        // checkpoints that moved records from the log into the documents
	LogWaits       uint64        // group commits that waited for a checkpoint: the log held 2 × CheckpointBytes
	LogBytes       int64         // bytes of the records in the log now, held in memory (Options.CheckpointBytes)
}

func (db *DB) logBytes() int {
	db.memMu.RLock()
	defer db.memMu.RUnlock()
	return db.pendSize
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
		SnapshotBytes:  s.snapshotBytes.Load(),
		SnapshotErrors: s.snapshotErrs.Load(),
		PrunedOps:      s.pruned.Load(),
		Checkpoints:    s.checkpoints.Load(),
		LogWaits:       s.logWaits.Load(),
		LogBytes:       int64(db.logBytes()),
	}
}
