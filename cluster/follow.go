package cluster

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
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
	if err := storage.CheckDocID(id); err != nil {
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
//
// It reads through Consume, not Messages: a pull request that reaches the
// consumer's server before the consumer's interest has crossed the NATS
// routes is answered "no responders", which Consume's ordered consumer
// takes as a reason to reset at once, while Messages ignores it and
// waits two missed heartbeats; on a replicated stream that left a node
// that had just loaded a document deaf to it for 2*Heartbeat.
func (f *feed) consume(ctx context.Context) (done bool, err error) {
	rctx, cancel := f.s.reqCtx(ctx) // it creates the consumer: a request whose answer can be lost
	defer cancel()
	cons, err := f.s.js.OrderedConsumer(rctx, f.s.stream.CachedInfo().Config.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{f.s.docSubject(f.id)},
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       f.next,
		InactiveThreshold: time.Minute,
		MaxResetAttempts:  1, // then run recreates it, sooner than the library's backoff
	})
	if err != nil {
		return false, err
	}
	cc, msgs, failed, err := f.start(cons)
	if err != nil {
		return false, err
	}
	defer f.dropConsumer(cons)
	defer cc.stop()
	for {
		var msg jetstream.Msg
		select {
		case <-ctx.Done():
			return true, nil
		case <-cc.Closed():
			return ctx.Err() != nil, errFeedClosed
		case err := <-failed:
			return false, err
		case msg = <-msgs:
		}
		if done, err := f.deliver(ctx, msg); done {
			return true, err
		}
	}
}

// consuming is a feed's consumer being read.
type consuming struct {
	jetstream.ConsumeContext
	stopped chan struct{} // closed by stop: the handler gives up its message
}

func (c *consuming) stop() {
	c.Stop()
	close(c.stopped)
}

// start consumes cons: its messages come on msgs, an error it does not
// recover from on failed.
func (f *feed) start(cons jetstream.Consumer) (cc *consuming, msgs chan jetstream.Msg, failed chan error, err error) {
	cc = &consuming{stopped: make(chan struct{})}
	msgs, failed = make(chan jetstream.Msg), make(chan error, 1)
	var noResponders atomic.Int32 // since the last message
	// The consumer lives on one NATS server; its heartbeats tell when that
	// server is gone (two missed ones), and then it is recreated elsewhere.
	hb := min(max(f.s.opts.Heartbeat, 500*time.Millisecond), 30*time.Second)
	cc.ConsumeContext, err = cons.Consume(func(m jetstream.Msg) {
		noResponders.Store(0)
		select {
		case msgs <- m:
		case <-cc.stopped:
		}
	}, jetstream.PullMaxMessages(feedBuffer), jetstream.PullHeartbeat(hb), jetstream.PullExpiry(4*hb),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			f.s.log.Debug("cluster: feed consumer", "doc", f.id, "err", err)
			if recovers(err, &noResponders) {
				return
			}
			select {
			case failed <- err:
			default:
			}
		}))
	if err != nil {
		return nil, nil, nil, err
	}
	return cc, msgs, failed, nil
}

var errFeedClosed = errors.New("cluster: feed's consumer closed")

// recovers tells the errors the ordered consumer recovers from by itself,
// by recreating its consumer, from those that make run recreate the feed
// after a backoff: a pull request or consumer creation answered "no
// responders" more than once since the last message (JetStream itself
// unavailable: a reset a moment later would fail the same way), a reset
// that failed, anything unknown.
func recovers(err error, noResponders *atomic.Int32) bool {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return noResponders.Add(1) == 1
	case errors.Is(err, jetstream.ErrNoHeartbeat), errors.Is(err, jetstream.ErrConsumerDeleted),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, jetstream.ErrConsumerLeadershipChanged):
		return true
	}
	return false
}

// deliver passes one message's records on; done when the feed must end.
func (f *feed) deliver(ctx context.Context, msg jetstream.Msg) (done bool, err error) {
	md, err := msg.Metadata()
	if err != nil {
		return false, nil
	}
	seq := md.Sequence.Stream
	if seq < f.next {
		return false, nil // a redelivery after a reset
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
	return false, nil
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
