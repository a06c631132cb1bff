package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"

	bolt "go.etcd.io/bbolt"
)

// pending is a document's records still in bucket log, with the head state
// that validates new writes to it. A published pending is never changed:
// commits and checkpoints replace it (appends may write past the end of a
// shared slice, which no reader of the old value looks at), so readers use
// it without holding memMu.
type pending struct {
	m       docMeta              // head: Rev, Length, Updated include recs; the rest as stored when first touched
	stored  bool                 // the document was in the per-document layout when first touched
	recs    []Record             // consecutive revisions after the stored ones
	vals    [][]byte             // recs encoded as in bucket recs
	keys    []uint64             // log keys to delete when the document is moved
	clients map[string]clientRec // newest sequence per client among recs
}

type clientRec struct{ seq, rev uint64 }

func (p *pending) clone() *pending {
	c := *p
	c.clients = maps.Clone(p.clients)
	if c.clients == nil {
		c.clients = make(map[string]clientRec)
	}
	return &c
}

func (p *pending) add(r Record, val []byte, key uint64) {
	if !p.stored && len(p.recs) == 0 && p.m.Created.IsZero() {
		p.m.Created = r.Time
	}
	p.recs = append(p.recs, r)
	p.vals = append(p.vals, val)
	p.keys = append(p.keys, key)
	if r.Client != "" && r.Seq > 0 {
		p.clients[r.Client] = clientRec{r.Seq, r.Rev}
	}
	p.m.Rev, p.m.Length, p.m.Updated = r.Rev, r.Op.TargetLen(), r.Time
}

// tail returns p's records after rev. ok is false if they do not continue
// rev: the document was deleted or recreated between the two reads.
func (p *pending) tail(rev uint64) (recs []Record, ok bool) {
	if p == nil || len(p.recs) == 0 || p.recs[len(p.recs)-1].Rev <= rev {
		return nil, true
	}
	first := p.recs[0].Rev
	if first > rev+1 {
		return nil, false
	}
	return p.recs[rev+1-first:], true
}

func logKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// encodeLogValue is a log entry: document id, revision, then the record as
// bucket recs stores it.
func encodeLogValue(id string, rev uint64, rec []byte) []byte {
	b := make([]byte, 0, len(id)+len(rec)+12)
	b = appendString(b, id)
	b = binary.AppendUvarint(b, rev)
	return append(b, rec...)
}

func decodeLogValue(v []byte) (id string, rec Record, val []byte, err error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return "", Record{}, nil, errTruncated
	}
	id = string(v[k : k+int(n)])
	v = v[k+int(n):]
	rev, k := binary.Uvarint(v)
	if k <= 0 {
		return "", Record{}, nil, errTruncated
	}
	val = append([]byte(nil), v[k:]...)
	rec, err = decodeRecord(rev, val)
	return id, rec, val, err
}

// stage returns the head of document id for a commit in tx: a private copy
// of its pending state, or its stored state on first touch. An error is the
// document's (ErrCorrupt): the write is refused.
func (db *DB) stage(tx *bolt.Tx, staged map[string]*pending, id string) (*pending, error) {
	if p, ok := staged[id]; ok {
		return p, nil
	}
	var p *pending
	if old, ok := db.pend[id]; ok {
		p = old.clone()
	} else {
		_, m, err := openDoc(tx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			p = &pending{m: docMeta{Meta: Meta{ID: id}}}
		case err != nil:
			return nil, err
		default:
			p = &pending{m: m, stored: true}
		}
		p.clients = make(map[string]clientRec)
	}
	staged[id] = p
	return p, nil
}

// validateWrite checks that recs continue the document whose head is p.
func validateWrite(tx *bolt.Tx, p *pending, recs []Record) error {
	rev, length := p.m.Rev, p.m.Length
	seen := map[string]uint64{}
	for _, r := range recs {
		if r.Rev != rev+1 {
			return fmt.Errorf("%w: document %q is at revision %d, record has revision %d", ErrConflict, p.m.ID, rev, r.Rev)
		}
		if r.Op.BaseLen() != length {
			return fmt.Errorf("%w: document %q revision %d: op expects length %d, document has %d", ErrConflict, p.m.ID, r.Rev, r.Op.BaseLen(), length)
		}
		if r.Client != "" && r.Seq > 0 {
			last, ok := seen[r.Client]
			if !ok {
				last = p.clients[r.Client].seq
				if _, inLog := p.clients[r.Client]; !inLog && p.stored {
					var err error
					if last, _, err = docIn(tx, p.m.ID).client(r.Client); err != nil {
						return err
					}
				}
			}
			if r.Seq <= last {
				return fmt.Errorf("%w: document %q: client %q sequence %d is not after %d", ErrConflict, p.m.ID, r.Client, r.Seq, last)
			}
			seen[r.Client] = r.Seq
		}
		rev, length = r.Rev, r.Op.TargetLen()
	}
	return nil
}

// checkpoint moves every record in bucket log into the per-document layout
// in one transaction that also deletes them from the log, then forgets
// them in memory. Commits wait meanwhile (bbolt has one writer anyway).
// A crash before its commit leaves the log as it was; after it, the
// records are in their documents only: nothing is lost or doubled.
func (db *DB) checkpoint() error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	if len(db.pend) == 0 {
		return nil
	}
	var moved []docMeta
	var recreated bool
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		moved, recreated = moved[:0], false
		log := tx.Bucket(bucketLog)
		keys := 0
		for _, p := range db.pend {
			m, ok, err := moveDoc(tx, p)
			if err != nil {
				return err
			}
			if ok {
				moved = append(moved, m)
				keys += len(p.keys)
			}
		}
		if keys == db.logKeys {
			// Everything moves: dropping the bucket frees its pages at once.
			recreated = true
			if err := tx.DeleteBucket(bucketLog); err != nil {
				return err
			}
			_, err := tx.CreateBucket(bucketLog)
			return err
		}
		for _, m := range moved {
			for _, k := range db.pend[m.ID].keys {
				if err := log.Delete(logKey(k)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	db.memMu.Lock()
	for _, m := range moved {
		p := db.pend[m.ID]
		db.pendRecs -= len(p.recs)
		db.logKeys -= len(p.keys)
		delete(db.pend, m.ID)
	}
	if recreated {
		db.logKeys = 0
	}
	db.memMu.Unlock()
	db.stats.checkpoints.Add(1)
	for _, m := range moved {
		if m.Rev-m.snapRev >= uint64(db.opts.SnapshotEvery) {
			db.requestSnapshot(m.ID, m.gen)
		}
	}
	return nil
}

// moveDoc writes p's records into the per-document layout. Records the
// document already holds are skipped. ok is false, with nothing written,
// if the document cannot take them (corrupt, or a gap): they stay in the log.
func moveDoc(tx *bolt.Tx, p *pending) (m docMeta, ok bool, err error) {
	d, m, err := openDoc(tx, p.m.ID)
	if errors.Is(err, ErrNotFound) && len(p.recs) == 0 {
		return m, true, nil
	}
	if errors.Is(err, ErrNotFound) {
		seq, err := d.ids.NextSequence()
		if err != nil {
			return m, false, err
		}
		if err := d.ids.Put([]byte(p.m.ID), []byte{}); err != nil {
			return m, false, err
		}
		m = docMeta{Meta: Meta{ID: p.m.ID, Created: p.m.Created}, gen: seq}
	} else if err != nil {
		return m, false, nil
	}
	recs, cont := p.tail(m.Rev)
	if !cont {
		return m, false, nil
	}
	skip := len(p.recs) - len(recs)
	for i, r := range recs {
		if err := d.ops.Put(d.key(r.Rev), p.vals[skip+i]); err != nil {
			return m, false, err
		}
	}
	for c, cr := range p.clients {
		if cr.rev > m.Rev {
			if err := d.clients.Put(d.clientKey(c), encodeClient(cr.seq, cr.rev)); err != nil {
				return m, false, err
			}
		}
	}
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		m.Rev, m.Length, m.Updated = last.Rev, last.Op.TargetLen(), last.Time
	}
	return m, true, d.putMeta(m)
}

// loadLog reads bucket log into memory after Open: the records of the last
// run that no checkpoint moved. Open then checkpoints them.
func (db *DB) loadLog() error {
	return db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			db.logKeys++
			if len(k) == 8 {
				db.logNext = max(db.logNext, binary.BigEndian.Uint64(k)+1)
			}
			id, rec, val, err := decodeLogValue(v)
			if err != nil || checkID("document", id) != nil {
				continue // stays in the log; the rest is served
			}
			p, ok := db.pend[id]
			if !ok {
				_, m, err := openDoc(tx, id)
				switch {
				case errors.Is(err, ErrNotFound):
					p = &pending{m: docMeta{Meta: Meta{ID: id}}}
				case err != nil:
					continue // its document reports ErrCorrupt
				default:
					p = &pending{m: m, stored: true}
				}
				p.clients = make(map[string]clientRec)
				db.pend[id] = p
			}
			if rec.Rev <= p.m.Rev {
				p.keys = append(p.keys, binary.BigEndian.Uint64(k))
				continue // already moved: a duplicate to drop
			}
			if rec.Rev != p.m.Rev+1 {
				continue
			}
			p.add(rec, val, binary.BigEndian.Uint64(k))
			db.pendRecs++
		}
		return nil
	})
}
