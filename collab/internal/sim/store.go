package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

var (
	errDisk    = errors.New("sim: disk failure")
	errCrashed = errors.New("sim: server crashed")
)

// disk is what survives a crash: a memory.Store, the commits waiting for the
// World's decision, and the whole history of every commit (the memory.Store's
// may be pruned), to check the server against.
type disk struct {
	mem *memory.Store

	mu      sync.Mutex
	commits []*commit         // guarded by mu; in arrival order
	history []storage.Record  // guarded by mu; every committed record (one document)
	texts   []string          // guarded by mu; texts[r] is the text at revision r
	bad     []string          // guarded by mu; what the store saw go wrong
	auto    bool              // guarded by mu; commits are durable at once (teardown)
	seqs    map[string]uint64 // guarded by mu; last committed seq of each client
}

// commit is one Append waiting for the World.
type commit struct {
	s        *Store
	doc      string
	recs     []storage.Record
	done     chan struct{} // closed when decided
	err      error         // set before done closes
	resolved bool          // guarded by disk.mu
}

func newDisk() *disk {
	return &disk{mem: memory.New(), texts: []string{""}, seqs: make(map[string]uint64)}
}

// Store is the storage.Store of one server incarnation: the disk's memory.Store,
// whose commits wait until the World makes them durable, fails them, or
// crashes the server. After a crash every call fails.
type Store struct {
	d    *disk
	dead bool // guarded by d.mu
}

var _ storage.Store = (*Store)(nil)

func (d *disk) newStore() *Store {
	return &Store{d: d}
}

func (s *Store) alive() error {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.dead {
		return errCrashed
	}
	return nil
}

// Append waits for the World's decision on recs (or for ctx).
func (s *Store) Append(ctx context.Context, id string, recs []storage.Record) error {
	c := &commit{s: s, doc: id, recs: slices.Clone(recs), done: make(chan struct{})}
	s.d.mu.Lock()
	if s.dead {
		s.d.mu.Unlock()
		return errCrashed
	}
	if s.d.auto {
		defer s.d.mu.Unlock()
		return s.d.writeLocked(c)
	}
	s.d.commits = append(s.d.commits, c)
	s.d.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
	}
	s.d.mu.Lock()
	if !c.resolved { // timed out first: it never reaches the disk
		c.resolved = true
		s.d.commits = slices.DeleteFunc(s.d.commits, func(x *commit) bool { return x == c })
		s.d.mu.Unlock()
		return ctx.Err()
	}
	s.d.mu.Unlock()
	<-c.done
	return c.err
}

// pending is the number of commits waiting.
func (d *disk) pending() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.commits)
}

// decide resolves the oldest waiting commit: durable, or failed with
// nothing written.
func (d *disk) decide(durable bool) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.commits) == 0 {
		return "", false
	}
	c := d.commits[0]
	d.commits = d.commits[1:]
	if durable {
		c.err = d.writeLocked(c)
	} else {
		c.err = errDisk
	}
	c.resolved = true
	close(c.done)
	return fmt.Sprintf("%s revs %d-%d durable=%v err=%v", c.doc, c.recs[0].Rev, c.recs[len(c.recs)-1].Rev, durable, c.err), true
}

// commitAll makes every waiting commit durable, and every later one at
// once: the run is over, and a server shutting down must be able to finish.
func (d *disk) commitAll() {
	d.mu.Lock()
	d.auto = true
	d.mu.Unlock()
	for {
		if _, ok := d.decide(true); !ok {
			return
		}
	}
}

// writeLocked makes c durable and records it in the history.
func (d *disk) writeLocked(c *commit) error {
	if err := d.mem.Append(context.Background(), c.doc, c.recs); err != nil {
		d.bad = append(d.bad, fmt.Sprintf("store refused a commit: %v", err))
		return err
	}
	for _, r := range c.recs {
		text, err := r.Op.Apply(d.texts[len(d.texts)-1])
		if err != nil {
			d.bad = append(d.bad, fmt.Sprintf("history does not replay at rev %d: %v", r.Rev, err))
			text = ""
		}
		d.history = append(d.history, r)
		if r.Client != "" {
			d.seqs[r.Client] = max(d.seqs[r.Client], r.Seq)
		}
		d.texts = append(d.texts, text)
	}
	return nil
}

// crash kills store s: each of its waiting commits is kept or lost as
// keep says, as a crash in the middle of a commit may go either way, and
// every call fails from now on.
func (d *disk) crash(s *Store, keep func() bool) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s.dead = true
	var out []string
	rest := d.commits[:0]
	for _, c := range d.commits {
		if c.s != s {
			rest = append(rest, c)
			continue
		}
		kept := keep()
		if kept {
			d.writeLocked(c)
		}
		out = append(out, fmt.Sprintf("revs %d-%d kept=%v", c.recs[0].Rev, c.recs[len(c.recs)-1].Rev, kept))
		c.err, c.resolved = errCrashed, true
		close(c.done)
	}
	d.commits = rest
	return out
}

// prune drops the memory.Store's history of doc before rev.
func (d *disk) prune(doc string, rev uint64) error {
	return d.mem.Prune(doc, rev)
}

// Load implements storage.Store.
func (s *Store) Load(ctx context.Context, id string) (storage.Doc, error) {
	if err := s.alive(); err != nil {
		return storage.Doc{}, err
	}
	return s.d.mem.Load(ctx, id)
}

// Ops implements storage.Store.
func (s *Store) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.d.mem.Ops(ctx, id, from, to)
}

// TextAt implements storage.Store.
func (s *Store) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	if err := s.alive(); err != nil {
		return "", err
	}
	return s.d.mem.TextAt(ctx, id, rev)
}

// ClientSeq implements storage.Store.
func (s *Store) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	if err := s.alive(); err != nil {
		return 0, 0, err
	}
	return s.d.mem.ClientSeq(ctx, id, client)
}

// List implements storage.Store.
func (s *Store) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	if err := s.alive(); err != nil {
		return nil, err
	}
	return s.d.mem.List(ctx, after, limit)
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.alive(); err != nil {
		return err
	}
	return s.d.mem.Delete(ctx, id)
}

// committed is the last seq of client in the history.
func (d *disk) committed(client string) uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.seqs[client]
}
