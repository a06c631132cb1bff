package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseBucket returns the bucket of the leases (Prefix_leases), creating
// it on first use. Its keys expire LeaseTTL after their last write, by the
// NATS server's clock: a lease its holder stopped renewing frees itself.
func (s *Store) leaseBucket(ctx context.Context) (jetstream.KeyValue, error) {
	return s.lazyBucket(ctx, &s.leases, jetstream.KeyValueConfig{
		Bucket:      s.opts.Prefix + "_leases",
		Description: "collab leases: which node does a cluster-wide task",
		TTL:         s.opts.LeaseTTL,
	})
}

// Lead runs fn while this node holds the cluster-wide lease name, so that
// one node at a time does a task (sending webhooks) however many run
// Lead: it takes the lease when it is free, renews it every LeaseTTL/4,
// and cancels fn's context as soon as a renewal fails, or once the lease
// may have expired (LeaseTTL after the last successful renewal was sent,
// by this node's clock, which is before the server lets it expire).
// After fn returns, the lease is released and Lead waits to take it
// again. Lead returns when ctx ends or the Store closes, after fn
// returned.
func (s *Store) Lead(ctx context.Context, name string, fn func(ctx context.Context)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	kv, err := s.leaseBucket(ctx)
	if err != nil {
		return err
	}
	key := encodeKey(name)
	tick := s.opts.LeaseTTL / 4
	for ctx.Err() == nil {
		sent := time.Now()
		rctx, rcancel := s.reqCtx(ctx)
		rev, err := kv.Create(rctx, key, []byte(s.node))
		rcancel()
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				s.log.Warn("cluster: take lease", "lease", name, "err", err)
			}
			wait(ctx, tick)
			continue
		}
		s.log.Info("cluster: lease taken", "lease", name, "node", s.node)
		s.hold(ctx, kv, key, rev, sent, fn)
	}
	return nil
}

// hold runs fn while renewing the lease taken at revision rev, then
// releases it.
func (s *Store) hold(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64, sent time.Time, fn func(context.Context)) {
	held, lost := context.WithCancel(ctx)
	defer lost()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(held)
	}()
	ttl := s.opts.LeaseTTL
	timer := time.NewTimer(ttl / 4)
	defer timer.Stop()
	for held.Err() == nil {
		select {
		case <-done:
			lost()
		case <-held.Done():
		case <-timer.C:
			now := time.Now()
			rctx, cancel := context.WithDeadline(held, sent.Add(ttl))
			next, err := kv.Update(rctx, key, []byte(s.node), rev)
			cancel()
			if err != nil {
				s.log.Warn("cluster: lease lost", "lease", key, "node", s.node, "err", err)
				lost()
				break
			}
			rev, sent = next, now
			timer.Reset(ttl / 4)
		}
	}
	<-done
	// Free it for another node now rather than after its TTL; a lease
	// already taken by another is left alone (the revision differs).
	rctx, cancel := s.reqCtx(context.Background())
	kv.Delete(rctx, key, jetstream.LastRevision(rev))
	cancel()
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
