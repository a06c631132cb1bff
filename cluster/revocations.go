package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// revocationAge bounds how long the bucket keeps a revocation nobody
// replaced, past the longest one collab accepts (a year).
const revocationAge = 367 * 24 * time.Hour

func (s *Store) createRevocationBucket(ctx context.Context) error {
	return s.retry(ctx, func(ctx context.Context) (err error) {
		s.revoked, err = s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      s.opts.Prefix + "_revocations",
			Description: "collab token revocations, until the tokens expire",
			History:     1,
			TTL:         revocationAge,
			Storage:     jetstream.FileStorage,
			Replicas:    s.opts.Replicas,
		})
		return err
	})
}

// revocationKey is r's key in the bucket: KV keys allow few characters.
func revocationKey(r storage.Revocation) string {
	sum := sha256.Sum256([]byte(r.Key()))
	return hex.EncodeToString(sum[:16])
}

// PutRevocation stores r, merged with the stored revocation of the same
// tokens, on every node: each node's WatchRevocations hears it.
func (s *Store) PutRevocation(ctx context.Context, r storage.Revocation) error {
	key := revocationKey(r)
	for {
		e, err := s.revoked.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
			_, err = s.revoked.Create(ctx, key, storage.EncodeRevocation(r))
		case err == nil:
			m := r
			if old, derr := storage.DecodeRevocation(e.Value()); derr == nil {
				m = old.Merge(r)
			}
			_, err = s.revoked.Update(ctx, key, storage.EncodeRevocation(m), e.Revision())
		}
		var apiErr *jetstream.APIError
		if errors.Is(err, jetstream.ErrKeyExists) || errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			continue // another node wrote it meanwhile: merge with theirs
		}
		if err != nil {
			return fmt.Errorf("cluster: put revocation: %w", natsErr("revoke", err))
		}
		s.dropLapsedRevocations(ctx)
		return nil
	}
}

// dropLapsedRevocations deletes the revocations past their Until; a
// failure only keeps them longer.
func (s *Store) dropLapsedRevocations(ctx context.Context) {
	now := time.Now().Unix()
	s.eachRevocation(ctx, func(key string, r storage.Revocation) {
		if r.Until < now {
			s.revoked.Delete(ctx, key)
		}
	})
}

// eachRevocation calls fn with every stored revocation.
func (s *Store) eachRevocation(ctx context.Context, fn func(key string, r storage.Revocation)) error {
	lister, err := s.revoked.ListKeys(ctx)
	if err != nil {
		return err
	}
	defer lister.Stop()
	for key := range lister.Keys() {
		e, err := s.revoked.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if r, err := storage.DecodeRevocation(e.Value()); err == nil {
			fn(key, r)
		}
	}
	return nil
}

// Revocations returns the stored revocations not past their Until.
func (s *Store) Revocations(ctx context.Context) ([]storage.Revocation, error) {
	now := time.Now().Unix()
	var rs []storage.Revocation
	err := s.eachRevocation(ctx, func(_ string, r storage.Revocation) {
		if r.Until >= now {
			rs = append(rs, r)
		}
	})
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, fmt.Errorf("cluster: revocations: %w", natsErr("revocations", err))
	}
	return rs, nil
}

// WatchRevocations calls fn with every revocation stored now and every
// one any node puts later, until ctx ends or the Store closes. After a
// reconnection to NATS it watches again, from the stored ones: a watch
// NATS dropped while it was away would otherwise hear nothing more, and
// revoked tokens would keep working on this node.
func (s *Store) WatchRevocations(ctx context.Context, fn func(storage.Revocation)) error {
	w, again, err := s.watchRevocations(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch revocations: %w", natsErr("revocations", err))
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for w != nil {
			s.hearRevocations(ctx, w, again, fn)
			select {
			case <-again:
			default: // the watch ended by itself: not again at once
				s.pause(ctx, again, time.Second)
			}
			w, again = s.rewatchRevocations(ctx)
		}
	}()
	return nil
}

// watchRevocations starts a watch of every revocation, with the channel
// closed at the next reconnection, asked for first so that none is missed.
func (s *Store) watchRevocations(ctx context.Context) (jetstream.KeyWatcher, <-chan struct{}, error) {
	again := s.reconnected()
	w, err := s.revoked.WatchAll(ctx, jetstream.IgnoreDeletes())
	return w, again, err
}

// hearRevocations calls fn with what w delivers until w ends, NATS
// reconnects (again) or ctx or the Store ends; then it stops w.
func (s *Store) hearRevocations(ctx context.Context, w jetstream.KeyWatcher, again <-chan struct{}, fn func(storage.Revocation)) {
	defer w.Stop()
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue // the stored ones are all delivered
			}
			if r, err := storage.DecodeRevocation(e.Value()); err == nil {
				fn(r)
			}
		case <-again:
			return
		case <-ctx.Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}

// rewatchRevocations starts a new watch, retrying with backoff while NATS
// refuses; nil when ctx or the Store ends first.
func (s *Store) rewatchRevocations(ctx context.Context) (jetstream.KeyWatcher, <-chan struct{}) {
	wait := 100 * time.Millisecond
	for {
		if ctx.Err() != nil || s.ctx.Err() != nil {
			return nil, nil
		}
		w, again, err := s.watchRevocations(ctx)
		if err == nil {
			return w, again
		}
		s.log.Warn("cluster: watch revocations again", "err", err)
		s.pause(ctx, nil, wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// pause waits d, or less when again is closed or ctx or the Store ends.
func (s *Store) pause(ctx context.Context, again <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-again:
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
}

var (
	_ storage.RevocationStore   = (*Store)(nil)
	_ storage.RevocationWatcher = (*Store)(nil)
)
