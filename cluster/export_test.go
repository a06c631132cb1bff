package cluster

import "context"

// StaleSnapshot materializes document id at revision rev now and returns
// a function that stores that snapshot later, as a slow background
// snapshot writer would.
func (s *Store) StaleSnapshot(ctx context.Context, id string, rev uint64) (func() error, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return nil, err
	}
	b, err := s.materialize(ctx, id, h, rev)
	if err != nil {
		return nil, err
	}
	snap := snapshot{epoch: h.epoch, seq: b.seq, rev: b.rev, created: h.created, updated: b.updated,
		text: b.buf.String(), clients: b.clients}
	return func() error { return s.putSnapshot(ctx, id, snap) }, nil
}

// SnapshotRev returns the revision of document id's stored snapshot.
func (s *Store) SnapshotRev(ctx context.Context, id string) (rev uint64, ok bool) {
	cur, err := s.storedSnapshot(ctx, encodeKey(id))
	return cur.rev, err == nil && cur.ok
}
