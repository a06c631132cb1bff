package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Load implements storage.Store: the newest snapshot of the document's
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
	authors *authorship.Authorship // nil unless asked for
}

// materialize rebuilds document id (whose head is h) at revision rev from
// the newest usable snapshot at or below rev and the messages after it.
func (s *Store) materialize(ctx context.Context, id string, h head, rev uint64) (*built, error) {
	return s.rebuild(ctx, id, h, rev, false)
}

// rebuild is materialize, keeping the authorship too if withAuthors.
func (s *Store) rebuild(ctx context.Context, id string, h head, rev uint64, withAuthors bool) (*built, error) {
	b := &built{seq: h.epoch, clients: make(map[string]clientRec)}
	text := ""
	var spans []storage.Span
	if snap, ok := s.startingSnapshot(ctx, id, h, rev); ok {
		text, b.rev, b.seq, b.updated = snap.text, snap.rev, snap.seq, snap.updated
		b.clients, spans = snap.clients, snap.authors
		if spans == nil && text != "" { // a snapshot from before authorship was kept
			spans = []storage.Span{{Length: utf8.RuneCountInString(text)}}
		}
	}
	b.buf = ot.NewBuffer(text)
	if withAuthors {
		b.authors = authorship.New(spans)
	}
	recs, err := s.records(ctx, id, h, b.seq, b.rev, rev)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if err := b.buf.Apply(r.Op); err != nil {
			return nil, fmt.Errorf("%w: document %q revision %d: %v", storage.ErrCorrupt, id, r.Rev, err)
		}
		if b.authors != nil {
			if err := b.authors.Apply(r.Record); err != nil {
				return nil, fmt.Errorf("%w: document %q: %v", storage.ErrCorrupt, id, err)
			}
		}
		if r.Client != "" {
			b.clients[r.Client] = clientRec{seq: r.Seq, rev: r.Rev}
		}
		b.rev, b.seq, b.updated = r.Rev, r.seq, r.Time
	}
	return b, nil
}

// seqRec is a record with the stream sequence of its message.
type seqRec struct {
	storage.Record
	seq uint64
}

// errShort marks a read that did not find every revision asked for.
var errShort = errors.New("cluster: short read")

// records returns the records of h's incarnation of id with from < Rev <=
// to, reading the subject after stream sequence start. A consumer may sit
// on a replica that is still catching up and skip messages: a read with a
// hole is done again through the stream leader, and a hole there is
// history that is gone (ErrPruned).
func (s *Store) records(ctx context.Context, id string, h head, start, from, to uint64) ([]seqRec, error) {
	if from >= to {
		return nil, nil
	}
	recs, err := s.collect(ctx, id, h, start, from, to, false)
	if errors.Is(err, errShort) {
		s.log.Debug("cluster: read with a hole, reading from the leader", "doc", id, "err", err)
		recs, err = s.collect(ctx, id, h, start, from, to, true)
	}
	if errors.Is(err, errShort) {
		return nil, fmt.Errorf("%w: document %q: %v", storage.ErrPruned, id, err)
	}
	return recs, err
}

func (s *Store) collect(ctx context.Context, id string, h head, start, from, to uint64, leader bool) ([]seqRec, error) {
	recs := make([]seqRec, 0, min(to-from, 1024))
	next := from + 1
	read := s.scanConsumer
	if leader || to-from <= 4 {
		read = s.scanGets
	}
	err := read(ctx, s.docSubject(id), start, h.seq, func(seq uint64, m message) (bool, error) {
		if m.kind != kindRecords || m.epoch != h.epoch {
			return true, nil
		}
		for _, r := range m.recs {
			switch {
			case r.Rev < next:
				continue
			case r.Rev > next:
				return false, fmt.Errorf("%w: revision %d follows %d", errShort, r.Rev, next-1)
			}
			recs = append(recs, seqRec{Record: r, seq: seq})
			if next++; next > to {
				return false, nil
			}
		}
		return true, nil
	})
	if err == nil && next <= to {
		err = fmt.Errorf("%w: revisions from %d on missing", errShort, next)
	}
	return recs, err
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

// ClientSeq implements storage.Store. The answer comes from the snapshot's
// client records and the messages after it, so it survives pruning.
func (s *Store) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	if err := storage.CheckDocID(id); err != nil {
		return 0, 0, err
	}
	h, err := s.lastMsg(ctx, id)
	if err != nil || !h.exists() {
		return 0, 0, err
	}
	s.mu.Lock()
	var from, fromRev uint64
	var clients map[string]clientRec
	if c := s.docs[id]; c != nil && c.clients != nil && c.clientsEpoch == h.epoch && c.clientsRev <= h.rev {
		from, fromRev, clients = c.clientsSeq, c.clientsRev, maps.Clone(c.clients)
	}
	s.mu.Unlock()
	if clients != nil {
		recs, err := s.records(ctx, id, h, from, fromRev, h.rev)
		switch {
		case errors.Is(err, storage.ErrPruned):
			clients = nil // another node cut the history after what is remembered
		case err != nil:
			return 0, 0, err
		}
		for _, r := range recs {
			if r.Client != "" {
				clients[r.Client] = clientRec{seq: r.Seq, rev: r.Rev}
			}
		}
	}
	if clients == nil {
		st, err := s.materialize(ctx, id, h, h.rev)
		if err != nil {
			return 0, 0, err
		}
		clients = st.clients
	}
	s.keepClients(id, h, clients)
	c := clients[client]
	return c.seq, c.rev, nil
}

// Ops implements storage.Store.
func (s *Store) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	h, err := s.existing(ctx, id)
	if err != nil {
		return nil, err
	}
	to = min(to, h.rev)
	if from >= to {
		return nil, nil
	}
	recs, err := s.records(ctx, id, h, s.startAt(id, h.epoch, from), from, to)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Record, len(recs))
	for i, r := range recs {
		out[i] = r.Record
	}
	return out, nil
}

// TextAt implements storage.Store.
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
	if errors.Is(err, storage.ErrPruned) {
		return s.prunedText(ctx, id, h, rev, err)
	}
	if err != nil {
		return "", err
	}
	return st.buf.String(), nil
}

// List implements storage.Store. The documents are the subjects of the
// stream, found with one stream info request; each listed document costs
// one read of its newest message.
func (s *Store) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: list limit %d", storage.ErrInvalid, limit)
	}
	var info *jetstream.StreamInfo
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		info, err = s.stream.Info(ctx, jetstream.WithSubjectFilter(s.subj+">"))
		return err
	})
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

// scanGets and scanConsumer call fn for each message of subject subj with
// after < seq <= upto, in order, until fn returns false. scanGets asks
// the stream leader, one request per message; scanConsumer reads through
// a short-lived consumer, in batches.
func (s *Store) scanGets(ctx context.Context, subj string, after, upto uint64, fn func(uint64, message) (bool, error)) error {
	for after < upto {
		var raw *jetstream.RawStreamMsg
		err := s.retry(ctx, func(ctx context.Context) (err error) {
			raw, err = s.stream.GetMsg(ctx, after+1, jetstream.WithGetMsgSubject(subj))
			return err
		})
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

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// scanConsumer reads through short-lived consumers, each started after the
// last message read, so that a consumer lost to a leader change costs a
// retry, not the read.
func (s *Store) scanConsumer(ctx context.Context, subj string, after, upto uint64, fn func(uint64, message) (bool, error)) error {
	var ferr error // fn's own error: not retried
	err := s.retry(ctx, func(rctx context.Context) error {
		if after >= upto {
			return nil
		}
		cons, err := s.stream.CreateConsumer(rctx, jetstream.ConsumerConfig{
			FilterSubject:     subj,
			DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:       after + 1,
			AckPolicy:         jetstream.AckNonePolicy,
			MemoryStorage:     true,
			Replicas:          1,
			InactiveThreshold: time.Minute,
		})
		if err != nil {
			return err
		}
		defer s.deleteConsumer(cons.CachedInfo().Name)
		for {
			batch, err := cons.FetchNoWait(256)
			if err != nil {
				return err
			}
			n, done := 0, false
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
				after = seq
				more, err := fn(seq, m)
				done, ferr = !more || err != nil || seq == upto || md.NumPending == 0, err
				if !more && err == nil {
					ferr = errStop
				}
			}
			if ferr != nil {
				return nil
			}
			if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
				return err
			}
			if done || n == 0 {
				return nil
			}
		}
	})
	switch {
	case errors.Is(ferr, errStop):
		return nil
	case ferr != nil:
		return ferr
	}
	return natsErr("read", err)
}

// retry runs f with a request deadline until it succeeds, fails for good,
// or ctx ends: timeouts and missing responders (a leader election, a
// server restarting) pass. While disconnected it fails at once.
func (s *Store) retry(ctx context.Context, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		rctx, cancel := s.reqCtx(ctx)
		err := f(rctx)
		cancel()
		if err == nil || !retryable(err) || !s.nc.IsConnected() || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(min(25*time.Millisecond<<attempt, time.Second)):
		}
	}
}

// deleteConsumer removes a reading consumer in the background; the server
// also drops it after its inactivity threshold, which is left to do it
// once the Store is closed (Close may be waiting for s.wg already).
func (s *Store) deleteConsumer(name string) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
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
	return s.readSnapshotAt(ctx, id, encodeKey(id), h)
}

// readSnapshotAt is readSnapshot under bucket key key.
func (s *Store) readSnapshotAt(ctx context.Context, id, key string, h head) (snapshot, bool) {
	data, err := s.getSnapshot(ctx, key)
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			s.log.Warn("cluster: read snapshot", "doc", id, "err", err)
		}
		return snapshot{}, false
	}
	snap, err := decodeSnapshot(data)
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
