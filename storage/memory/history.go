package memory

import (
	"context"
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/storage"
)

// memVersion is a named version with the text and authorship it keeps.
type memVersion struct {
	storage.Version
	text  string
	spans []storage.Span
}

var _ storage.HistoryStore = (*Store)(nil)

// authorsAt replays d's kept history from its base up to rev (base <= rev
// <= meta.Rev), so it costs the ops kept since the last Prune: this store
// is for tests and short-lived programs; bolt keeps authorship with its
// snapshots instead.
func (m *Store) authorsAt(d *memDoc, rev uint64) []storage.Span {
	a := authorship.New(d.baseAuthors)
	for _, r := range d.recs[:rev-d.base] {
		if err := a.Apply(r); err != nil {
			panic("memory: history does not apply: " + err.Error()) // every record applied when appended
		}
	}
	return a.Spans()
}

// kept checks that rev of d can be read: ErrInvalid beyond the head,
// ErrPruned before the base unless it is a named version (then ok is false).
func kept(d *memDoc, id string, rev uint64) (ok bool, err error) {
	if rev > d.meta.Rev {
		return false, fmt.Errorf("%w: %s has no revision %d", storage.ErrInvalid, id, rev)
	}
	if rev >= d.base {
		return true, nil
	}
	if _, named := d.versions[rev]; named {
		return false, nil
	}
	return false, fmt.Errorf("%w: %s before %d", storage.ErrPruned, id, d.base)
}

// AuthorsAt implements storage.HistoryStore.
func (m *Store) AuthorsAt(ctx context.Context, id string, rev uint64) ([]storage.Span, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return nil, err
	}
	ok, err := kept(d, id, rev)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return d.versions[rev].spans, nil
	}
	return m.authorsAt(d, rev), nil
}

// PutVersion implements storage.HistoryStore.
func (m *Store) PutVersion(ctx context.Context, id string, v storage.Version) error {
	if n := utf8.RuneCountInString(v.Name); n == 0 || n > storage.MaxVersionName || !utf8.ValidString(v.Name) {
		return fmt.Errorf("%w: a version name is 1 to %d code points of UTF-8", storage.ErrInvalid, storage.MaxVersionName)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return err
	}
	old, named := d.versions[v.Rev]
	if !named && len(d.versions) >= storage.MaxVersions {
		return fmt.Errorf("%w: document %q has %d, the most it may have", storage.ErrTooManyVersions, id, storage.MaxVersions)
	}
	ok, err := kept(d, id, v.Rev)
	if err != nil {
		return err
	}
	if ok {
		old.text, old.spans = m.textAt(d, v.Rev), m.authorsAt(d, v.Rev)
	}
	if d.versions == nil {
		d.versions = make(map[uint64]memVersion)
	}
	d.versions[v.Rev] = memVersion{Version: v, text: old.text, spans: old.spans}
	return nil
}

// Versions implements storage.HistoryStore.
func (m *Store) Versions(ctx context.Context, id string) ([]storage.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return nil, err
	}
	out := make([]storage.Version, 0, len(d.versions))
	for _, v := range d.versions {
		out = append(out, v.Version)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rev < out[j].Rev })
	return out, nil
}

// DeleteVersion implements storage.HistoryStore.
func (m *Store) DeleteVersion(ctx context.Context, id string, rev uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.doc(id)
	if err != nil {
		return err
	}
	if _, ok := d.versions[rev]; !ok {
		return fmt.Errorf("%w: document %q has no version at revision %d", storage.ErrNotFound, id, rev)
	}
	delete(d.versions, rev)
	return nil
}
