package collab

import (
	"sync"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Change is one entry of the change feed (Options.Changes): ops committed
// to a document, its deletion, a revision given a name, or a notice that
// the feed fell behind.
type Change struct {
	Doc string
	// From and To are the revisions before and after the change: Ops are
	// the records with From < Rev <= To. A deletion has From set to the
	// document's last revision; a version, To set to its revision.
	From, To uint64
	// Ops are the ops committed, To-From of them, in revision order.
	Ops []ChangeOp
	// Missed reports that the feed's queue was full and it dropped the
	// document's changes after revision From (up to To, the newest
	// revision known when they were dropped, or beyond): read them from
	// the store (Store.Ops from From). Deletions and versions may be among
	// them: if the store no longer has the document, or has it at a
	// revision below From, it was deleted (and perhaps created again).
	Missed bool
	// Deleted reports that the document was deleted.
	Deleted bool
	// Version is the version named, for a change that names one.
	Version *storage.Version
}

// ChangeOp is one committed op of a Change.
type ChangeOp struct {
	Rev    uint64
	Op     ot.Op
	Author Author
	Time   time.Time // when it was committed
}

// Author is who committed an op: the public id of the editor's client (as
// other editors see it; empty for an HTTP edit) and its display name.
type Author struct {
	ID   string
	Name string
}

// changeFeed hands the changes this server commits to Options.Changes
// from a goroutine of its own, through a bounded queue, so that a slow
// callback never holds up a document: when the queue is full a document's
// changes are dropped and the callback later gets one Missed change for
// them instead.
type changeFeed struct {
	fn   func(Change)
	max  int
	wake chan struct{} // cap 1: something was queued
	quit chan struct{} // closed by close: deliver what is queued and end
	done chan struct{} // closed when run returned
	once sync.Once     // closes quit

	mu     sync.Mutex
	queue  []Change           // guarded by mu: at most max
	missed map[string]*Change // guarded by mu: the Missed change of each document whose changes were dropped
}

func newChangeFeed(fn func(Change), max int) *changeFeed {
	f := &changeFeed{
		fn:     fn,
		max:    max,
		wake:   make(chan struct{}, 1),
		quit:   make(chan struct{}),
		done:   make(chan struct{}),
		missed: make(map[string]*Change),
	}
	go f.run()
	return f
}

// publish queues ch without ever blocking. Once one of a document's
// changes is dropped, the later ones are too until the callback has been
// told, so that it sees them in order.
func (f *changeFeed) publish(ch Change) {
	f.mu.Lock()
	if m := f.missed[ch.Doc]; m != nil {
		m.To = max(m.To, ch.To, ch.From)
	} else if len(f.queue) >= f.max {
		f.missed[ch.Doc] = &Change{Doc: ch.Doc, Missed: true, From: ch.From, To: max(ch.To, ch.From)}
	} else {
		f.queue = append(f.queue, ch)
	}
	f.mu.Unlock()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// take returns what is queued, followed by the Missed changes: each comes
// after everything queued before its document's first dropped change.
func (f *changeFeed) take() []Change {
	f.mu.Lock()
	defer f.mu.Unlock()
	batch := f.queue
	f.queue = nil
	for id, m := range f.missed {
		batch = append(batch, *m)
		delete(f.missed, id)
	}
	return batch
}

func (f *changeFeed) run() {
	defer close(f.done)
	for {
		select {
		case <-f.wake:
		case <-f.quit:
			f.deliver(f.take())
			return
		}
		f.deliver(f.take())
	}
}

func (f *changeFeed) deliver(batch []Change) {
	for _, ch := range batch {
		f.fn(ch)
	}
}

// close delivers what is queued and waits for the callback to return.
func (f *changeFeed) close() {
	f.once.Do(func() { close(f.quit) })
	<-f.done
}

// publishChange hands ch to the change feed, if there is one.
func (s *Server) publishChange(ch Change) {
	if s.changes != nil {
		s.changes.publish(ch)
	}
}

// publishCommit reports the ops of a commit of this server.
func (d *document) publishCommit(ops []*pendingOp) {
	if d.srv.changes == nil || len(ops) == 0 {
		return
	}
	ch := Change{Doc: d.id, From: ops[0].rec.Rev - 1, To: ops[len(ops)-1].rec.Rev, Ops: make([]ChangeOp, len(ops))}
	for i, p := range ops {
		pub := p.pub
		if pub == "" && p.rec.Client != "" {
			pub = wire.PublicID(p.rec.Client)
		}
		ch.Ops[i] = ChangeOp{Rev: p.rec.Rev, Op: p.rec.Op, Author: Author{ID: pub, Name: p.rec.Author}, Time: p.rec.Time}
	}
	d.srv.publishChange(ch)
}
