package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// PruneHistory applies Options.KeepFor and KeepOps to every document (an
// op goes only when every window set has passed it): see pruneDoc. Client
// records stay in the snapshots, so a client resubmitting an op from
// before the cut is still acknowledged once, and reads before the cut
// fail with storage.ErrPruned (collab's rev_too_old, a reset for a
// resuming client), except at a named version. It returns how many
// documents it cut; collabd calls it every -prune-every.
func (s *Store) PruneHistory(ctx context.Context) (int, error) {
	if s.opts.KeepFor <= 0 && s.opts.KeepOps == 0 {
		return 0, nil
	}
	cut, after := 0, ""
	for {
		metas, err := s.List(ctx, after, 1000)
		if err != nil {
			return cut, err
		}
		if len(metas) == 0 {
			return cut, nil
		}
		for _, m := range metas {
			ok, err := s.pruneDoc(ctx, m.ID, time.Now())
			if err != nil {
				return cut, err
			}
			if ok {
				cut++
			}
		}
		after = metas[len(metas)-1].ID
	}
}

// pruneDoc cuts document id's history as far as the retention windows
// allow, if they allow anything. By age, history can be cut at the head
// (when all of it is older than KeepFor) or at the newest snapshot (when
// the ops it holds are); by count, at KeepOps revisions before the head,
// where a base snapshot is written for the reads that start below the
// newest snapshot.
func (s *Store) pruneDoc(ctx context.Context, id string, now time.Time) (bool, error) {
	h, err := s.existing(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, err
	}
	newest, hasNewest := s.readSnapshot(ctx, id, h)
	cut := h.rev
	if s.opts.KeepFor > 0 {
		switch {
		case now.Sub(h.updated) > s.opts.KeepFor:
		case hasNewest && now.Sub(newest.updated) > s.opts.KeepFor:
			cut = newest.rev
		default:
			return false, nil
		}
	}
	if k := s.opts.KeepOps; k > 0 {
		if h.rev <= k {
			return false, nil
		}
		cut = min(cut, h.rev-k)
	}
	switch {
	case cut == h.rev:
		return true, s.Prune(ctx, id)
	case hasNewest && cut == newest.rev:
		return true, s.purgeBefore(ctx, id, newest.seq)
	}
	return s.cutAt(ctx, id, h, newest, hasNewest, cut)
}

// baseKey is the snapshot bucket key of document id's base snapshot: the
// state at the cut count-based retention made, from which reads of
// revisions older than the newest snapshot start. It is never newer than
// the newest snapshot.
func baseKey(id string) string { return encodeKey(id) + ".base" }

// cutAt writes a base snapshot at revision cut (below the head and not the
// newest snapshot's) and purges the messages before the one holding it.
func (s *Store) cutAt(ctx context.Context, id string, h head, newest snapshot, hasNewest bool, cut uint64) (bool, error) {
	if base, ok := s.readSnapshotAt(ctx, id, baseKey(id), h); ok && base.rev >= cut {
		return false, nil
	}
	if !hasNewest || newest.rev < cut {
		// Rebuilds of the head must not start below the cut.
		snap, err := s.snapshotAt(ctx, id, h)
		if err == nil {
			err = s.putSnapshot(ctx, id, snap)
		}
		if err != nil {
			return false, err
		}
	}
	st, err := s.rebuild(ctx, id, h, cut, true)
	if err != nil {
		return false, err
	}
	// The message holding cut may hold later revisions too: it stays, and
	// reads from the base start with it, skipping the revisions up to cut.
	base := snapshot{epoch: h.epoch, seq: st.seq - 1, rev: cut, created: h.created, updated: st.updated,
		text: st.buf.String(), clients: st.clients, authors: st.authors.Spans()}
	if err := s.putSnapshotAt(ctx, id, baseKey(id), base); err != nil {
		return false, err
	}
	return true, s.purgeBefore(ctx, id, st.seq)
}

// startingSnapshot is the snapshot a rebuild of revision rev starts from:
// the newest if it is at or below rev, else the base snapshot if it is.
func (s *Store) startingSnapshot(ctx context.Context, id string, h head, rev uint64) (snapshot, bool) {
	snap, ok := s.readSnapshot(ctx, id, h)
	if !ok || snap.rev <= rev {
		return snap, ok // no newest snapshot, no base either
	}
	if snap, ok = s.readSnapshotAt(ctx, id, baseKey(id), h); ok && snap.rev <= rev {
		return snap, true
	}
	return snapshot{}, false
}

// purgeBefore removes document id's messages before stream sequence seq,
// which holds the revision of the cut and stays: it may be the subject's
// head, which commits name and readers start from.
func (s *Store) purgeBefore(ctx context.Context, id string, seq uint64) error {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	err := s.stream.Purge(rctx, jetstream.WithPurgeSubject(s.docSubject(id)), jetstream.WithPurgeSequence(seq))
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
