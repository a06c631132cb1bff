package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// bucketCursors holds, per consumer of the documents' changes (a bucket
// each), small values keyed by document id: how far it has got.
var bucketCursors = []byte("cursors")

// Cursors returns every value consumer has stored with PutCursors, by key.
func (db *DB) Cursors(ctx context.Context, consumer string) (map[string][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte)
	err := db.view(func(tx *bbolt.Tx) error {
		b := cursorBucket(tx, consumer)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out[string(k)] = append([]byte(nil), v...)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("storage: cursors of %q: %w", consumer, err)
	}
	return out, nil
}

// PutCursors stores the values of set for consumer, a nil value deleting
// its key, in one durable transaction: when it returns, they survive a
// crash.
func (db *DB) PutCursors(ctx context.Context, consumer string, set map[string][]byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := storage.CheckCursors(consumer, set); err != nil {
		return err
	}
	err := db.update(func(tx *bbolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(bucketCursors)
		if err != nil {
			return err
		}
		b, err := top.CreateBucketIfNotExists([]byte(consumer))
		if err != nil {
			return err
		}
		for k, v := range set {
			if v == nil {
				err = b.Delete([]byte(k))
			} else {
				err = b.Put([]byte(k), v)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storage: put cursors of %q: %w", consumer, err)
	}
	return nil
}

func cursorBucket(tx *bbolt.Tx, consumer string) *bbolt.Bucket {
	top := tx.Bucket(bucketCursors)
	if top == nil {
		return nil
	}
	return top.Bucket([]byte(consumer))
}
