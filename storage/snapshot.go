package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
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

// snapLoop takes the snapshots requested by commits, off the commit path.
// On Close it takes those still requested, so a reopened store loads fast.
// A request lost to a crash is made again by the document's next write or
// Load, since both compare its revision with its newest snapshot's.
func (db *DB) snapLoop() {
	defer db.wg.Done()
	for {
		select {
		case <-db.snapWake:
		case <-db.quit:
			db.snapshotAll(db.takeSnapshotRequests(), false)
			return
		}
		db.snapshotAll(db.takeSnapshotRequests(), false)
	}
}

// snapJob is a snapshot computed for a document incarnation at m.Rev.
type snapJob struct {
	m    docMeta
	text string
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
	var jobs []snapJob
	// db.bolt directly: this also runs during Close, after db.closed is set.
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for id, gen := range due {
			b, m, err := docBucket(tx, id)
			if err != nil || m.gen != gen || m.snapRev == m.Rev {
				continue // deleted, corrupt (Load reports it) or done
			}
			if !force && m.Rev-m.snapRev < uint64(db.opts.SnapshotEvery) {
				continue
			}
			text, err := readText(b, m, m.Rev)
			if err != nil {
				db.stats.snapshotErrs.Add(1)
				continue
			}
			jobs = append(jobs, snapJob{m: m, text: text})
		}
		return nil
	})
	if err != nil || len(jobs) == 0 {
		return
	}
	now := time.Now()
	err = db.bolt.Update(func(tx *bolt.Tx) error {
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
func (db *DB) putSnapshot(tx *bolt.Tx, j snapJob, now time.Time) error {
	b, cur, err := docBucket(tx, j.m.ID)
	if err != nil || cur.gen != j.m.gen || cur.snapRev >= j.m.Rev {
		return err
	}
	if err := b.Bucket(bucketSnaps).Put(revKey(j.m.Rev), encodeSnapshot(j.text, j.m.Length)); err != nil {
		return err
	}
	cur.snapRev = j.m.Rev
	db.stats.snapshots.Add(1)
	if _, err := db.prune(b, &cur, now); err != nil {
		return err
	}
	return b.Put(keyMeta, encodeMeta(cur))
}

// Prune applies Options.KeepOps and KeepFor to every document now. The
// store prunes a document by itself only when it takes a snapshot, so a
// server with KeepFor set calls Prune now and then to also age out the
// history of documents nobody edits. It returns how many ops it removed.
func (db *DB) Prune(ctx context.Context) (int, error) {
	var ids []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			if v == nil {
				ids = append(ids, string(k))
			}
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
		err := db.update(func(tx *bolt.Tx) error {
			b, m, err := docBucket(tx, id)
			if err != nil {
				return err
			}
			n, err := db.prune(b, &m, time.Now())
			if err != nil || n == 0 {
				return err
			}
			total += n
			return b.Put(keyMeta, encodeMeta(m))
		})
		if err != nil && !isDocError(err) {
			return total, err
		}
	}
	return total, nil
}

func isDocError(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt)
}

// prune moves document m's cut up to the newest snapshot that every
// retention window has passed, deleting the ops up to it and the snapshots
// below it. Client records stay. It updates m; the caller stores it.
func (db *DB) prune(b *bolt.Bucket, m *docMeta, now time.Time) (int, error) {
	keepOps, keepFor := uint64(db.opts.KeepOps), db.opts.KeepFor
	if keepOps == 0 && keepFor == 0 {
		return 0, nil
	}
	cut, err := pruneCut(b, *m, keepOps, keepFor, now)
	if err != nil || cut <= m.cut {
		return 0, err
	}
	n, err := deleteRange(b.Bucket(bucketOps), m.cut+1, cut)
	if err != nil {
		return 0, err
	}
	if _, err := deleteRange(b.Bucket(bucketSnaps), 0, cut-1); err != nil {
		return 0, err
	}
	m.cut = cut
	db.stats.pruned.Add(uint64(n))
	return n, nil
}

// pruneCut is the newest snapshot revision both windows allow cutting at,
// or m.cut if none.
func pruneCut(b *bolt.Bucket, m docMeta, keepOps uint64, keepFor time.Duration, now time.Time) (uint64, error) {
	limit := m.Rev
	if keepOps > 0 {
		if m.Rev <= keepOps {
			return m.cut, nil
		}
		limit = m.Rev - keepOps
	}
	ops := b.Bucket(bucketOps)
	c := b.Bucket(bucketSnaps).Cursor()
	k, _ := c.Seek(revKey(limit))
	if k == nil || string(k) != string(revKey(limit)) {
		k, _ = c.Prev()
	}
	for ; k != nil; k, _ = c.Prev() {
		rev, ok := keyRev(k)
		if !ok || rev <= m.cut {
			break
		}
		if keepFor == 0 {
			return rev, nil
		}
		v := ops.Get(k)
		if v == nil {
			return 0, corrupt(m.ID, fmt.Sprintf("op %d", rev), fmt.Errorf("missing"))
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

// deleteRange deletes the keys from..to (revisions, inclusive) of bucket b.
// Keys are collected first: deleting under a moving cursor skips keys.
func deleteRange(b *bolt.Bucket, from, to uint64) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(revKey(from)); k != nil; k, _ = c.Next() {
		if rev, ok := keyRev(k); !ok || rev > to {
			break
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
