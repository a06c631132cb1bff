package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Load implements collab.Store: the newest snapshot of the document's
// incarnation with the messages after it replayed.
func (s *Store) Load(ctx context.Context, id string) (storage.Doc, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return storage.Doc{}, err
	}
	st, err := s.materialize(ctx, id, h, h.rev)
	if err != nil {
		return storage.Doc{}, err
	}
	s.keepClients(id, h, st.clients)
	text := st.buf.String()
	return storage.Doc{
		Meta: storage.Meta{ID: id, Rev: h.rev, Length: st.buf.Len(), Created: h.created, Updated: h.updated},
		Text: text,
	}, nil
}

// built is a document rebuilt up to some revision.
type built struct {
	buf     *ot.Buffer
	rev     uint64
	seq     uint64 // the message that holds rev
	clients map[string]clientRec
	updated time.Time
}

// materialize rebuilds document id (whose head is h) at revision rev from
// the newest usable snapshot at or below rev and the messages after it.
func (s *Store) materialize(ctx context.Context, id string, h head, rev uint64) (*built, error) {
	b := &built{seq: h.epoch, clients: make(map[string]clientRec)}
	text := ""
	if snap, ok := s.readSnapshot(ctx, id, h); ok && snap.rev <= rev {
		text, b.rev, b.seq, b.updated = snap.text, snap.rev, snap.seq, snap.updated
		b.clients = snap.clients
	}
	b.buf = ot.NewBuffer(text)
	if b.rev == rev {
		return b, nil
	}
	subj := s.docSubject(id)
	err := s.scan(ctx, subj, b.seq, h.seq, rev-b.rev, func(seq uint64, m message) (bool, error) {
		if m.kind != kindRecords || m.epoch != h.epoch {
			return true, nil
		}
		for _, r := range m.recs {
			if r.Rev <= b.rev {
				continue
			}
			if r.Rev != b.rev+1 {
				return false, s.gap(id, b.rev, r.Rev)
			}
			if err := b.buf.Apply(r.Op); err != nil {
				return false, fmt.Errorf("%w: document %q revision %d: %v", storage.ErrCorrupt, id, r.Rev, err)
			}
			if r.Client != "" {
				b.clients[r.Client] = clientRec{seq: r.Seq, rev: r.Rev}
			}
			b.rev, b.seq, b.updated = r.Rev, seq, r.Time
			if b.rev == rev {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if b.rev != rev {
		return nil, s.gap(id, b.rev, rev)
	}
	return b, nil
}

// gap reports revisions missing from the log after have: pruned history
// (without a snapshot to start from) or a damaged stream.
func (s *Store) gap(id string, have, next uint64) error {
	return fmt.Errorf("%w: document %q: revisions after %d are not in the log (next %d)", storage.ErrPruned, id, have, next)
}

// keepClients remembers the client records of id as of head h.
func (s *Store) keepClients(id string, h head, clients map[string]clientRec) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache(id)
	if c.clients == nil || c.clientsEpoch != h.epoch || c.clientsSeq < h.seq {
		c.clients, c.clientsSeq, c.clientsEpoch, c.clientsRev = maps.Clone(clients), h.seq, h.epoch, h.rev
	}
}

// ClientSeq implements collab.Store. The answer comes from the snapshot's
// client records and the messages after it, so it survives pruning.
func (s *Store) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	if err := checkID(id); err != nil {
		return 0, 0, err
	}
	h, err := s.lastMsg(ctx, id)
	if err != nil || !h.exists() {
		return 0, 0, err
	}
	s.mu.Lock()
	var from, fromRev uint64
	var clients map[string]clientRec
	if c := s.docs[id]; c != nil && c.clients != nil && c.clientsEpoch == h.epoch && c.clientsSeq <= h.seq {
		from, fromRev, clients = c.clientsSeq, c.clientsRev, maps.Clone(c.clients)
	}
	s.mu.Unlock()
	if clients == nil {
		st, err := s.materialize(ctx, id, h, h.rev)
		if err != nil {
			return 0, 0, err
		}
		clients = st.clients
	} else if from < h.seq {
		err := s.scan(ctx, s.docSubject(id), from, h.seq, h.rev-min(fromRev, h.rev), func(_ uint64, m message) (bool, error) {
			if m.epoch == h.epoch {
				addClients(clients, m.recs)
			}
			return true, nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	s.keepClients(id, h, clients)
	c := clients[client]
	return c.seq, c.rev, nil
}

// Ops implements collab.Store.
func (s *Store) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return nil, err
	}
	to = min(to, h.rev)
	if from >= to {
		return nil, nil
	}
	recs := make([]storage.Record, 0, min(to-from, 1024))
	start := s.startAt(id, h.epoch, from)
	err = s.scan(ctx, s.docSubject(id), start, h.seq, to-from, func(_ uint64, m message) (bool, error) {
		if m.kind != kindRecords || m.epoch != h.epoch {
			return true, nil
		}
		for _, r := range m.recs {
			if r.Rev <= from {
				continue
			}
			if r.Rev > to {
				return false, nil
			}
			if want := from + uint64(len(recs)) + 1; r.Rev != want {
				return false, s.gap(id, want-1, r.Rev)
			}
			recs = append(recs, r)
		}
		return uint64(len(recs)) < to-from, nil
	})
	if err != nil {
		return nil, err
	}
	if uint64(len(recs)) != to-from {
		return nil, s.gap(id, from+uint64(len(recs)), to)
	}
	return recs, nil
}

// TextAt implements collab.Store.
func (s *Store) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return "", err
	}
	if rev > h.rev {
		return "", fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, rev, h.rev)
	}
	if rev == 0 {
		return "", nil
	}
	st, err := s.materialize(ctx, id, h, rev)
	if err != nil {
		return "", err
	}
	return st.buf.String(), nil
}

// List implements collab.Store. The documents are the subjects of the
// stream, found with one stream info request; each listed document costs
// one read of its newest message.
func (s *Store) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: list limit %d", storage.ErrInvalid, limit)
	}
	rctx, cancel := s.reqCtx(ctx)
	info, err := s.stream.Info(rctx, jetstream.WithSubjectFilter(s.subj+">"))
	cancel()
	if err != nil {
		return nil, natsErr("list", err)
	}
	var ids []string
	for subj := range info.State.Subjects {
		id, ok := decodeKey(strings.TrimPrefix(subj, s.subj))
		if ok && id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]storage.Meta, 0, min(limit, len(ids)))
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		h, err := s.lastMsg(ctx, id)
		if err != nil {
			return nil, err
		}
		if h.exists() {
			out = append(out, storage.Meta{ID: id, Rev: h.rev, Length: h.length, Created: h.created, Updated: h.updated})
		}
	}
	return out, nil
}

// scan calls fn for each message of subject subj with after < seq <= upto,
// in order, until fn returns false. hint is the number of records the
// caller expects: a few are read one request each, more through a
// short-lived consumer.
func (s *Store) scan(ctx context.Context, subj string, after, upto, hint uint64, fn func(seq uint64, m message) (bool, error)) error {
	if after >= upto {
		return nil
	}
	if hint > 0 && hint <= 4 {
		return s.scanGets(ctx, subj, after, upto, fn)
	}
	return s.scanConsumer(ctx, subj, after, upto, fn)
}

func (s *Store) scanGets(ctx context.Context, subj string, after, upto uint64, fn func(uint64, message) (bool, error)) error {
	for after < upto {
		rctx, cancel := s.reqCtx(ctx)
		raw, err := s.stream.GetMsg(rctx, after+1, jetstream.WithGetMsgSubject(subj))
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil
		}
		if err != nil {
			return natsErr("read", err)
		}
		if raw.Sequence > upto {
			return nil
		}
		after = raw.Sequence
		m, err := decodeMessage(raw.Data)
		if err != nil {
			return fmt.Errorf("%w: %s message %d: %v", storage.ErrCorrupt, subj, raw.Sequence, err)
		}
		if more, err := fn(raw.Sequence, m); err != nil || !more {
			return err
		}
	}
	return nil
}

func (s *Store) scanConsumer(ctx context.Context, subj string, after, upto uint64, fn func(uint64, message) (bool, error)) error {
	rctx, cancel := s.reqCtx(ctx)
	cons, err := s.stream.CreateConsumer(rctx, jetstream.ConsumerConfig{
		FilterSubject:     subj,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       after + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		MemoryStorage:     true,
		Replicas:          1,
		InactiveThreshold: time.Minute,
	})
	cancel()
	if err != nil {
		return natsErr("read", err)
	}
	defer s.deleteConsumer(cons.CachedInfo().Name)
	for {
		batch, err := cons.FetchNoWait(256)
		if err != nil {
			return natsErr("read", err)
		}
		n, done := 0, false
		var ferr error
		for msg := range batch.Messages() {
			n++
			if done {
				continue // drain the batch
			}
			md, err := msg.Metadata()
			if err != nil {
				done, ferr = true, fmt.Errorf("%w: %s: %v", storage.ErrCorrupt, subj, err)
				continue
			}
			seq := md.Sequence.Stream
			if seq > upto {
				done = true
				continue
			}
			m, err := decodeMessage(msg.Data())
			if err != nil {
				done, ferr = true, fmt.Errorf("%w: %s message %d: %v", storage.ErrCorrupt, subj, seq, err)
				continue
			}
			more, err := fn(seq, m)
			done, ferr = !more || err != nil || seq == upto || md.NumPending == 0, err
		}
		if ferr != nil {
			return ferr
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return natsErr("read", err)
		}
		if done || n == 0 {
			return nil
		}
	}
}

// deleteConsumer removes a reading consumer in the background; the server
// also drops it after its inactivity threshold.
func (s *Store) deleteConsumer(name string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
		defer cancel()
		s.stream.DeleteConsumer(ctx, name)
	}()
}

// readSnapshot returns the snapshot of id if it belongs to h's incarnation
// and is not ahead of it; a missing or unreadable one is skipped.
func (s *Store) readSnapshot(ctx context.Context, id string, h head) (snapshot, bool) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	e, err := s.snaps.Get(rctx, encodeKey(id))
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("cluster: read snapshot", "doc", id, "err", err)
		}
		return snapshot{}, false
	}
	snap, err := decodeSnapshot(e.Value())
	if err != nil {
		s.log.Error("cluster: undecodable snapshot", "doc", id, "err", err)
		return snapshot{}, false
	}
	if snap.epoch != h.epoch || snap.seq > h.seq || snap.rev > h.rev {
		return snapshot{}, false
	}
	s.mu.Lock()
	if c := s.cache(id); c.snapEpoch != snap.epoch || c.snapRev < snap.rev {
		c.snapEpoch, c.snapRev = snap.epoch, snap.rev
	}
	s.mu.Unlock()
	return snap, true
}
