package cluster

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// cursorBucket returns the bucket of the consumers' cursors
// (Prefix_cursors), creating it on first use: a cluster without
// consumers has none.
func (s *Store) cursorBucket(ctx context.Context) (jetstream.KeyValue, error) {
	return s.lazyBucket(ctx, &s.cursors, jetstream.KeyValueConfig{
		Bucket:      s.opts.Prefix + "_cursors",
		Description: "collab consumers' progress (webhook delivery), per document",
	})
}

// lazyBucket returns *kv, first creating the bucket of cfg (one value per
// key, on file, replicated like the stream) if *kv is nil.
func (s *Store) lazyBucket(ctx context.Context, kv *jetstream.KeyValue, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	s.kvMu.Lock()
	defer s.kvMu.Unlock()
	if *kv != nil {
		return *kv, nil
	}
	cfg.History, cfg.Storage, cfg.Replicas = 1, jetstream.FileStorage, s.opts.Replicas
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		*kv, err = s.js.CreateOrUpdateKeyValue(ctx, cfg)
		return err
	})
	if err != nil {
		return nil, natsErr("create bucket "+cfg.Bucket, err)
	}
	return *kv, nil
}

// cursorKey is the KV key of consumer's value for key: both encoded as
// subject tokens, so that one consumer's keys are listed by a filter.
func cursorKey(consumer, key string) string { return encodeKey(consumer) + "." + encodeKey(key) }

// Cursors returns every value consumer has stored with PutCursors, by
// key, as the stream leader has them. It is the webhook sender's cursor
// store in cluster mode (collab/webhook.Cursors), shared by the nodes.
func (s *Store) Cursors(ctx context.Context, consumer string) (map[string][]byte, error) {
	kv, err := s.cursorBucket(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := kv.ListKeysFiltered(ctx, encodeKey(consumer)+".*")
	if err != nil {
		return nil, natsErr("list cursors", err)
	}
	defer keys.Stop()
	prefix := encodeKey(consumer) + "."
	out := make(map[string][]byte)
	for k := range keys.Keys() {
		id, ok := decodeKey(strings.TrimPrefix(k, prefix))
		if !ok {
			continue
		}
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // deleted since listed
		}
		if err != nil {
			return nil, natsErr("read cursor", err)
		}
		out[id] = e.Value()
	}
	return out, ctx.Err()
}

// PutCursors stores the values of set for consumer, a nil value deleting
// its key. Each value is durable (replicated as Options.Replicas says)
// when it returns; unlike the bbolt store, several keys are not written
// atomically: a caller that writes more than one writes a marker last.
func (s *Store) PutCursors(ctx context.Context, consumer string, set map[string][]byte) error {
	if err := storage.CheckCursors(consumer, set); err != nil {
		return err
	}
	kv, err := s.cursorBucket(ctx)
	if err != nil {
		return err
	}
	for k, v := range set {
		if v == nil {
			err = kv.Purge(ctx, cursorKey(consumer, k))
		} else {
			_, err = kv.Put(ctx, cursorKey(consumer, k), v)
		}
		if err != nil {
			return natsErr("put cursor", err)
		}
	}
	return nil
}
