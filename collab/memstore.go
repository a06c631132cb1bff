package collab

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// MemStore is a Store in memory, for tests and examples. It keeps every op
// (unless Prune drops some), authorship and named versions (a
// HistoryStore), and is safe for concurrent use.
type MemStore struct {
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

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{docs: make(map[string]*memDoc)} }

var _ Store = (*MemStore)(nil)

func (m *MemStore) doc(id string) (*memDoc, error) {
	d := m.docs[id]
	if d == nil {
		return nil, fmt.Errorf("%w: %s", storage.ErrNotFound, id)
	}
	return d, nil
}

// Load implements Store.
func (m *MemStore) Load(ctx context.Context, id string) (storage.Doc, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return storage.Doc{}, err
	}
	return storage.Doc{Meta: d.meta, Text: d.buf.String()}, nil
}

// Append implements Store.
func (m *MemStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	if err := ctx.Err(); err != nil {
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

// textAt replays d's kept history up to rev (base <= rev <= meta.Rev).
func (m *MemStore) textAt(d *memDoc, rev uint64) string {
	b := ot.NewBuffer(d.baseTxt)
	for _, r := range d.recs[:rev-d.base] {
		if err := b.Apply(r.Op); err != nil {
			panic("collab: MemStore history does not apply: " + err.Error()) // every record applied when appended
		}
	}
	return b.String()
}

// Ops implements Store.
func (m *MemStore) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
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

// TextAt implements Store.
func (m *MemStore) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
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

// ClientSeq implements Store.
func (m *MemStore) ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.docs[id]
	if d == nil {
		return 0, 0, nil
	}
	c := d.clients[client]
	return c[0], c[1], nil
}

// List implements Store.
func (m *MemStore) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
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

// Delete implements Store.
func (m *MemStore) Delete(ctx context.Context, id string) error {
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
func (m *MemStore) Prune(id string, rev uint64) error {
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
