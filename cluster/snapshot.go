package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
		if err == nil && s.opts.KeepOps > 0 {
			_, err = s.pruneDoc(s.ctx, id, time.Now())
		}
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
	snap, err := s.snapshotAt(ctx, id, h)
	if err != nil {
		return err
	}
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

// snapshotAt rebuilds document id's snapshot at its head h.
func (s *Store) snapshotAt(ctx context.Context, id string, h head) (snapshot, error) {
	st, err := s.rebuild(ctx, id, h, h.rev, true)
	if err != nil {
		return snapshot{}, err
	}
	return snapshot{epoch: h.epoch, seq: h.seq, rev: h.rev, created: h.created, updated: h.updated,
		text: st.buf.String(), clients: st.clients, authors: st.authors.Spans()}, nil
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
		if snap, err = s.snapshotAt(ctx, id, h); err != nil {
			return err
		}
		if err := s.putSnapshot(ctx, id, snap); err != nil {
			return err
		}
	}
	return s.purgeBefore(ctx, id, snap.seq)
}

// blobMark starts a snapshot bucket value that says the snapshot is in
// the large snapshot bucket, under the name that follows the mark (under
// the bucket key itself if nothing follows, as written before names).
const blobMark = 0xb1

// putSnapshot writes snap unless the stored snapshot is as new or newer:
// a writer that materialized an older state (a slow background snapshot,
// a node that is behind) must not replace a newer snapshot, whose history
// before it may be pruned already. The check and the write are one
// compare-and-set on the snapshot bucket's entry, and a large snapshot goes
// to a blob of its own revision, so that a writer that loses the race
// leaves the winner's blob alone.
func (s *Store) putSnapshot(ctx context.Context, id string, snap snapshot) error {
	return s.putSnapshotAt(ctx, id, encodeKey(id), snap)
}

// putSnapshotAt is putSnapshot under bucket key key.
func (s *Store) putSnapshotAt(ctx context.Context, id, key string, snap snapshot) error {
	data := encodeSnapshot(snap)
	var mine string // the blob written for snap, if any
	for range 8 {
		cur, err := s.storedSnapshot(ctx, key)
		if err != nil {
			return err
		}
		if cur.ok && (cur.epoch > snap.epoch || cur.epoch == snap.epoch && cur.rev >= snap.rev) {
			// As new or newer. A blob of the same revision is the same
			// snapshot, perhaps the one the entry names: it stays.
			if mine != "" && mine != cur.blob {
				s.deleteBlob(ctx, id, mine)
			}
			return nil
		}
		value := data
		if len(data) > int(s.nc.MaxPayload())-msgSlack {
			if mine == "" {
				mine = fmt.Sprintf("%s.%d.%d", key, snap.epoch, snap.rev)
				if err := s.putBlob(ctx, mine, data); err != nil {
					return err
				}
			}
			value = append([]byte{blobMark}, mine...)
		}
		rctx, cancel := s.reqCtx(ctx)
		if cur.revision == 0 {
			_, err = s.snaps.Create(rctx, key, value)
		} else {
			_, err = s.snaps.Update(rctx, key, value, cur.revision)
		}
		cancel()
		switch {
		case err == nil:
			s.metrics.snapshots.Inc()
			if cur.blob != "" && cur.blob != mine {
				s.deleteBlob(ctx, id, cur.blob)
			}
			return nil
		case !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch):
			return natsErr("write snapshot", err)
		}
		// Another writer won: read again.
	}
	return fmt.Errorf("cluster: snapshot of %q: too many concurrent writers", id)
}

// storedEntry is what the snapshot bucket holds for a document.
type storedEntry struct {
	revision   uint64 // of the bucket entry, 0 if none
	blob       string // the large snapshot's blob, if any
	epoch, rev uint64 // of the snapshot, valid if ok
	ok         bool
}

// storedSnapshot reads which snapshot is stored under key: from the
// entry, or for a large one from its blob's name, which gives its epoch
// and revision (only a blob written before blobs had names is read). One
// that cannot be read counts as none, so that a new one replaces it.
func (s *Store) storedSnapshot(ctx context.Context, key string) (storedEntry, error) {
	cur, data, err := s.snapshotEntry(ctx, key)
	if err != nil || cur.revision == 0 {
		return cur, err
	}
	if cur.blob != "" && cur.blob != key {
		_, err := fmt.Sscanf(strings.TrimPrefix(cur.blob, key+"."), "%d.%d", &cur.epoch, &cur.rev)
		cur.ok = err == nil
		return cur, nil
	}
	if cur.blob != "" {
		if data, err = s.getBlob(ctx, cur.blob); err != nil {
			return cur, nil
		}
	}
	snap, err := decodeSnapshot(data)
	cur.epoch, cur.rev, cur.ok = snap.epoch, snap.rev, err == nil
	return cur, nil
}

// snapshotEntry reads the snapshot bucket's entry under key: its revision
// and blob (a zero storedEntry if there is none) and its value.
func (s *Store) snapshotEntry(ctx context.Context, key string) (storedEntry, []byte, error) {
	rctx, cancel := s.reqCtx(ctx)
	e, err := s.snaps.Get(rctx, key)
	cancel()
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return storedEntry{}, nil, nil
	}
	if err != nil {
		return storedEntry{}, nil, natsErr("read snapshot", err)
	}
	return storedEntry{revision: e.Revision(), blob: blobName(key, e.Value())}, e.Value(), nil
}

// blobName returns the blob a snapshot bucket value points to, or "".
func blobName(key string, value []byte) string {
	switch {
	case len(value) == 0 || value[0] != blobMark:
		return ""
	case len(value) == 1:
		return key
	}
	return string(value[1:])
}

// blobCtx bounds the transfer of a large snapshot, which takes several
// requests.
func (s *Store) blobCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 4*s.opts.Timeout)
}

func (s *Store) getBlob(ctx context.Context, name string) ([]byte, error) {
	rctx, cancel := s.blobCtx(ctx)
	defer cancel()
	return s.blobs.GetBytes(rctx, name)
}

func (s *Store) putBlob(ctx context.Context, name string, data []byte) error {
	rctx, cancel := s.blobCtx(ctx)
	defer cancel()
	chunk := min(128<<10, uint32(s.nc.MaxPayload()-msgSlack))
	_, err := s.blobs.Put(rctx, jetstream.ObjectMeta{Name: name, Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}},
		bytes.NewReader(data))
	if err != nil {
		return natsErr("write large snapshot", err)
	}
	return nil
}

func (s *Store) deleteBlob(ctx context.Context, id, name string) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if err := s.blobs.Delete(rctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		s.log.Warn("cluster: remove large snapshot", "doc", id, "blob", name, "err", err)
	}
}

// getSnapshot reads the encoded snapshot under key; ErrKeyNotFound if none.
// A blob that is gone was replaced by a newer snapshot's between the two
// reads: the entry is read once more.
func (s *Store) getSnapshot(ctx context.Context, key string) ([]byte, error) {
	for try := 0; ; try++ {
		var e jetstream.KeyValueEntry
		err := s.retry(ctx, func(ctx context.Context) (err error) {
			e, err = s.snaps.Get(ctx, key)
			return err
		})
		if err != nil {
			return nil, err
		}
		name := blobName(key, e.Value())
		if name == "" {
			return e.Value(), nil
		}
		data, err := s.getBlob(ctx, name)
		if !errors.Is(err, jetstream.ErrObjectNotFound) || try > 0 {
			return data, err
		}
	}
}

// dropSnapshot removes the snapshots of a deleted document.
func (s *Store) dropSnapshot(ctx context.Context, id string) {
	s.dropSnapshotAt(ctx, id, baseKey(id))
	s.dropSnapshotAt(ctx, id, encodeKey(id))
}

func (s *Store) dropSnapshotAt(ctx context.Context, id, key string) {
	if cur, _, err := s.snapshotEntry(ctx, key); err == nil && cur.blob != "" && cur.blob != key {
		s.deleteBlob(ctx, id, cur.blob)
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	if err := s.snaps.Purge(rctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		s.log.Warn("cluster: remove snapshot of deleted document", "doc", id, "err", err)
	}
	s.deleteBlob(ctx, id, key) // a large snapshot written before blobs had names
}
