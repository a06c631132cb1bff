// Package memory is a storage.Store that keeps documents in memory only,
// for tests, examples and programs that need nothing to survive them.
package memory

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Store is a storage.Store in memory, for tests, examples and programs
// that keep nothing. It keeps every op (unless Prune drops some),
// authorship and named versions (a storage.HistoryStore), and is safe for
// concurrent use.
type Store struct {
	mu   sync.Mutex
	docs map[string]*memDoc // guarded by mu
}

type memDoc struct {
	meta    storage.Meta
	buf     *ot.Buffer // the text at meta.Rev
	base    uint64     // records before base+1 are pruned
	baseTxt string     // text at base
	// baseAuthors is the authorship of baseTxt.
	baseAuthors []storage.Span
	versions    map[uint64]memVersion // by revision
	recs        []storage.Record
	clients     map[string][2]uint64 // client → {seq, rev}
}

// New returns an empty Store.
func New() *Store { return &Store{docs: make(map[string]*memDoc)} }

var _ storage.Store = (*Store)(nil)

func (m *Store) doc(id string) (*memDoc, error) {
	if err := storage.CheckDocID(id); err != nil {
		return nil, err
	}
	d := m.docs[id]
	if d == nil {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, id)
	}
	return d, nil
}

// Load implements storage.Store.
func (m *Store) Load(ctx context.Context, id string) (storage.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return storage.Doc{}, err
	}
	return storage.Doc{Meta: d.meta, Text: d.buf.String()}, nil
}

// Append implements storage.Store.
func (m *Store) Append(ctx context.Context, id string, recs []storage.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkAppend(id, recs); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.docs[id]
	if d == nil {
		now := time.Now()
		d = &memDoc{meta: storage.Meta{ID: id, Created: now}, buf: ot.NewBuffer(""), clients: make(map[string][2]uint64)}
	}
	// Check the whole chain first: Buffer.Apply changes nothing on error,
	// but the records before a failing one would be applied already.
	n, rev := d.buf.Len(), d.meta.Rev
	for _, r := range recs {
		if r.Rev != rev+1 {
			return fmt.Errorf("%w: %s: record %d after %d", storage.ErrConflict, id, r.Rev, rev)
		}
		if r.Op.BaseLen() != n {
			return fmt.Errorf("%w: %s@%d: op for %d code points, text has %d", storage.ErrConflict, id, r.Rev, r.Op.BaseLen(), n)
		}
		n, rev = r.Op.TargetLen(), r.Rev
	}
	for i, r := range recs {
		if err := d.buf.Apply(r.Op); err != nil {
			if i > 0 { // cannot happen with ops that chain: undo the others
				d.buf = ot.NewBuffer(m.textAt(d, d.meta.Rev))
			}
			return fmt.Errorf("%w: %s@%d: %v", storage.ErrConflict, id, r.Rev, err)
		}
	}
	for _, r := range recs {
		if r.Client != "" {
			d.clients[r.Client] = [2]uint64{r.Seq, r.Rev}
		}
	}
	d.recs = append(d.recs, recs...)
	d.meta.Rev = rev
	d.meta.Length = d.buf.Len()
	d.meta.Updated = time.Now()
	m.docs[id] = d
	return nil
}

// checkAppend applies the id rules of package storage.
func checkAppend(id string, recs []storage.Record) error {
	if err := storage.CheckDocID(id); err != nil {
		return err
	}
	for _, r := range recs {
		if r.Client != "" {
			if err := storage.CheckClientID(r.Client); err != nil {
				return err
			}
		}
	}
	return nil
}

// textAt replays d's kept history up to rev (base <= rev <= meta.Rev).
func (m *Store) textAt(d *memDoc, rev uint64) string {
	b := ot.NewBuffer(d.baseTxt)
	for _, r := range d.recs[:rev-d.base] {
		if err := b.Apply(r.Op); err != nil {
			panic("collab: Store history does not apply: " + err.Error()) // every record applied when appended
		}
	}
	return b.String()
}

// Ops implements storage.Store.
func (m *Store) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return nil, err
	}
	to = min(to, d.meta.Rev)
	if from >= to {
		return nil, nil
	}
	if from < d.base {
		return nil, fmt.Errorf("%w: %s before %d", storage.ErrPruned, id, d.base)
	}
	return append([]storage.Record(nil), d.recs[from-d.base:to-d.base]...), nil
}

// TextAt implements storage.Store.
func (m *Store) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return "", err
	}
	if rev > d.meta.Rev {
		return "", fmt.Errorf("%w: %s has no revision %d", storage.ErrNotFound, id, rev)
	}
	if rev < d.base {
		if v, ok := d.versions[rev]; ok {
			return v.text, nil
		}
		return "", fmt.Errorf("%w: %s before %d", storage.ErrPruned, id, d.base)
	}
	return m.textAt(d, rev), nil
}

// ClientSeq implements storage.Store.
func (m *Store) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.docs[id]
	if d == nil {
		return 0, 0, nil
	}
	c := d.clients[client]
	return c[0], c[1], nil
}

// List implements storage.Store.
func (m *Store) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("%w: list limit %d", storage.ErrInvalid, limit)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []storage.Meta
	for id, d := range m.docs {
		if id > after {
			out = append(out, d.meta)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Delete implements storage.Store.
func (m *Store) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.doc(id); err != nil {
		return err
	}
	delete(m.docs, id)
	return nil
}

// Prune drops the history of document id before revision rev, as a store
// with a retention policy would; the client sequence records and the named
// versions stay.
func (m *Store) Prune(id string, rev uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return err
	}
	if rev <= d.base {
		return nil
	}
	rev = min(rev, d.meta.Rev)
	text, spans := m.textAt(d, rev), m.authorsAt(d, rev)
	d.recs = append([]storage.Record(nil), d.recs[rev-d.base:]...)
	d.base, d.baseTxt, d.baseAuthors = rev, text, spans
	return nil
}
