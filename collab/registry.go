package collab

import (
	"container/list"
	"sync"
)

// maxEvictTries bounds the idle documents one acquire asks to unload
// before it gives up with ErrTooManyLoaded.
const maxEvictTries = 4

// registry maps ids to loaded documents. Its mutex is taken when a
// connection or HTTP request acquires or releases a document and when a
// document unloads, never on the submit path. It holds at most
// Options.MaxLoaded documents: past that a new one makes room by unloading
// the one idle longest (no references), or is refused.
type registry struct {
	srv *Server
	max int // most documents loaded at once

	mu      sync.Mutex
	docs    map[string]*document // guarded by mu
	idle    *list.List           // guarded by mu: documents without references, longest idle first
	closing bool                 // guarded by mu: Shutdown began, nothing new loads
}

func newRegistry(srv *Server) *registry {
	srv.registerStoreMetrics()
	return &registry{srv: srv, max: srv.opts.MaxLoaded, docs: make(map[string]*document), idle: list.New()}
}

// acquire returns the loaded document id, starting its owner if needed, and
// takes a reference that keeps it loaded until release. The owner loads the
// document before it reads its mailbox, so nothing is served half-loaded.
// At the cap it first unloads an idle document, or fails with
// ErrTooManyLoaded when none will go.
func (r *registry) acquire(id string) (*document, error) {
	for tries := 0; ; tries++ {
		d, victim, err := r.acquireOrVictim(id, tries < maxEvictTries)
		if d != nil || err != nil {
			return d, err
		}
		if !r.evict(victim) {
			r.keepIdle(victim)
		}
	}
}

// acquireOrVictim takes a reference to id's document, loading it if there
// is room; at the cap it returns instead the idle document to unload
// first, if evict allows one and there is one.
func (r *registry) acquireOrVictim(id string, evict bool) (d, victim *document, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return nil, nil, ErrShuttingDown
	}
	if d = r.docs[id]; d != nil {
		r.takeLocked(d)
		return d, nil, nil
	}
	if len(r.docs) >= r.max {
		e := r.idle.Front()
		if !evict || e == nil {
			r.srv.limitHit(limitLoaded)
			return nil, nil, ErrTooManyLoaded
		}
		victim = r.idle.Remove(e).(*document)
		victim.idleAt = nil
		return nil, victim, nil
	}
	d = newDocument(r.srv, id)
	r.docs[id] = d
	r.srv.metrics.loadedDocs.Inc()
	r.srv.wg.Add(1)
	go func() {
		defer r.srv.wg.Done()
		d.run()
	}()
	r.takeLocked(d)
	return d, nil, nil
}

func (r *registry) takeLocked(d *document) {
	d.refs++
	if d.idleAt != nil {
		r.idle.Remove(d.idleAt)
		d.idleAt = nil
	}
}

// evict asks d's owner to unload it now, after what its mailbox already
// holds, and reports whether it did.
func (r *registry) evict(d *document) bool {
	reply := make(chan bool, 1)
	if await(d, &evictReq{reply: reply}, reply, true) {
		r.srv.metrics.evictions.Inc()
		return true
	}
	return false
}

// keepIdle puts back a document that refused to unload (it was still
// committing, or was acquired meanwhile), at the end of the idle list.
func (r *registry) keepIdle(d *document) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d.refs == 0 && d.idleAt == nil && r.docs[d.id] == d {
		d.idleAt = r.idle.PushBack(d)
	}
}

// release drops a reference taken by acquire. When the last one goes, the
// owner is told so it can start its unload grace period.
func (r *registry) release(d *document) {
	r.mu.Lock()
	d.refs--
	idle := d.refs == 0
	if idle && r.docs[d.id] == d {
		d.idleAt = r.idle.PushBack(d)
	}
	r.mu.Unlock()
	if idle {
		select {
		case d.idle <- struct{}{}:
		default:
		}
	}
}

// tryUnload removes d if it is idle (no editors, nothing pending) and
// nobody holds or is about to use it. Called by d's owner; a message already
// in the mailbox counts as use (its sender posted it before releasing).
// referenced reports that someone holds d: its release will signal again.
func (r *registry) tryUnload(d *document, idle bool) (unloaded, referenced bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d.refs > 0 {
		return false, true
	}
	if !idle || len(d.in) > 0 {
		return false, false
	}
	r.removeLocked(d)
	return true, false
}

// remove takes d out of the map at once (deleted, failed or shutting down);
// holders of references see d.done closed and get errors.
func (r *registry) remove(d *document) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(d)
}

func (r *registry) removeLocked(d *document) {
	if r.docs[d.id] == d {
		delete(r.docs, d.id)
		r.srv.metrics.loadedDocs.Dec()
	}
	if d.idleAt != nil {
		r.idle.Remove(d.idleAt)
		d.idleAt = nil
	}
}

// loaded is the number of documents in memory.
func (r *registry) loaded() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.docs)
}

// all returns the documents loaded now.
func (r *registry) all() []*document {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*document, 0, len(r.docs))
	for _, d := range r.docs {
		out = append(out, d)
	}
	return out
}

// close stops new loads and returns the documents still loaded.
func (r *registry) close() []*document {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closing = true
	out := make([]*document, 0, len(r.docs))
	for _, d := range r.docs {
		out = append(out, d)
	}
	return out
}
