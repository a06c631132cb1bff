package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/collabd/collab/ot"
	bolt "go.etcd.io/bbolt"
)

// Load returns document id at its current revision: its newest snapshot
// with the ops after it applied.
func (db *DB) Load(ctx context.Context, id string) (Doc, error) {
	if err := ctx.Err(); err != nil {
		return Doc{}, err
	}
	var d Doc
	var m docMeta
	err := db.view(func(tx *bolt.Tx) error {
		dd, meta, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		m = meta
		d.Meta = m.Meta
		d.Text, err = readText(dd, m, m.Rev)
		return err
	})
	if err != nil {
		return Doc{}, err
	}
	// Snapshots requested before a crash or Close are asked for again here.
	if m.Rev-m.snapRev >= uint64(db.opts.SnapshotEvery) {
		db.requestSnapshot(m.ID, m.gen)
	}
	return d, nil
}

// TextAt returns document id's text at revision rev: the nearest snapshot
// at or below rev with the ops up to rev applied. ErrPruned if rev is below
// the pruning cut, ErrInvalid if it is beyond the current revision.
func (db *DB) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var text string
	err := db.view(func(tx *bolt.Tx) error {
		d, m, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		if rev > m.Rev {
			return fmt.Errorf("%w: document %q has no revision %d (current %d)", ErrInvalid, id, rev, m.Rev)
		}
		text, err = readText(d, m, rev)
		return err
	})
	return text, err
}

// readText rebuilds the text at rev from the newest snapshot at or below it.
func readText(d doc, m docMeta, rev uint64) (string, error) {
	if rev < m.cut {
		return "", fmt.Errorf("%w: document %q revision %d is before the oldest kept revision %d", ErrPruned, m.ID, rev, m.cut)
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
	err = scanOps(d, m, base, rev, func(rec Record) error {
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
func scanOps(d doc, m docMeta, from, to uint64, fn func(Record) error) error {
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
func (db *DB) Ops(ctx context.Context, id string, from, to uint64) ([]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var recs []Record
	err := db.view(func(tx *bolt.Tx) error {
		d, m, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		to = min(to, m.Rev)
		if from >= to {
			return nil
		}
		if from < m.cut {
			return fmt.Errorf("%w: document %q ops after %d requested, kept only after %d", ErrPruned, id, from, m.cut)
		}
		recs = make([]Record, 0, to-from)
		return scanOps(d, m, from, to, func(r Record) error {
			recs = append(recs, r)
			return nil
		})
	})
	return recs, err
}

// ClientSeq returns the last sequence number committed for client on
// document id and the revision it produced; zeros if there is none, also
// when the document does not exist. These records outlive pruning.
func (db *DB) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := checkID("client", client); err != nil {
		return 0, 0, err
	}
	err = db.view(func(tx *bolt.Tx) error {
		d, _, err := openDoc(tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		seq, rev, err = d.client(client)
		return err
	})
	return seq, rev, err
}

// List returns up to limit documents with ids greater than after, in id
// (byte) order. A document whose metadata cannot be decoded is listed with
// only its ID; loading it reports the error.
func (db *DB) List(ctx context.Context, after string, limit int) ([]Meta, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, fmt.Errorf("%w: list limit %d", ErrInvalid, limit)
	}
	var out []Meta
	err := db.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketIDs).Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			id := string(k)
			d := docIn(tx, id)
			m, err := decodeMeta(id, d.meta.Get(d.metaKey()))
			if err != nil {
				m = docMeta{Meta: Meta{ID: id}}
			}
			out = append(out, m.Meta)
		}
		return nil
	})
	return out, err
}

// Delete removes document id with its history, snapshots and client
// records. ErrNotFound if there is no such document. The space is reused
// by later writes; Compact returns it to the file system.
func (db *DB) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkID("document", id); err != nil {
		return err
	}
	return db.update(func(tx *bolt.Tx) error {
		// A document with corrupt or missing metadata can still be
		// deleted if it is listed.
		d, _, err := openDoc(tx, id)
		if errors.Is(err, ErrNotFound) && d.ids.Get([]byte(id)) == nil {
			return err
		}
		return d.deleteAll()
	})
}
