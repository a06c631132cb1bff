package bolt

import (
	"context"
	"errors"
	"fmt"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/storage"
)

// AuthorsAt returns who inserted each code point of document id's text at
// revision rev: the authorship stored with the nearest snapshot at or below
// rev, advanced by the ops up to rev, so never a replay of the whole
// history. Text of snapshots written before authorship was kept, and
// whatever came before them, is attributed to nobody (empty Client and
// Author). ErrPruned if rev is below the pruning cut and not a named
// version, ErrInvalid if it is beyond the current revision.
func (db *DB) AuthorsAt(ctx context.Context, id string, rev uint64) ([]storage.Span, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var spans []storage.Span
	err := db.viewDoc(id, func(v docView) error {
		if rev > v.head.Rev {
			return fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, rev, v.head.Rev)
		}
		var err error
		spans, err = v.authors(rev)
		if errors.Is(err, storage.ErrPruned) {
			sv, ok, verr := versionAt(v.d, rev)
			if verr != nil {
				return verr
			}
			if ok {
				if spans, err = authorship.Decode(sv.authors); err != nil {
					return corrupt(id, fmt.Sprintf("authors of version %d", rev), err)
				}
			}
		}
		return err
	})
	return spans, err
}

// authors is text's counterpart for authorship: rev <= v.head.Rev.
func (v docView) authors(rev uint64) ([]storage.Span, error) {
	if rev <= v.m.Rev {
		a, err := readAuthors(v.d, v.m, rev)
		return a.Spans(), err
	}
	a, err := readAuthors(v.d, v.m, v.m.Rev)
	if err != nil {
		return nil, err
	}
	for _, rec := range v.tail {
		if rec.Rev > rev {
			break
		}
		if err := a.Apply(rec); err != nil {
			return nil, corrupt(v.m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
	}
	return a.Spans(), nil
}

// readAuthors rebuilds the authorship at rev from the newest stored at or
// below it; without one (a file from before authorship was kept), from the
// newest snapshot, whose text is attributed to nobody.
func readAuthors(d doc, m docMeta, rev uint64) (*authorship.Authorship, error) {
	if rev < m.cut {
		return nil, fmt.Errorf("%w: document %q revision %d is before the oldest kept revision %d", storage.ErrPruned, m.ID, rev, m.cut)
	}
	var a *authorship.Authorship
	base, v, ok := d.atOrBelow(d.authors.Cursor(), rev)
	if ok && base >= m.cut {
		var err error
		if a, err = authorship.Parse(v); err != nil {
			return nil, corrupt(m.ID, fmt.Sprintf("authors %d", base), err)
		}
	} else {
		var length int
		var err error
		if base, _, length, err = snapshotAtOrBelow(d, m, rev); err != nil {
			return nil, err
		}
		a = authorship.New([]storage.Span{{Length: length}}) // nobody's
	}
	err := scanOps(d, m, base, rev, func(rec storage.Record) error {
		if err := a.Apply(rec); err != nil {
			return corrupt(m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
		return nil
	})
	return a, err
}
