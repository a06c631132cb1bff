package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// doc addresses one document's records. Its ops, client records and
// metadata share bucket recs under keys id 0x00 rev, id 0xFE client and
// id 0xFF, so the newest op, the client records and the metadata, which
// every commit rewrites, sit side by side: usually in one leaf page. Bytes
// 0xFE and 0xFF never occur in UTF-8, so each kind of key is a contiguous
// range of its own per document.
type doc struct {
	id     string
	prefix []byte // id + 0x00: ops and snapshots
	// ops, clients and meta are all bucket recs; the names say which keys
	// a call touches.
	ops, clients, meta *bbolt.Bucket
	snaps, ids         *bbolt.Bucket
	// authors holds the authorship at each snapshot, under the snapshot's
	// key; versions the named versions, under their revision's.
	authors, versions *bbolt.Bucket
}

const (
	tagOp     = 0x00
	tagClient = 0xFE
	tagMeta   = 0xFF
)

func docIn(tx *bbolt.Tx, id string) doc {
	recs := tx.Bucket(bucketRecs)
	return doc{
		id:       id,
		prefix:   append([]byte(id), tagOp),
		ops:      recs,
		clients:  recs,
		meta:     recs,
		snaps:    tx.Bucket(bucketSnaps),
		ids:      tx.Bucket(bucketIDs),
		authors:  tx.Bucket(bucketAuthors),
		versions: tx.Bucket(bucketVersions),
	}
}

// openDoc returns document id and its metadata, or ErrNotFound.
func openDoc(tx *bbolt.Tx, id string) (doc, docMeta, error) {
	if err := storage.CheckDocID(id); err != nil {
		return doc{}, docMeta{}, err
	}
	d := docIn(tx, id)
	v := d.meta.Get(d.metaKey())
	if v == nil {
		return d, docMeta{}, fmt.Errorf("%w: %q", storage.ErrNotFound, id)
	}
	m, err := decodeMeta(id, v)
	if err != nil {
		return d, docMeta{}, corrupt(id, "metadata", err)
	}
	return d, m, nil
}

func (d doc) metaKey() []byte { return append([]byte(d.id), tagMeta) }

func (d doc) putMeta(m docMeta) error { return d.meta.Put(d.metaKey(), encodeMeta(m)) }

// key is the key of revision rev in ops and snaps.
func (d doc) key(rev uint64) []byte {
	k := make([]byte, len(d.prefix), len(d.prefix)+8)
	copy(k, d.prefix)
	return binary.BigEndian.AppendUint64(k, rev)
}

// rev parses a key of ops or snaps; ok is false for another document's key.
func (d doc) rev(k []byte) (rev uint64, ok bool) {
	if len(k) != len(d.prefix)+8 || !bytes.HasPrefix(k, d.prefix) {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[len(d.prefix):]), true
}

func (d doc) clientKey(client string) []byte {
	k := make([]byte, 0, len(d.id)+1+len(client))
	k = append(append(k, d.id...), tagClient)
	return append(k, client...)
}

func (d doc) client(client string) (seq, rev uint64, err error) {
	v := d.clients.Get(d.clientKey(client))
	if v == nil {
		return 0, 0, nil
	}
	seq, rev, err = decodeClient(v)
	if err != nil {
		return 0, 0, corrupt(d.id, fmt.Sprintf("client %q", client), err)
	}
	return seq, rev, nil
}

// atOrBelow positions c on the document's newest key with revision <= rev.
func (d doc) atOrBelow(c *bbolt.Cursor, rev uint64) (r uint64, v []byte, ok bool) {
	want := d.key(rev)
	k, v := c.Seek(want)
	if k == nil || !bytes.Equal(k, want) {
		k, v = c.Prev()
	}
	r, ok = d.rev(k)
	return r, v, ok
}

// deleteRange deletes the document's keys with revisions from..to of b
// (ops or snaps). Keys are collected first: deleting under a moving cursor
// skips keys.
func (d doc) deleteRange(b *bbolt.Bucket, from, to uint64) (int, error) {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(d.key(from)); k != nil; k, _ = c.Next() {
		if rev, ok := d.rev(k); !ok || rev > to {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// deleteAll removes every record of the document.
func (d doc) deleteAll() error {
	for _, b := range []*bbolt.Bucket{d.ops, d.snaps, d.authors, d.versions} {
		if _, err := d.deleteRange(b, 0, ^uint64(0)); err != nil {
			return err
		}
	}
	var keys [][]byte
	c := d.clients.Cursor()
	prefix := d.clientKey("")
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := d.clients.Delete(k); err != nil {
			return err
		}
	}
	if err := d.meta.Delete(d.metaKey()); err != nil {
		return err
	}
	return d.ids.Delete([]byte(d.id))
}

var errMissing = errors.New("missing")
