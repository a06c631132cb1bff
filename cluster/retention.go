package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// PruneAged applies Options.KeepFor to every document: history older than
// KeepFor is purged from the stream, up to the document's newest snapshot
// (a document's only cut point: loading, catching up and reading old
// texts start from it), or up to its head, through Prune, when all its
// history is older. Client records stay in the snapshot, so a client
// resubmitting an op from before the cut is still acknowledged once, and
// reads before the cut fail with storage.ErrPruned (collab's rev_too_old,
// a reset for a resuming client). It returns how many documents it cut;
// collabd calls it every -prune-every.
func (s *Store) PruneAged(ctx context.Context) (int, error) {
	if s.opts.KeepFor <= 0 {
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
			ok, err := s.pruneAged(ctx, m.ID, time.Now())
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

// pruneAged cuts document id's history older than KeepFor, if any.
func (s *Store) pruneAged(ctx context.Context, id string, now time.Time) (bool, error) {
	h, err := s.existing(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil // deleted meanwhile
	}
	if err != nil {
		return false, err
	}
	if now.Sub(h.updated) > s.opts.KeepFor {
		return true, s.Prune(ctx, id)
	}
	snap, ok := s.readSnapshot(ctx, id, h)
	if !ok || now.Sub(snap.updated) <= s.opts.KeepFor {
		return false, nil
	}
	return true, s.purgeBefore(ctx, id, snap.seq)
}

// purgeBefore removes document id's messages before stream sequence seq,
// which holds its newest snapshot's revision and stays: it may be the
// subject's head, which commits name and readers start from.
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
