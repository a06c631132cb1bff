package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// doc addresses one document's records in the four top-level buckets,
// where its keys start with its id and a NUL byte. Keeping all documents
// in shared buckets, rather than a bucket each, lets a group commit that
// touches many documents rewrite about one page per document instead of
// two or three.
type doc struct {
	id                        string
	prefix                    []byte // id + 0x00
	meta, ops, snaps, clients *bolt.Bucket
}

func docIn(tx *bolt.Tx, id string) doc {
	return doc{
		id:      id,
		prefix:  append([]byte(id), 0),
		meta:    tx.Bucket(bucketMeta),
		ops:     tx.Bucket(bucketOps),
		snaps:   tx.Bucket(bucketSnaps),
		clients: tx.Bucket(bucketClients),
	}
}

// openDoc returns document id and its metadata, or ErrNotFound.
func openDoc(tx *bolt.Tx, id string) (doc, docMeta, error) {
	if err := checkID("document", id); err != nil {
		return doc{}, docMeta{}, err
	}
	d := docIn(tx, id)
	v := d.meta.Get([]byte(id))
	if v == nil {
		return d, docMeta{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	m, err := decodeMeta(id, v)
	if err != nil {
		return d, docMeta{}, corrupt(id, "metadata", err)
	}
	return d, m, nil
}

func (d doc) putMeta(m docMeta) error { return d.meta.Put([]byte(d.id), encodeMeta(m)) }

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
	return append(bytes.Clone(d.prefix), client...)
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
func (d doc) atOrBelow(c *bolt.Cursor, rev uint64) (r uint64, v []byte, ok bool) {
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
func (d doc) deleteRange(b *bolt.Bucket, from, to uint64) (int, error) {
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
	if _, err := d.deleteRange(d.ops, 0, ^uint64(0)); err != nil {
		return err
	}
	if _, err := d.deleteRange(d.snaps, 0, ^uint64(0)); err != nil {
		return err
	}
	var keys [][]byte
	c := d.clients.Cursor()
	for k, _ := c.Seek(d.prefix); k != nil && bytes.HasPrefix(k, d.prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := d.clients.Delete(k); err != nil {
			return err
		}
	}
	return d.meta.Delete([]byte(d.id))
}

var errMissing = errors.New("missing")
