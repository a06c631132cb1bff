package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unsafe"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/storage"
)

// pending is a document's records still in bucket log, with the head state
// that validates new writes to it. A published pending is never changed:
// commits and checkpoints replace it (appends may write past the end of a
// shared slice, which no reader of the old value looks at), so readers use
// it without holding memMu.
type pending struct {
	m       docMeta              // head: Rev, Length, Updated include recs; the rest as stored when first touched
	stored  bool                 // the document was in the per-document layout when first touched
	recs    []storage.Record     // consecutive revisions after the stored ones
	vals    [][]byte             // recs encoded as in bucket recs
	keys    []uint64             // log keys of the document's records, oldest first
	done    int                  // keys[:done] are of records the document holds: to delete
	size    int                  // recordSize of recs
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

// moved is p once a checkpoint has written its records into the document,
// whose stored metadata is now m: nothing to read from the log any more,
// every key to delete there.
func (p *pending) moved(m docMeta) *pending {
	c := *p
	c.m, c.stored = m, true
	c.recs, c.vals, c.size = nil, nil, 0
	c.done = len(p.keys)
	return &c
}

func (p *pending) add(r storage.Record, val []byte, key uint64) {
	if !p.stored && len(p.recs) == 0 && p.m.Created.IsZero() {
		p.m.Created = r.Time
	}
	p.recs = append(p.recs, r)
	p.vals = append(p.vals, val)
	p.size += recordSize(r, val)
	p.keys = append(p.keys, key)
	if r.Client != "" && r.Seq > 0 {
		p.clients[r.Client] = clientRec{r.Seq, r.Rev}
	}
	p.m.Rev, p.m.Length, p.m.Updated = r.Rev, r.Op.TargetLen(), r.Time
}

// tail returns p's records after rev. ok is false if they do not continue
// rev: the document was deleted or recreated between the two reads.
func (p *pending) tail(rev uint64) (recs []storage.Record, ok bool) {
	if p == nil || len(p.recs) == 0 || p.recs[len(p.recs)-1].Rev <= rev {
		return nil, true
	}
	first := p.recs[0].Rev
	if first > rev+1 {
		return nil, false
	}
	return p.recs[rev+1-first:], true
}

// recordSize is about how much memory a record in the log holds: the
// decoded record and its encoding.
func recordSize(r storage.Record, val []byte) int {
	return int(unsafe.Sizeof(r)) + r.Op.Size() + len(r.Author) + len(r.Client) + len(val)
}

func logKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// encodeLogValue is a log entry: document id, revision, then the record as
// bucket recs stores it.
func encodeLogValue(id string, rev uint64, rec []byte) []byte {
	b := make([]byte, 0, len(id)+len(rec)+12)
	b = recordcodec.AppendString(b, id)
	b = binary.AppendUvarint(b, rev)
	return append(b, rec...)
}

func decodeLogValue(v []byte) (id string, rec storage.Record, val []byte, err error) {
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return "", storage.Record{}, nil, recordcodec.ErrTruncated
	}
	id = string(v[k : k+int(n)])
	v = v[k+int(n):]
	rev, k := binary.Uvarint(v)
	if k <= 0 {
		return "", storage.Record{}, nil, recordcodec.ErrTruncated
	}
	val = append([]byte(nil), v[k:]...)
	rec, err = decodeRecord(rev, val)
	return id, rec, val, err
}

// stage returns the head of document id for a commit in tx: a private copy
// of its pending state, or its stored state on first touch. An error is the
// document's (ErrCorrupt): the write is refused.
func (db *DB) stage(tx *bbolt.Tx, staged map[string]*pending, id string) (*pending, error) {
	if p, ok := staged[id]; ok {
		return p, nil
	}
	var p *pending
	if old, ok := db.pend[id]; ok {
		p = old.clone()
	} else {
		_, m, err := openDoc(tx, id)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			p = &pending{m: docMeta{Meta: storage.Meta{ID: id}}}
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
func validateWrite(tx *bbolt.Tx, p *pending, recs []storage.Record) error {
	rev, length := p.m.Rev, p.m.Length
	seen := map[string]uint64{}
	for _, r := range recs {
		if r.Rev != rev+1 {
			return fmt.Errorf("%w: document %q is at revision %d, record has revision %d", storage.ErrConflict, p.m.ID, rev, r.Rev)
		}
		if r.Op.BaseLen() != length {
			return fmt.Errorf("%w: document %q revision %d: op expects length %d, document has %d", storage.ErrConflict, p.m.ID, r.Rev, r.Op.BaseLen(), length)
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
				return fmt.Errorf("%w: document %q: client %q sequence %d is not after %d", storage.ErrConflict, p.m.ID, r.Client, r.Seq, last)
			}
			seen[r.Client] = r.Seq
		}
		rev, length = r.Rev, r.Op.TargetLen()
	}
	return nil
}

// checkpointSlice is how many documents one checkpoint transaction moves.
// Commits wait for one slice, not for the whole checkpoint: moving 8,000
// records of 2,000 documents in one transaction held them up 30-70 ms.
// A variable only so that tests can make slices small.
var checkpointSlice = 128

// checkpoint moves every record in bucket log into the per-document layout
// and then deletes them from the log, in transactions of its own: one per
// slice of documents (sorted by id, so each touches neighbouring pages)
// that moves their records, then one that deletes the moved records' log
// keys, sorted, so the log's pages are rewritten once. Commits go on
// between them. A document's moved records stay in the log until the last
// transaction, where readers and Open take them for what they are:
// records the document already holds (pending.done). A crash at any point
// loses and doubles nothing: Open drops what was moved and moves the rest.
func (db *DB) checkpoint() error {
	db.ckMu.Lock()
	defer db.ckMu.Unlock()
	ids := db.logDocs()
	for len(ids) > 0 {
		n := min(len(ids), checkpointSlice)
		if err := db.moveSlice(ids[:n]); err != nil {
			return fmt.Errorf("storage: checkpoint: %w", err)
		}
		ids = ids[n:]
		if db.afterSlice != nil {
			db.afterSlice()
		}
	}
	dropped, err := db.dropMoved()
	if err != nil {
		return fmt.Errorf("storage: checkpoint: %w", err)
	}
	if dropped > 0 {
		db.stats.checkpoints.Add(1)
	}
	return nil
}

// logDocs returns, sorted, the documents with records to move.
func (db *DB) logDocs() []string {
	db.memMu.RLock()
	defer db.memMu.RUnlock()
	ids := make([]string, 0, len(db.pend))
	for id, p := range db.pend {
		if len(p.recs) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// moveSlice moves the records of documents ids into their layout in one
// transaction and marks them moved in memory.
func (db *DB) moveSlice(ids []string) error {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var moved []docMeta
	err := db.bbolt.Update(func(tx *bbolt.Tx) error {
		moved = moved[:0]
		for _, id := range ids {
			p := db.pend[id]
			if p == nil || len(p.recs) == 0 {
				continue // deleted, or moved by a checkpoint since
			}
			m, ok, err := moveDoc(tx, p)
			if err != nil {
				return err
			}
			if ok {
				moved = append(moved, m)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.memMu.Lock()
	for _, m := range moved {
		p := db.pend[m.ID]
		db.pendRecs -= len(p.recs)
		db.pendSize -= p.size
		db.pend[m.ID] = p.moved(m)
	}
	db.memMu.Unlock()
	for _, m := range moved {
		if db.opts.snapshotDue(m) {
			db.requestSnapshot(m.ID, m.gen)
		}
	}
	return nil
}

// dropMoved deletes from the log the records that checkpoints moved, in
// one transaction, forgets them in memory and returns how many there were.
func (db *DB) dropMoved() (int, error) {
	db.wmu.Lock()
	defer db.wmu.Unlock()
	var ids []string
	var keys []uint64
	for id, p := range db.pend {
		if p.done > 0 {
			ids = append(ids, id)
			keys = append(keys, p.keys[:p.done]...)
		}
	}
	if len(keys) == 0 {
		return 0, nil
	}
	err := db.bbolt.Update(func(tx *bbolt.Tx) error {
		if len(keys) == db.logKeys {
			// Everything goes: dropping the bucket frees its pages at once.
			if err := tx.DeleteBucket(bucketLog); err != nil {
				return err
			}
			_, err := tx.CreateBucket(bucketLog)
			return err
		}
		slices.Sort(keys)
		log := tx.Bucket(bucketLog)
		for _, k := range keys {
			if err := log.Delete(logKey(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	db.memMu.Lock()
	for _, id := range ids {
		p := db.pend[id]
		if len(p.recs) == 0 {
			delete(db.pend, id)
			continue
		}
		c := *p
		c.keys, c.done = p.keys[p.done:], 0
		db.pend[id] = &c
	}
	db.logKeys -= len(keys)
	db.memMu.Unlock()
	return len(keys), nil
}

// moveDoc writes p's records into the per-document layout. Records the
// document already holds are skipped. ok is false, with nothing written,
// if the document cannot take them (corrupt, or a gap): they stay in the log.
func moveDoc(tx *bbolt.Tx, p *pending) (m docMeta, ok bool, err error) {
	d, m, err := openDoc(tx, p.m.ID)
	if errors.Is(err, storage.ErrNotFound) && len(p.recs) == 0 {
		return m, true, nil
	}
	if errors.Is(err, storage.ErrNotFound) {
		seq, err := d.ids.NextSequence()
		if err != nil {
			return m, false, err
		}
		if err := d.ids.Put([]byte(p.m.ID), []byte{}); err != nil {
			return m, false, err
		}
		m = docMeta{Meta: storage.Meta{ID: p.m.ID, Created: p.m.Created}, gen: seq, sized: true}
	} else if err != nil {
		return m, false, nil
	} else if !m.sized {
		measure(d, &m)
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
		m.opBytes += uint64(len(p.vals[skip+i]))
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
	return db.bbolt.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketLog).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			db.logKeys++
			if len(k) == 8 {
				db.logNext = max(db.logNext, binary.BigEndian.Uint64(k)+1)
			}
			id, rec, val, err := decodeLogValue(v)
			if err != nil || id == "" || strings.IndexByte(id, 0) >= 0 {
				continue // corrupt: stays in the log; the rest is served
			}
			p, ok := db.pend[id]
			if !ok {
				_, m, err := openDoc(tx, id)
				switch {
				case errors.Is(err, storage.ErrNotFound):
					p = &pending{m: docMeta{Meta: storage.Meta{ID: id}}}
				case err != nil:
					continue // its document reports storage.ErrCorrupt
				default:
					p = &pending{m: m, stored: true}
				}
				p.clients = make(map[string]clientRec)
				db.pend[id] = p
			}
			if rec.Rev <= p.m.Rev {
				// Already moved: a duplicate to drop. Duplicates come first,
				// as a document's records are in the log in revision order.
				p.keys = append(p.keys, binary.BigEndian.Uint64(k))
				if len(p.recs) == 0 {
					p.done = len(p.keys)
				}
				continue
			}
			if rec.Rev != p.m.Rev+1 {
				continue
			}
			prev := p.size
			p.add(rec, val, binary.BigEndian.Uint64(k))
			db.pendRecs++
			db.pendSize += p.size - prev
		}
		return nil
	})
}
