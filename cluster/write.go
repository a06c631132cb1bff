package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Append implements storage.Store. The records go to the document's subject
// as one message, which JetStream accepts only if the subject's newest
// message is still the one that ends at recs[0].Rev-1: otherwise another
// node committed first and Append fails with storage.ErrConflict, having
// written nothing. An Append whose answer was lost is retried under the
// same message id, and the log is read to tell whether the first attempt
// landed, so an error other than ErrConflict means "not written" unless
// NATS was unreachable (storage.ErrUnavailable): then the outcome is unknown and
// the document's feed tells.
//
// Records that do not fit in one NATS message (max_payload) go in several,
// each continuing the previous one: if another node commits between them,
// the first ones stay written and Append fails with ErrConflict; their
// client and seq (or, without a client, their time) tell the caller they
// are its own. A single record larger than a message fails with an error
// wrapping ot.ErrTooLarge, after the records before it are written.
func (s *Store) Append(ctx context.Context, id string, recs []storage.Record) error {
	if err := storage.CheckDocID(id); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	recs = slices.Clone(recs) // filling in times leaves the caller's slice alone
	now := time.Now()
	for i := range recs {
		if err := checkRecord(recs[i]); err != nil {
			return fmt.Errorf("%w: document %q revision %d: %v", storage.ErrInvalid, id, recs[i].Rev, err)
		}
		if i > 0 && recs[i].Rev != recs[i-1].Rev+1 {
			return fmt.Errorf("%w: document %q: record %d after %d", storage.ErrConflict, id, recs[i].Rev, recs[i-1].Rev)
		}
		if recs[i].Time.IsZero() {
			recs[i].Time = now
		}
	}
	h, err := s.headFor(ctx, id, recs[0].Rev-1)
	if err != nil {
		return err
	}
	created := h.created
	if recs[0].Rev == 1 {
		created = recs[0].Time
	}
	for len(recs) > 0 {
		m := message{kind: kindRecords, epoch: h.epoch, created: created}
		data, n := s.fit(m, recs)
		if n == 0 {
			return fmt.Errorf("%w: document %q revision %d does not fit in a NATS message (max_payload %d bytes)",
				ot.ErrTooLarge, id, recs[0].Rev, s.nc.MaxPayload())
		}
		m.recs, recs = recs[:n], recs[n:]
		start := time.Now()
		seq, err := s.commit(ctx, id, h.seq, data)
		if err != nil {
			if errors.Is(err, storage.ErrConflict) {
				s.metrics.conflicts.Inc()
			} else {
				s.metrics.commitErrors.Inc()
			}
			return err
		}
		s.metrics.commits.Inc()
		s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
		s.note(id, seq, m)
		h = headOf(seq, m)
	}
	s.maybeSnapshot(id, h.epoch, h.rev)
	return nil
}

// msgSlack is room left in a message for its headers.
const msgSlack = 1024

// fit encodes as many of recs as fit in one message into m, and says how
// many: all of them, else about half until they fit, else none.
func (s *Store) fit(m message, recs []storage.Record) ([]byte, int) {
	limit := int(s.nc.MaxPayload()) - msgSlack
	for n := len(recs); n > 0; n /= 2 {
		m.recs = recs[:n]
		if data := encodeMessage(m); len(data) <= limit {
			return data, n
		}
	}
	return nil, 0
}

var errBadText = errors.New("insert text is not valid UTF-8")

func checkRecord(r storage.Record) error {
	if r.Rev == 0 {
		return errors.New("revision 0")
	}
	if !utf8.ValidString(r.Client) || !utf8.ValidString(r.Author) {
		return errors.New("client or author is not valid UTF-8")
	}
	for i := 0; i < r.Op.Len(); i++ {
		if c := r.Op.Component(i); !utf8.ValidString(c.Text) {
			return errBadText
		}
	}
	return nil
}

// headFor returns the head a commit continuing revision want must name:
// the remembered one when it ends at want, else the stream's. A head past
// want is a conflict without asking the stream (the remembered head is
// then forgotten, so that a wrong memory costs one retry, not a livelock).
func (s *Store) headFor(ctx context.Context, id string, want uint64) (head, error) {
	if h, ok := s.cachedHead(id); ok {
		if h.rev == want && (want > 0 || h.deleted) {
			return h, nil
		}
		if h.rev > want {
			s.forgetHead(id)
			s.metrics.conflicts.Inc()
			return head{}, conflict(id, h.rev, want)
		}
	}
	h, err := s.lastMsg(ctx, id)
	if err != nil {
		return head{}, err
	}
	if h.rev != want || (want == 0 && !h.deleted) {
		s.forgetHead(id)
		s.metrics.conflicts.Inc()
		return head{}, conflict(id, h.rev, want)
	}
	return h, nil
}

func conflict(id string, have, want uint64) error {
	return fmt.Errorf("%w: document %q is at revision %d, commit continues %d", storage.ErrConflict, id, have, want)
}

// commit publishes data on id's subject if the subject's newest message is
// expect, and returns the new message's sequence.
func (s *Store) commit(ctx context.Context, id string, expect uint64, data []byte) (uint64, error) {
	subj := s.docSubject(id)
	msgID := s.node + "-" + randomID()
	inDoubt := false
	for attempt := 0; ; attempt++ {
		rctx, cancel := s.reqCtx(ctx)
		ack, err := s.js.PublishMsg(rctx, &nats.Msg{Subject: subj, Data: data},
			jetstream.WithExpectLastSequencePerSubject(expect), jetstream.WithMsgID(msgID))
		cancel()
		switch {
		case err == nil:
			return ack.Sequence, nil // Duplicate too: an earlier attempt landed
		case wrongLast(err):
			if inDoubt {
				if seq, ok := s.landed(ctx, subj, expect, msgID); ok {
					return seq, nil
				}
			}
			s.forgetHead(id)
			return 0, fmt.Errorf("%w: document %q: another node committed first", storage.ErrConflict, id)
		case !retryable(err) || !s.nc.IsConnected() || ctx.Err() != nil:
			if inDoubt {
				if seq, ok := s.landed(ctx, subj, expect, msgID); ok {
					return seq, nil
				}
			}
			return 0, natsErr("commit", err)
		}
		inDoubt = inDoubt || !errors.Is(err, jetstream.ErrNoStreamResponse)
		s.metrics.publishRetries.Inc()
		select {
		case <-ctx.Done():
		case <-time.After(min(25*time.Millisecond<<attempt, time.Second)):
		}
	}
}

// wrongLast reports JetStream's refusal of an expected last sequence.
func wrongLast(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// retryable errors leave the stream unchanged or in doubt, and pass: a
// timeout or no responders during a leader election.
func retryable(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse)
}

// landed reports whether the message with msgID is the one right after
// expect on subj, i.e. an attempt whose answer was lost was written.
func (s *Store) landed(ctx context.Context, subj string, expect uint64, msgID string) (uint64, bool) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.Timeout)
	defer cancel()
	raw, err := s.stream.GetMsg(rctx, expect+1, jetstream.WithGetMsgSubject(subj))
	if err != nil {
		return 0, false
	}
	return raw.Sequence, raw.Header.Get(jetstream.MsgIDHeader) == msgID
}

// Delete implements storage.Store. A tombstone goes on the document's
// subject (so that every node following it learns of the deletion), the
// history before it is purged, and the snapshot removed. Recreating the
// document starts a new incarnation after the tombstone.
func (s *Store) Delete(ctx context.Context, id string) error {
	h, err := s.existing(ctx, id)
	if err != nil {
		return err
	}
	m := message{kind: kindTombstone, epoch: h.epoch, created: h.created}
	subj := s.docSubject(id)
	rctx, cancel := s.reqCtx(ctx)
	ack, err := s.js.Publish(rctx, subj, encodeMessage(m))
	cancel()
	if err != nil {
		return natsErr("delete", err)
	}
	s.note(id, ack.Sequence, m)
	// Space only: readers ignore what precedes the tombstone.
	rctx, cancel = s.reqCtx(ctx)
	if err := s.stream.Purge(rctx, jetstream.WithPurgeSubject(subj), jetstream.WithPurgeSequence(ack.Sequence)); err != nil {
		s.log.Warn("cluster: purge deleted document", "doc", id, "err", err)
	}
	cancel()
	s.dropSnapshot(ctx, id)
	s.dropVersions(ctx, id)
	return nil
}

// recordSlack is room left in a message for a record's fields other than
// its op (revision, client, author, time: at most a few hundred bytes).
const recordSlack = 1024

// MaxOpBytes is the largest op, in bytes of its JSON form, that fits in
// one message with its record: collab advertises it to clients so that
// they split larger edits. An op's binary form is about as long as its
// JSON (at most a byte longer per insert), and clients keep a margin.
func (s *Store) MaxOpBytes() int {
	return int(s.nc.MaxPayload()) - msgSlack - recordSlack
}
