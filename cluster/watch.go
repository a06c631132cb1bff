package cluster

import (
	"context"
	"errors"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Change is a commit to a document, by any node, as WatchChanges sees it.
type Change struct {
	Doc string
	// Rev is the document's revision after the commit; 0 with Deleted or
	// Version.
	Rev     uint64
	Deleted bool // the document was deleted
	Version bool // a revision of it was named
}

// WatchChanges calls fn, which must be safe for concurrent use, with every commit made by any
// node after WatchChanges started watching, in stream order per document;
// fn must not block. started, if not nil, is called once the watch is in
// place: what was committed before is for the caller to find in the
// store. It returns when ctx ends (nil), or with the error that broke
// the watch, after which changes may have been missed.
func (s *Store) WatchChanges(ctx context.Context, started func(), fn func(Change)) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.ctx, func() { cancel(nil) })
	defer stop()
	cons, err := s.js.OrderedConsumer(ctx, s.stream.CachedInfo().Config.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.subj + ">"},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return natsErr("watch changes", err)
	}
	msgs, err := cons.Messages()
	if err != nil {
		return natsErr("watch changes", err)
	}
	defer msgs.Stop()
	unblock := context.AfterFunc(ctx, msgs.Stop) // Next does not watch ctx
	defer unblock()
	versions, err := s.versions.WatchAll(ctx, jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		return natsErr("watch versions", err)
	}
	defer versions.Stop()
	if started != nil {
		started()
	}
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		s.watchVersions(ctx, versions, fn, cancel)
	}()
	defer func() { // fn is not called once WatchChanges returned
		cancel(nil)
		<-watching
	}()
	for {
		m, err := msgs.Next()
		if ctx.Err() != nil {
			if cause := context.Cause(ctx); errors.Is(cause, errWatchEnded) {
				return cause
			}
			return nil
		}
		if err != nil {
			return natsErr("watch changes", err)
		}
		id, ok := decodeKey(strings.TrimPrefix(m.Subject(), s.subj))
		msg, derr := decodeMessage(m.Data())
		if !ok || derr != nil {
			s.log.Warn("cluster: watch: undecodable message", "subject", m.Subject(), "err", derr)
			continue
		}
		if msg.kind == kindTombstone {
			fn(Change{Doc: id, Deleted: true})
		} else {
			fn(Change{Doc: id, Rev: msg.lastRev()})
		}
	}
}

// watchVersions hands the versions named to fn until ctx ends or the
// watcher breaks, which cancels ctx with errWatchEnded.
func (s *Store) watchVersions(ctx context.Context, w jetstream.KeyWatcher, fn func(Change), cancel context.CancelCauseFunc) {
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				cancel(errWatchEnded)
				return
			}
			if e == nil {
				continue // the end of the initial values, of which there are none
			}
			i := strings.LastIndexByte(e.Key(), '.')
			id, ok := decodeKey(e.Key()[:max(i, 0)])
			if i < 0 || !ok {
				continue
			}
			fn(Change{Doc: id, Version: true})
		}
	}
}

var errWatchEnded = errors.New("cluster: the watch of named versions ended")
