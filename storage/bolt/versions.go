package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/storage"
)

// storedVersion is a Version with the text and encoded authorship it keeps.
type storedVersion struct {
	storage.Version
	text    string
	authors []byte
}

// PutVersion names revision v.Rev of document id, replacing the name it
// had. ErrInvalid for an empty or overlong name or a revision beyond the
// head, ErrPruned if the revision's text is no longer kept, ErrNotFound if
// the document does not exist or is deleted meanwhile, ErrTooManyVersions
// if the revision is unnamed and the document has MaxVersions.
func (db *DB) PutVersion(ctx context.Context, id string, v storage.Version) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(v.Name); n == 0 || n > storage.MaxVersionName || !utf8.ValidString(v.Name) {
		return fmt.Errorf("%w: a version name is 1 to %d code points of UTF-8", storage.ErrInvalid, storage.MaxVersionName)
	}
	// The version is written beside the document's stored records, which
	// must therefore hold it: move the log there first.
	if err := db.checkpoint(); err != nil {
		return closedErr(err)
	}
	var sv storedVersion
	var gen uint64
	err := db.viewDoc(id, func(dv docView) error {
		if !dv.stored {
			return fmt.Errorf("%w: %q", storage.ErrNotFound, id) // created after the checkpoint: still only in the log
		}
		if v.Rev > dv.head.Rev {
			return fmt.Errorf("%w: document %q has no revision %d (current %d)", storage.ErrInvalid, id, v.Rev, dv.head.Rev)
		}
		gen = dv.m.gen
		text, err := db.textAt(dv, v.Rev)
		if err != nil {
			return err
		}
		spans, err := dv.authors(v.Rev)
		if errors.Is(err, storage.ErrPruned) {
			old, _, _ := versionAt(dv.d, v.Rev) // textAt found it
			sv.authors = old.authors
		} else if err != nil {
			return err
		} else {
			sv.authors = authorship.Encode(spans)
		}
		sv.text = text
		return nil
	})
	if err != nil {
		return err
	}
	sv.Version = v
	return db.update(func(tx *bbolt.Tx) error {
		d, m, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		if m.gen != gen {
			return fmt.Errorf("%w: %q was deleted", storage.ErrNotFound, id)
		}
		if d.versions.Get(d.key(v.Rev)) == nil && countVersions(d) >= storage.MaxVersions {
			return fmt.Errorf("%w: document %q has %d, the most it may have", storage.ErrTooManyVersions, id, storage.MaxVersions)
		}
		return d.versions.Put(d.key(v.Rev), encodeVersion(sv))
	})
}

// Versions returns document id's named versions in revision order.
func (db *DB) Versions(ctx context.Context, id string) ([]storage.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := []storage.Version{}
	err := db.viewDoc(id, func(v docView) error {
		c := v.d.versions.Cursor()
		for k, val := c.Seek(v.d.key(0)); k != nil; k, val = c.Next() {
			rev, ok := v.d.rev(k)
			if !ok {
				break
			}
			sv, err := decodeVersion(rev, val)
			if err != nil {
				return corrupt(id, fmt.Sprintf("version %d", rev), err)
			}
			out = append(out, sv.Version)
		}
		return nil
	})
	return out, err
}

// DeleteVersion removes the name of revision rev of document id; the
// history itself is unchanged, and pruning may then take its text.
// ErrNotFound if the document has no version at rev.
func (db *DB) DeleteVersion(ctx context.Context, id string, rev uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.update(func(tx *bbolt.Tx) error {
		d, _, err := openDoc(tx, id)
		if err != nil {
			return err
		}
		k := d.key(rev)
		if d.versions.Get(k) == nil {
			return fmt.Errorf("%w: document %q has no version at revision %d", storage.ErrNotFound, id, rev)
		}
		return d.versions.Delete(k)
	})
}

func countVersions(d doc) int {
	n := 0
	c := d.versions.Cursor()
	for k, _ := c.Seek(d.key(0)); k != nil; k, _ = c.Next() {
		if _, ok := d.rev(k); !ok {
			break
		}
		n++
	}
	return n
}

// textAt is the text at rev <= v.head.Rev, from a named version if the
// history there is pruned.
func (db *DB) textAt(v docView, rev uint64) (string, error) {
	text, err := v.text(rev)
	if errors.Is(err, storage.ErrPruned) {
		if sv, ok, verr := versionAt(v.d, rev); verr != nil || ok {
			return sv.text, verr
		}
	}
	return text, err
}

// versionAt reads the named version at rev, if there is one.
func versionAt(d doc, rev uint64) (storedVersion, bool, error) {
	v := d.versions.Get(d.key(rev))
	if v == nil {
		return storedVersion{}, false, nil
	}
	sv, err := decodeVersion(rev, v)
	if err != nil {
		return storedVersion{}, false, corrupt(d.id, fmt.Sprintf("version %d", rev), err)
	}
	return sv, true, nil
}

// encodeVersion: format byte, created v, name string, author string, text
// string, then the authorship as encodeAuthors writes it, to the end.
func encodeVersion(sv storedVersion) []byte {
	b := make([]byte, 0, 32+len(sv.Name)+len(sv.Author)+len(sv.text)+len(sv.authors))
	b = append(b, formatV1)
	b = recordcodec.AppendTime(b, sv.Created)
	b = recordcodec.AppendString(b, sv.Name)
	b = recordcodec.AppendString(b, sv.Author)
	b = recordcodec.AppendString(b, sv.text)
	return append(b, sv.authors...)
}

func decodeVersion(rev uint64, v []byte) (storedVersion, error) {
	d := newDecoder(v)
	sv := storedVersion{Version: storage.Version{Rev: rev}}
	sv.Created = d.Time()
	sv.Name = d.Str()
	sv.Author = d.Str()
	sv.text = d.Str()
	if d.Err() != nil {
		return storedVersion{}, d.Err()
	}
	if !utf8.ValidString(sv.text) {
		return storedVersion{}, recordcodec.ErrBadText
	}
	sv.authors = bytes.Clone(d.Rest())
	return sv, nil
}
