package bolt

import (
	"context"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/storage"
)

// requestSnapshot asks snapLoop to snapshot document id (incarnation gen).
// It never blocks: the commit path calls it.
func (db *DB) requestSnapshot(id string, gen uint64) {
	db.snapMu.Lock()
	db.snapDue[id] = gen
	db.snapMu.Unlock()
	select {
	case db.snapWake <- struct{}{}:
	default:
	}
}

func (db *DB) takeSnapshotRequests() map[string]uint64 {
	db.snapMu.Lock()
	defer db.snapMu.Unlock()
	due := db.snapDue
	db.snapDue = make(map[string]uint64)
	return due
}

// bgLoop checkpoints the log when it grows long and takes the snapshots
// that checkpoints request, off the commit path. On Close, after the last
// commit, it checkpoints what is left and takes the snapshots still
// requested, so a reopened store has an empty log and loads fast. A
// request lost to a crash is made again by the checkpoint after Open or
// by the document's next Load, since both compare its revision with its
// newest snapshot's.
func (db *DB) bgLoop() {
	defer db.bgWG.Done()
	for {
		select {
		case <-db.ckWake:
		case <-db.snapWake:
		case <-db.bgQuit:
			db.checkpoint()
			db.snapshotAll(db.takeSnapshotRequests(), false)
			return
		}
		if due := db.takeSnapshotRequests(); len(due) > 0 {
			db.snapshotAll(due, false)
		} else {
			db.checkpoint()
		}
	}
}

// snapJob is a snapshot computed for a document incarnation at m.Rev.
type snapJob struct {
	m       docMeta
	text    string
	authors *authorship.Authorship
}

// snapshotAll stores the texts of the due documents (id -> gen) at their
// current revisions and prunes their history if Options ask for it. Texts
// are rebuilt in a read transaction, so commits go on meanwhile; one write
// transaction then stores them all. Unless force is set, a document is
// skipped when a snapshot taken since its request makes one needless: a
// request made while the previous snapshot was being written would
// otherwise give two snapshots a revision apart.
func (db *DB) snapshotAll(due map[string]uint64, force bool) {
	if len(due) == 0 {
		return
	}
	// Snapshots are of the per-document layout: move the log there first.
	if err := db.checkpoint(); err != nil {
		db.stats.snapshotErrs.Add(uint64(len(due)))
		return
	}
	var jobs []snapJob
	// db.bbolt directly: this also runs during Close, after db.closed is set.
	err := db.bbolt.View(func(tx *bbolt.Tx) error {
		for id, gen := range due {
			d, m, err := openDoc(tx, id)
			if err != nil || m.gen != gen || m.snapRev == m.Rev {
				continue // deleted, corrupt (Load reports it) or done
			}
			if !force && !db.opts.snapshotDue(m) {
				continue
			}
			text, err := readText(d, m, m.Rev)
			var authors *authorship.Authorship
			if err == nil {
				authors, err = readAuthors(d, m, m.Rev)
			}
			if err != nil {
				db.stats.snapshotErrs.Add(1)
				continue
			}
			jobs = append(jobs, snapJob{m: m, text: text, authors: authors})
		}
		return nil
	})
	if err != nil || len(jobs) == 0 {
		return
	}
	now := time.Now()
	err = db.bbolt.Update(func(tx *bbolt.Tx) error {
		for _, j := range jobs {
			if err := db.putSnapshot(tx, j, now); err != nil && !isDocError(err) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.stats.snapshotErrs.Add(uint64(len(jobs)))
	}
}

// putSnapshot stores j unless its document was deleted, recreated or
// snapshotted meanwhile, then prunes.
func (db *DB) putSnapshot(tx *bbolt.Tx, j snapJob, now time.Time) error {
	d, cur, err := openDoc(tx, j.m.ID)
	if err != nil || cur.gen != j.m.gen || cur.snapRev >= j.m.Rev {
		return err
	}
	if err := d.snaps.Put(d.key(j.m.Rev), encodeSnapshot(j.text, j.m.Length)); err != nil {
		return err
	}
	if err := d.authors.Put(d.key(j.m.Rev), authorship.Encode(j.authors.Spans())); err != nil {
		return err
	}
	cur.snapRev = j.m.Rev
	measure(d, &cur)
	db.stats.snapshots.Add(1)
	db.stats.snapshotBytes.Add(cur.snapBytes)
	if _, err := db.prune(d, &cur, now); err != nil {
		return err
	}
	return d.putMeta(cur)
}

// snapshotDue reports whether the ops after document m's newest snapshot
// call for another: Options.SnapshotEvery of them taking 1/SnapshotRatio
// of its bytes, or SnapshotCap of them. Metadata not measured yet goes by
// the count alone; the snapshot that takes measures it.
func (o Options) snapshotDue(m docMeta) bool {
	n := m.Rev - m.snapRev
	switch {
	case n >= uint64(o.SnapshotCap):
		return true
	case n < uint64(o.SnapshotEvery):
		return false
	case o.SnapshotRatio < 0 || !m.sized:
		return true
	}
	r := uint64(o.SnapshotRatio)
	return m.opBytes >= (m.snapBytes+r-1)/r // opBytes × r >= snapBytes, without overflow
}

// measure sets m's opBytes and snapBytes from what the file holds: the
// snapshot at m.snapRev with its authorship, and the ops after it.
func measure(d doc, m *docMeta) {
	m.sized, m.opBytes, m.snapBytes = true, 0, 0
	if m.snapRev > 0 {
		k := d.key(m.snapRev)
		m.snapBytes = uint64(len(d.snaps.Get(k)) + len(d.authors.Get(k)))
	}
	c := d.ops.Cursor()
	for k, v := c.Seek(d.key(m.snapRev + 1)); k != nil; k, v = c.Next() {
		if _, ok := d.rev(k); !ok {
			break
		}
		m.opBytes += uint64(len(v))
	}
}

// Prune applies Options.KeepOps and KeepFor to every document now. The
// store prunes a document by itself only when it takes a snapshot, so a
// server with KeepFor set calls Prune now and then to also age out the
// history of documents nobody edits. It returns how many ops it removed.
func (db *DB) Prune(ctx context.Context) (int, error) {
	if db.closed.Load() {
		return 0, storage.ErrClosed
	}
	// Pruning works on the per-document layout: move the log there first.
	if err := db.checkpoint(); err != nil {
		return 0, closedErr(err)
	}
	var ids []string
	err := db.view(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketIDs).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		err := db.update(func(tx *bbolt.Tx) error {
			d, m, err := openDoc(tx, id)
			if err != nil {
				return err
			}
			n, err := db.prune(d, &m, time.Now())
			if err != nil || n == 0 {
				return err
			}
			total += n
			return d.putMeta(m)
		})
		if err != nil && !isDocError(err) {
			return total, err
		}
	}
	return total, nil
}

func isDocError(err error) bool {
	return errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrCorrupt)
}

// prune moves document m's cut up to the newest snapshot that every
// retention window has passed, deleting the ops up to it and the snapshots
// below it. Client records stay. It updates m; the caller stores it.
func (db *DB) prune(d doc, m *docMeta, now time.Time) (int, error) {
	keepOps, keepFor := uint64(db.opts.KeepOps), db.opts.KeepFor
	if keepOps == 0 && keepFor == 0 {
		return 0, nil
	}
	cut, err := pruneCut(d, *m, keepOps, keepFor, now)
	if err != nil || cut <= m.cut {
		return 0, err
	}
	n, err := d.deleteRange(d.ops, m.cut+1, cut)
	if err != nil {
		return 0, err
	}
	for _, b := range []*bbolt.Bucket{d.snaps, d.authors} {
		if _, err := d.deleteRange(b, 0, cut-1); err != nil {
			return 0, err
		}
	}
	m.cut = cut
	db.stats.pruned.Add(uint64(n))
	return n, nil
}

// pruneCut is the newest snapshot revision both windows allow cutting at,
// or m.cut if none.
func pruneCut(d doc, m docMeta, keepOps uint64, keepFor time.Duration, now time.Time) (uint64, error) {
	limit := m.Rev
	if keepOps > 0 {
		if m.Rev <= keepOps {
			return m.cut, nil
		}
		limit = m.Rev - keepOps
	}
	c := d.snaps.Cursor()
	rev, _, ok := d.atOrBelow(c, limit)
	for ; ok && rev > m.cut; rev, ok = prevRev(d, c) {
		if keepFor == 0 {
			return rev, nil
		}
		v := d.ops.Get(d.key(rev))
		if v == nil {
			return 0, corrupt(m.ID, fmt.Sprintf("op %d", rev), errMissing)
		}
		t, err := decodeRecordTime(v)
		if err != nil {
			return 0, corrupt(m.ID, fmt.Sprintf("op %d", rev), err)
		}
		if now.Sub(t) > keepFor {
			return rev, nil
		}
	}
	return m.cut, nil
}

func prevRev(d doc, c *bbolt.Cursor) (uint64, bool) {
	k, _ := c.Prev()
	return d.rev(k)
}
