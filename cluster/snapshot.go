package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// maybeSnapshot starts writing a snapshot of id in the background when
// SnapshotEvery revisions passed since the newest one this node knows of.
func (s *Store) maybeSnapshot(id string, epoch, rev uint64) {
	s.mu.Lock()
	c := s.cache(id)
	if c.snapEpoch != epoch {
		c.snapEpoch, c.snapRev = epoch, 0
	}
	due := rev-min(c.snapRev, rev) >= s.opts.SnapshotEvery && !c.snapping && !s.closed
	if due {
		c.snapping = true
		s.wg.Add(1)
	}
	s.mu.Unlock()
	if !due {
		return
	}
	go func() {
		defer s.wg.Done()
		err := s.writeSnapshot(s.ctx, id)
		s.mu.Lock()
		s.cache(id).snapping = false
		s.mu.Unlock()
		if err != nil && !errors.Is(err, storage.ErrNotFound) && s.ctx.Err() == nil {
			s.log.Warn("cluster: snapshot", "doc", id, "err", err)
		}
	}()
}

// writeSnapshot stores document id's state at its head, unless a snapshot
// less than SnapshotEvery revisions old exists already.
func (s *Store) writeSnapshot(ctx context.Context, id string) error {
	h, err := s.existing(ctx, id)
	if err != nil {
		return err
	}
	old, hasOld := s.readSnapshot(ctx, id, h)
	if hasOld && h.rev-old.rev < s.opts.SnapshotEvery {
		return nil
	}
	st, err := s.materialize(ctx, id, h, h.rev)
	if err != nil {
		return err
	}
	snap := snapshot{epoch: h.epoch, seq: h.seq, rev: h.rev, created: h.created, updated: h.updated,
		text: st.buf.String(), clients: st.clients}
	if err := s.putSnapshot(ctx, id, snap); err != nil {
		return err
	}
	s.mu.Lock()
	if c := s.cache(id); c.snapEpoch != h.epoch || c.snapRev < h.rev {
		c.snapEpoch, c.snapRev = h.epoch, h.rev
	}
	s.mu.Unlock()
	return nil
}

// Prune drops document id's history before its newest snapshot (writing
// one at the head first), as a retention policy would. Loading, client
// records and revisions after the snapshot stay; Ops and TextAt before it
// fail with storage.ErrPruned.
func (s *Store) Prune(ctx context.Context, id string) error {
	h, err := s.existing(ctx, id)
	if err != nil {
		return err
	}
	snap, ok := s.readSnapshot(ctx, id, h)
	if !ok || snap.rev < h.rev {
		st, err := s.materialize(ctx, id, h, h.rev)
		if err != nil {
			return err
		}
		snap = snapshot{epoch: h.epoch, seq: h.seq, rev: h.rev, created: h.created, updated: h.updated,
			text: st.buf.String(), clients: st.clients}
		if err := s.putSnapshot(ctx, id, snap); err != nil {
			return err
		}
	}
	// Keep the snapshot's own message: it is the subject's head, which
	// commits name and readers start from.
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	err = s.stream.Purge(rctx, jetstream.WithPurgeSubject(s.docSubject(id)), jetstream.WithPurgeSequence(snap.seq))
	if err != nil {
		return fmt.Errorf("cluster: prune %q: %w", id, natsErr("purge", err))
	}
	s.mu.Lock()
	if c := s.docs[id]; c != nil {
		c.marks = c.marks[:0]
	}
	s.mu.Unlock()
	return nil
}

// blobMark starts a snapshot bucket value that says the snapshot is in
// the large snapshot bucket, under the same key.
const blobMark = 0xb1

// putSnapshot writes snap to the snapshot bucket, or, when it does not fit
// in a NATS message, to the large snapshot bucket with a mark in the
// snapshot bucket.
func (s *Store) putSnapshot(ctx context.Context, id string, snap snapshot) error {
	key, data := encodeKey(id), encodeSnapshot(snap)
	if len(data) > int(s.nc.MaxPayload())-msgSlack {
		rctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
		chunk := min(128<<10, uint32(s.nc.MaxPayload()-msgSlack))
		_, err := s.blobs.Put(rctx, jetstream.ObjectMeta{Name: key, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}},
			bytes.NewReader(data))
		cancel()
		if err != nil {
			return natsErr("write large snapshot", err)
		}
		data = []byte{blobMark}
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if _, err := s.snaps.Put(rctx, key, data); err != nil {
		return natsErr("write snapshot", err)
	}
	s.metrics.snapshots.Inc()
	return nil
}

// getSnapshot reads the encoded snapshot of id; ErrKeyNotFound if none.
func (s *Store) getSnapshot(ctx context.Context, id string) ([]byte, error) {
	key := encodeKey(id)
	var e jetstream.KeyValueEntry
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		e, err = s.snaps.Get(ctx, key)
		return err
	})
	if err != nil {
		return nil, err
	}
	if v := e.Value(); len(v) != 1 || v[0] != blobMark {
		return v, nil
	}
	rctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	return s.blobs.GetBytes(rctx, key)
}

// dropSnapshot removes the snapshot of a deleted document.
func (s *Store) dropSnapshot(ctx context.Context, id string) {
	key := encodeKey(id)
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if err := s.snaps.Purge(rctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		s.log.Warn("cluster: remove snapshot of deleted document", "doc", id, "err", err)
	}
	if err := s.blobs.Delete(rctx, key); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		s.log.Warn("cluster: remove large snapshot of deleted document", "doc", id, "err", err)
	}
}
