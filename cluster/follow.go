package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// feedBuffer is the number of records a feed holds for a slow reader
// before it stops reading the stream (flow control, nothing is dropped).
const feedBuffer = 256

// Follow implements collab's Follower: the channel carries every record of
// document id with Rev > after, in revision order, as it is committed by
// any node (this one included), until ctx ends. It closes when ctx ends,
// when the Store closes, or when the document is deleted (by any node):
// the reader then asks Load what happened. While NATS is unreachable the
// feed waits, and resumes where it stopped.
func (s *Store) Follow(ctx context.Context, id string, after uint64) (<-chan storage.Record, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	h, ok := s.cachedHead(id)
	if !ok || h.rev < after {
		var err error
		if h, err = s.lastMsg(ctx, id); err != nil {
			return nil, err
		}
	}
	start := h.seq // a fresh document: everything from the head on
	if h.exists() && h.rev > after {
		start = s.startAt(id, h.epoch, after)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, storage.ErrClosed
	}
	s.cache(id).follows++
	s.wg.Add(1)
	s.mu.Unlock()
	s.metrics.followed.Inc()
	ch := make(chan storage.Record, feedBuffer)
	go func() {
		defer s.wg.Done()
		defer close(ch)
		defer s.metrics.followed.Dec()
		defer func() {
			s.mu.Lock()
			s.cache(id).follows--
			s.mu.Unlock()
		}()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stop := context.AfterFunc(s.ctx, cancel)
		defer stop()
		f := &feed{s: s, id: id, epoch: h.epoch, next: start + 1, after: after, out: ch}
		f.run(ctx)
	}()
	return ch, nil
}

// feed is one document's follower; owned by its goroutine.
type feed struct {
	s     *Store
	id    string
	epoch uint64 // the incarnation followed
	next  uint64 // stream sequence to read from
	after uint64 // records up to this revision are not sent
	lag   uint64 // messages not yet delivered, as the stream last said
	out   chan<- storage.Record
}

// run reads the subject through an ordered consumer, recreated from where
// it stopped after any failure, until ctx ends or the document is deleted.
func (f *feed) run(ctx context.Context) {
	defer f.setLag(0)
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		done, err := f.consume(ctx)
		if done || ctx.Err() != nil {
			return
		}
		f.s.log.Debug("cluster: feed interrupted", "doc", f.id, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// consume delivers messages until an error (to retry) or the end (done).
func (f *feed) consume(ctx context.Context) (done bool, err error) {
	cons, err := f.s.js.OrderedConsumer(ctx, f.s.stream.CachedInfo().Config.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{f.s.docSubject(f.id)},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       f.next,
		InactiveThreshold: time.Minute,
		MaxResetAttempts:  1, // then run recreates it, sooner than the library's backoff
	})
	if err != nil {
		return false, err
	}
	// The consumer lives on one NATS server; its heartbeats tell when that
	// server is gone (two missed ones), and then it is recreated elsewhere.
	hb := min(max(f.s.opts.Heartbeat, 500*time.Millisecond), 30*time.Second)
	it, err := cons.Messages(jetstream.PullMaxMessages(feedBuffer), jetstream.PullHeartbeat(hb), jetstream.PullExpiry(4*hb))
	if err != nil {
		return false, err
	}
	defer f.dropConsumer(cons)
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return ctx.Err() != nil, err
			}
			return false, err
		}
		md, err := msg.Metadata()
		if err != nil {
			continue
		}
		seq := md.Sequence.Stream
		if seq < f.next {
			continue // a redelivery after a reset
		}
		f.next = seq + 1
		f.setLag(md.NumPending)
		f.s.metrics.feedDelay.Observe(time.Since(md.Timestamp).Seconds())
		m, err := decodeMessage(msg.Data())
		if err != nil {
			f.s.log.Error("cluster: undecodable message, feed stops", "doc", f.id, "seq", seq, "err", err)
			return true, err
		}
		f.s.note(f.id, seq, m)
		if m.kind == kindTombstone || m.epoch != f.epoch {
			return true, nil // deleted: the reader finds out from Load
		}
		for _, r := range m.recs {
			if r.Rev <= f.after {
				continue
			}
			select {
			case f.out <- r:
			case <-ctx.Done():
				return true, nil
			}
		}
	}
}

// dropConsumer deletes the feed's consumer from the NATS server once the
// feed no longer reads it, instead of leaving it there for its
// InactiveThreshold: a node that loads and unloads many documents would
// keep a consumer, and its goroutines on the server, per document for a
// minute. Without NATS the threshold still removes it.
func (f *feed) dropConsumer(cons jetstream.Consumer) {
	if info := cons.CachedInfo(); info != nil {
		f.s.deleteConsumer(info.Name)
	}
}

// setLag keeps the gauge of undelivered messages summed over the feeds.
func (f *feed) setLag(n uint64) {
	f.s.metrics.lag.Add(float64(n) - float64(f.lag))
	f.lag = n
}
