package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/collabd/collab/ot"
	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// docBucket returns the bucket and metadata of document id, or ErrNotFound.
func docBucket(tx *bolt.Tx, id string) (*bolt.Bucket, docMeta, error) {
	if err := checkID("document", id); err != nil {
		return nil, docMeta{}, err
	}
	b := tx.Bucket(bucketDocs).Bucket([]byte(id))
	if b == nil {
		return nil, docMeta{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	m, err := readMeta(b, id)
	return b, m, err
}

// Load returns document id at its current revision: its newest snapshot
// with the ops after it applied.
func (db *DB) Load(ctx context.Context, id string) (Doc, error) {
	if err := ctx.Err(); err != nil {
		return Doc{}, err
	}
	var d Doc
	var m docMeta
	err := db.view(func(tx *bolt.Tx) error {
		b, meta, err := docBucket(tx, id)
		if err != nil {
			return err
		}
		m = meta
		d.Meta = m.Meta
		d.Text, err = readText(b, m, m.Rev)
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
		b, m, err := docBucket(tx, id)
		if err != nil {
			return err
		}
		if rev > m.Rev {
			return fmt.Errorf("%w: document %q has no revision %d (current %d)", ErrInvalid, id, rev, m.Rev)
		}
		text, err = readText(b, m, rev)
		return err
	})
	return text, err
}

// readText rebuilds the text at rev from the newest snapshot at or below it.
func readText(b *bolt.Bucket, m docMeta, rev uint64) (string, error) {
	if rev < m.cut {
		return "", fmt.Errorf("%w: document %q revision %d is before the oldest kept revision %d", ErrPruned, m.ID, rev, m.cut)
	}
	base, text, length, err := snapshotAtOrBelow(b, m, rev)
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
	err = scanOps(b, m, base, rev, func(rec Record) error {
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
func snapshotAtOrBelow(b *bolt.Bucket, m docMeta, rev uint64) (base uint64, text string, length int, err error) {
	c := b.Bucket(bucketSnaps).Cursor()
	k, v := c.Seek(revKey(rev))
	if k == nil || !bytes.Equal(k, revKey(rev)) {
		k, v = c.Prev()
	}
	if k == nil {
		if m.cut > 0 {
			return 0, "", 0, corrupt(m.ID, "snapshots", fmt.Errorf("none at or below %d, history pruned to %d", rev, m.cut))
		}
		return 0, "", 0, nil
	}
	base, ok := keyRev(k)
	if !ok {
		return 0, "", 0, corrupt(m.ID, "snapshots", fmt.Errorf("bad key %x", k))
	}
	text, length, err = decodeSnapshot(v)
	if err != nil {
		return 0, "", 0, corrupt(m.ID, fmt.Sprintf("snapshot %d", base), err)
	}
	return base, text, length, nil
}

// scanOps calls fn for each op with from < Rev <= to, in order, and fails
// with ErrCorrupt if one is missing or undecodable.
func scanOps(b *bolt.Bucket, m docMeta, from, to uint64, fn func(Record) error) error {
	c := b.Bucket(bucketOps).Cursor()
	want := from + 1
	for k, v := c.Seek(revKey(want)); want <= to; k, v = c.Next() {
		rev, ok := keyRev(k)
		if !ok || rev != want {
			return corrupt(m.ID, fmt.Sprintf("op %d", want), errors.New("missing"))
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
		b, m, err := docBucket(tx, id)
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
		return scanOps(b, m, from, to, func(r Record) error {
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
		b, _, err := docBucket(tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		seq, rev, err = readClient(b, id, client)
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
		docs := tx.Bucket(bucketDocs)
		c := docs.Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, _ = c.Next()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			id := string(k)
			m, err := readMeta(docs.Bucket(k), id)
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
		err := tx.Bucket(bucketDocs).DeleteBucket([]byte(id))
		if errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("%w: %q", ErrNotFound, id)
		}
		return err
	})
}
