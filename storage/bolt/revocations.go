package bolt

import (
	"context"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// bucketRevoked holds the revocations by Key; created by the first one.
var bucketRevoked = []byte("revoked")

// PutRevocation stores r (merged with a stored revocation of the same
// tokens) durably, and forgets the revocations kept past their Until.
func (db *DB) PutRevocation(ctx context.Context, r storage.Revocation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := time.Now().Unix()
	return db.update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketRevoked)
		if err != nil {
			return err
		}
		key := []byte(r.Key())
		if old := b.Get(key); old != nil {
			if o, err := storage.DecodeRevocation(old); err == nil {
				r = o.Merge(r)
			}
		}
		if err := b.Put(key, storage.EncodeRevocation(r)); err != nil {
			return err
		}
		return deleteLapsed(b, now)
	})
}

// deleteLapsed deletes the revocations kept past their Until.
func deleteLapsed(b *bbolt.Bucket, now int64) error {
	var lapsed [][]byte
	err := b.ForEach(func(k, v []byte) error {
		if r, err := storage.DecodeRevocation(v); err != nil || r.Until < now {
			lapsed = append(lapsed, k)
		}
		return nil
	})
	for _, k := range lapsed {
		if err == nil {
			err = b.Delete(k)
		}
	}
	return err
}

// Revocations returns the stored revocations not yet past their Until.
func (db *DB) Revocations(ctx context.Context) ([]storage.Revocation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	var rs []storage.Revocation
	err := db.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketRevoked)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			r, err := storage.DecodeRevocation(v)
			if err != nil {
				return err
			}
			if r.Until >= now {
				rs = append(rs, r)
			}
			return nil
		})
	})
	return rs, err
}

var _ storage.RevocationStore = (*DB)(nil)
