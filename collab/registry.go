package collab

import (
	"sync"
)

// registry maps ids to loaded documents. Its mutex is taken when a
// connection or HTTP request acquires or releases a document and when a
// document unloads, never on the submit path.
type registry struct {
	srv *Server

	mu      sync.Mutex
	docs    map[string]*document // guarded by mu
	closing bool                 // guarded by mu: Shutdown began, nothing new loads
}

func newRegistry(srv *Server) *registry {
	srv.registerStoreMetrics()
	return &registry{srv: srv, docs: make(map[string]*document)}
}

// acquire returns the loaded document id, starting its owner if needed, and
// takes a reference that keeps it loaded until release. The owner loads the
// document before it reads its mailbox, so nothing is served half-loaded.
func (r *registry) acquire(id string) (*document, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return nil, ErrShuttingDown
	}
	d := r.docs[id]
	if d == nil {
		d = newDocument(r.srv, id)
		r.docs[id] = d
		r.srv.metrics.loadedDocs.Inc()
		r.srv.wg.Add(1)
		go func() {
			defer r.srv.wg.Done()
			d.run()
		}()
	}
	d.refs++
	return d, nil
}

// release drops a reference taken by acquire. When the last one goes, the
// owner is told so it can start its unload grace period.
func (r *registry) release(d *document) {
	r.mu.Lock()
	d.refs--
	idle := d.refs == 0
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
}

// loaded is the number of documents in memory.
func (r *registry) loaded() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.docs)
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
