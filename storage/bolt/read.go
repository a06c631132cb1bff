package bolt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	bbolt "go.etcd.io/bbolt"
)

// docView is a document as a reader sees it: its stored state plus the
// records after it still in the log.
type docView struct {
	d      doc
	m      docMeta          // as stored; zero but for ID if only in the log
	head   docMeta          // m advanced by tail
	tail   []storage.Record // log records after m.Rev
	stored bool
}

// errRace is a reader that saw the log index and the file at moments
// between which the document was deleted or recreated; it reads again.
var errRace = errors.New("storage: document changed while read")

// viewDoc runs fn on document id in a read transaction. The log index is
// read before the transaction begins, so a record missing from the index
// was checkpointed first and is in the file; one in both is taken once.
func (db *DB) viewDoc(id string, fn func(v docView) error) error {
	for try := 0; ; try++ {
		var p *pending
		var deletes uint64
		if try == 0 {
			db.memMu.RLock()
			p, deletes = db.pend[id], db.deletes.Load()
			db.memMu.RUnlock()
		} else {
			// Raced with a Delete: wait for it to finish.
			db.wmu.Lock()
			p, deletes = db.pend[id], db.deletes.Load()
			db.wmu.Unlock()
		}
		err := db.view(func(tx *bbolt.Tx) error {
			// A Delete (and perhaps a new document under the same id)
			// between reading p and beginning tx would mix incarnations.
			if deletes%2 == 1 || db.deletes.Load() != deletes {
				return errRace
			}
			d, m, err := openDoc(tx, id)
			stored := err == nil
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			tail, ok := p.tail(m.Rev)
			if !ok {
				return errRace
			}
			if !stored && len(tail) == 0 {
				return err
			}
			v := docView{d: d, m: m, head: m, tail: tail, stored: stored}
			if !stored {
				v.m = docMeta{Meta: storage.Meta{ID: id}}
				v.head = docMeta{Meta: storage.Meta{ID: id, Created: p.m.Created}}
			}
			if len(tail) > 0 {
				last := tail[len(tail)-1]
				v.head.Rev, v.head.Length, v.head.Updated = last.Rev, last.Op.TargetLen(), last.Time
			}
			return fn(v)
		})
		if errors.Is(err, errRace) && try < 10 {
			continue
		}
		if errors.Is(err, errRace) {
			return fmt.Errorf("%w: %q", storage.ErrNotFound, id)
		}
		return err
	}
}

// text rebuilds the text at rev <= v.head.Rev.
func (v docView) text(rev uint64) (string, error) {
	if rev <= v.m.Rev {
		return readText(v.d, v.m, rev)
	}
	text, err := readText(v.d, v.m, v.m.Rev)
	if err != nil {
		return "", err
	}
	r := ot.NewBuffer(text)
	for _, rec := range v.tail {
		if rec.Rev > rev {
			break
		}
		if err := r.Apply(rec.Op); err != nil {
			return "", corrupt(v.m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
	}
	return r.String(), nil
}

// Load returns document id at its current revision: its newest snapshot
// with the ops after it applied.
func (db *DB) Load(ctx context.Context, id string) (storage.Doc, error) {
	if err := ctx.Err(); err != nil {
		return storage.Doc{}, err
	}
	var d storage.Doc
	var m docMeta
	err := db.viewDoc(id, func(v docView) error {
		m = v.m
		d.Meta = v.head.Meta
		var err error
		d.Text, err = v.text(v.head.Rev)
		return err
	})
	if err != nil {
		return storage.Doc{}, err
	}
	// Snapshots requested before a crash or Close are asked for again here.
	if m.gen != 0 && db.opts.snapshotDue(m) {
		db.requestSnapshot(m.ID, m.gen)
	}
	return d, nil
}

// TextAt returns document id's text at revision rev: the nearest snapshot
// at or below rev with the ops up to rev applied. ErrPruned if rev is below
// the pruning cut and not a named version, ErrInvalid if it is beyond the
// current revision.
func (db *DB) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var text string
	err := db.viewDoc(id, func(v docView) error {
		if rev > v.head.Rev {
			return fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, rev, v.head.Rev)
		}
		var err error
		text, err = db.textAt(v, rev)
		return err
	})
	return text, err
}

// readText rebuilds the text at rev from the newest snapshot at or below it.
func readText(d doc, m docMeta, rev uint64) (string, error) {
	if rev < m.cut {
		return "", fmt.Errorf("%w: document %q revision %d is before the oldest kept revision %d", storage.ErrPruned, m.ID, rev, m.cut)
	}
	base, text, length, err := snapshotAtOrBelow(d, m, rev)
	if err != nil {
		return "", err
	}
	if base == rev {
		if rev == m.Rev && length != m.Length {
			return "", corrupt(m.ID, fmt.Sprintf("snapshot %d", rev), fmt.Errorf("length %d, metadata says %d", length, m.Length))
		}
		return text, nil
	}
	r := ot.NewBuffer(text)
	err = scanOps(d, m, base, rev, func(rec storage.Record) error {
		if err := r.Apply(rec.Op); err != nil {
			return corrupt(m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if rev == m.Rev && r.Len() != m.Length {
		return "", corrupt(m.ID, "metadata", fmt.Errorf("length %d, ops give %d", m.Length, r.Len()))
	}
	return r.String(), nil
}

// snapshotAtOrBelow finds the newest snapshot with revision <= rev; with no
// snapshot and full history that is the empty text at revision 0.
func snapshotAtOrBelow(d doc, m docMeta, rev uint64) (base uint64, text string, length int, err error) {
	base, v, ok := d.atOrBelow(d.snaps.Cursor(), rev)
	if !ok {
		if m.cut > 0 {
			return 0, "", 0, corrupt(m.ID, "snapshots", fmt.Errorf("none at or below %d, history pruned to %d", rev, m.cut))
		}
		return 0, "", 0, nil
	}
	text, length, err = decodeSnapshot(v)
	if err != nil {
		return 0, "", 0, corrupt(m.ID, fmt.Sprintf("snapshot %d", base), err)
	}
	return base, text, length, nil
}

// scanOps calls fn for each op with from < Rev <= to, in order, and fails
// with ErrCorrupt if one is missing or undecodable.
func scanOps(d doc, m docMeta, from, to uint64, fn func(storage.Record) error) error {
	c := d.ops.Cursor()
	want := from + 1
	for k, v := c.Seek(d.key(want)); want <= to; k, v = c.Next() {
		rev, ok := d.rev(k)
		if !ok || rev != want {
			return corrupt(m.ID, fmt.Sprintf("op %d", want), errMissing)
		}
		rec, err := decodeRecord(rev, v)
		if err != nil {
			return corrupt(m.ID, fmt.Sprintf("op %d", rev), err)
		}
		if err := fn(rec); err != nil {
			return err
		}
		want++
	}
	return nil
}

// Ops returns document id's records with from < Rev <= to, in order; to is
// capped at the current revision. ErrPruned if some are no longer kept.
func (db *DB) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	recs, _, err := db.OpsWithin(ctx, id, from, to, 0)
	return recs, err
}

// OpsWithin is Ops stopping before the record that would take the ops'
// Size past maxBytes (0: no limit); the first record is returned whatever
// its size. more reports that it stopped there, before to and the head: a
// caller wanting the rest asks again from the last record returned.
func (db *DB) OpsWithin(ctx context.Context, id string, from, to uint64, maxBytes int) (recs []storage.Record, more bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	err = db.viewDoc(id, func(v docView) error {
		to = min(to, v.head.Rev)
		if from >= to {
			return nil
		}
		if from < v.m.cut {
			return fmt.Errorf("%w: document %q ops after %d requested, kept only after %d", storage.ErrPruned, id, from, v.m.cut)
		}
		recs = make([]storage.Record, 0, min(to-from, 1024))
		size := 0
		take := func(r storage.Record) error {
			if size += r.Op.Size(); maxBytes > 0 && size > maxBytes && len(recs) > 0 {
				return errFull
			}
			recs = append(recs, r)
			return nil
		}
		if from < v.m.Rev {
			if err := scanOps(v.d, v.m, from, min(to, v.m.Rev), take); err != nil {
				return err
			}
		}
		for _, r := range v.tail {
			if r.Rev > from && r.Rev <= to {
				if err := take(r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, errFull) {
		return recs, true, nil
	}
	return recs, false, err
}

// errFull stops OpsWithin's scan at its byte budget.
var errFull = errors.New("storage: byte budget reached")

// ClientSeq returns the last sequence number committed for client on
// document id and the revision it produced; zeros if there is none, also
// when the document does not exist. These records outlive pruning.
func (db *DB) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := storage.CheckClientID(client); err != nil {
		return 0, 0, err
	}
	err = db.viewDoc(id, func(v docView) error {
		if v.stored {
			var err error
			if seq, rev, err = v.d.client(client); err != nil {
				return err
			}
		}
		// The log's record is newer unless a checkpoint moved it meanwhile.
		for i := len(v.tail) - 1; i >= 0; i-- {
			if r := v.tail[i]; r.Client == client && r.Seq > 0 {
				if r.Seq > seq {
					seq, rev = r.Seq, r.Rev
				}
				break
			}
		}
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return 0, 0, nil
	}
	return seq, rev, err
}

// List returns up to limit documents with ids greater than after, in id
// (byte) order. A document whose metadata cannot be decoded is listed with
// only its ID; loading it reports the error.
func (db *DB) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("%w: list limit %d", storage.ErrInvalid, limit)
	}
	var out []storage.Meta
	heads := db.logHeads(after)
	err := db.view(func(tx *bbolt.Tx) error {
		ids := tx.Bucket(bucketIDs)
		c := ids.Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			id := string(k)
			d := docIn(tx, id)
			m, err := decodeMeta(id, d.meta.Get(d.metaKey()))
			if err != nil {
				m = docMeta{Meta: storage.Meta{ID: id}}
			} else if h, ok := heads[id]; ok && h.Rev > m.Rev {
				m.Rev, m.Length, m.Updated = h.Rev, h.Length, h.Updated
			}
			out = append(out, m.Meta)
		}
		// Documents created since the last checkpoint are only in the log.
		for id, h := range heads {
			if ids.Get([]byte(id)) == nil {
				out = append(out, h)
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b storage.Meta) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// logHeads returns the head of every document with records in the log
// whose id sorts after after.
func (db *DB) logHeads(after string) map[string]storage.Meta {
	db.memMu.RLock()
	defer db.memMu.RUnlock()
	heads := make(map[string]storage.Meta)
	for id, p := range db.pend {
		if id > after && len(p.recs) > 0 {
			heads[id] = p.m.Meta
		}
	}
	return heads
}

// Delete removes document id with its history, snapshots and client
// records. ErrNotFound if there is no such document. The space is reused
// by later writes; Compact returns it to the file system.
func (db *DB) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.CheckDocID(id); err != nil {
		return err
	}
	db.wmu.Lock()
	defer db.wmu.Unlock()
	p := db.pend[id]
	db.deletes.Add(1) // odd while deleting; see viewDoc
	defer db.deletes.Add(1)
	err := db.update(func(tx *bbolt.Tx) error {
		// A document with corrupt or missing metadata can still be
		// deleted if it is listed.
		d, _, err := openDoc(tx, id)
		if errors.Is(err, storage.ErrNotFound) && d.ids.Get([]byte(id)) == nil && (p == nil || len(p.recs) == 0) {
			return err
		}
		if p != nil {
			log := tx.Bucket(bucketLog)
			for _, k := range p.keys {
				if err := log.Delete(logKey(k)); err != nil {
					return err
				}
			}
		}
		return d.deleteAll()
	})
	if err == nil && p != nil {
		db.memMu.Lock()
		db.pendRecs -= len(p.recs)
		db.pendSize -= p.size
		db.logKeys -= len(p.keys)
		delete(db.pend, id)
		db.memMu.Unlock()
	}
	return err
}
