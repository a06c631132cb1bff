package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/ot"
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
				if spans, err = decodeAuthors(sv.authors); err != nil {
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
		return a.spans(), err
	}
	a, err := readAuthors(v.d, v.m, v.m.Rev)
	if err != nil {
		return nil, err
	}
	for _, rec := range v.tail {
		if rec.Rev > rev {
			break
		}
		if err := a.apply(rec); err != nil {
			return nil, corrupt(v.m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
	}
	return a.spans(), nil
}

// readAuthors rebuilds the authorship at rev from the newest stored at or
// below it; without one (a file from before authorship was kept), from the
// newest snapshot, whose text is attributed to nobody.
func readAuthors(d doc, m docMeta, rev uint64) (*authorship, error) {
	if rev < m.cut {
		return nil, fmt.Errorf("%w: document %q revision %d is before the oldest kept revision %d", storage.ErrPruned, m.ID, rev, m.cut)
	}
	a := newAuthorship()
	base, v, ok := d.atOrBelow(d.authors.Cursor(), rev)
	if ok && base >= m.cut {
		if err := a.decode(v); err != nil {
			return nil, corrupt(m.ID, fmt.Sprintf("authors %d", base), err)
		}
	} else {
		var length int
		var err error
		if base, _, length, err = snapshotAtOrBelow(d, m, rev); err != nil {
			return nil, err
		}
		a.cur = appendRun(a.cur, run{n: length, who: a.whoOf("", "")})
	}
	err := scanOps(d, m, base, rev, func(rec storage.Record) error {
		if err := a.apply(rec); err != nil {
			return corrupt(m.ID, fmt.Sprintf("op %d", rec.Rev), err)
		}
		return nil
	})
	return a, err
}

// authorship is a text's spans in a compact form that ops apply to fast:
// runs without pointers, naming their author by index into table.
type authorship struct {
	table     []storage.Span // Client and Author only
	index     map[storage.Span]int
	cur, next []run // cur is the text's; next is reused by apply
}

type run struct{ n, who int }

func newAuthorship() *authorship { return &authorship{index: make(map[storage.Span]int)} }

// whoOf is the table index of the author, added if new.
func (a *authorship) whoOf(client, author string) int {
	k := storage.Span{Client: client, Author: author}
	i, ok := a.index[k]
	if !ok {
		i = len(a.table)
		a.table = append(a.table, k)
		a.index[k] = i
	}
	return i
}

var errSpans = errors.New("op does not fit the authorship spans")

// apply moves a.cur past rec's op: retained text keeps its author, deleted
// text goes, inserted text is rec's.
func (a *authorship) apply(rec storage.Record) error {
	out := a.next[:0]
	i, off := 0, 0 // the next code point of a.cur: a.cur[i], off code points in
	take := func(n int, keep bool) error {
		if off > 0 && n > 0 && i < len(a.cur) { // finish the run begun
			k := min(n, a.cur[i].n-off)
			if keep {
				out = appendRun(out, run{n: k, who: a.cur[i].who})
			}
			n, off = n-k, off+k
			if off == a.cur[i].n {
				i, off = i+1, 0
			}
		}
		j := i // whole runs, copied at once
		for j < len(a.cur) && a.cur[j].n <= n {
			n -= a.cur[j].n
			j++
		}
		if keep && j > i {
			out = appendRun(out, a.cur[i])
			out = append(out, a.cur[i+1:j]...)
		}
		i = j
		if n > 0 {
			if i >= len(a.cur) {
				return errSpans
			}
			if keep {
				out = appendRun(out, run{n: n, who: a.cur[i].who})
			}
			off = n
		}
		return nil
	}
	for j := 0; j < rec.Op.Len(); j++ {
		c := rec.Op.Component(j)
		var err error
		switch c.Kind {
		case ot.Retain:
			err = take(c.N, true)
		case ot.Delete:
			err = take(c.N, false)
		case ot.Insert:
			out = appendRun(out, run{n: c.N, who: a.whoOf(rec.Client, rec.Author)})
		}
		if err != nil {
			return err
		}
	}
	// Whatever the op leaves out at the end stays.
	if off > 0 {
		out = appendRun(out, run{n: a.cur[i].n - off, who: a.cur[i].who})
		i++
	}
	if i < len(a.cur) {
		out = appendRun(out, a.cur[i])
		out = append(out, a.cur[i+1:]...)
	}
	a.cur, a.next = out, a.cur
	return nil
}

// appendRun appends r, merging it into the last run if they share an author.
func appendRun(runs []run, r run) []run {
	if r.n <= 0 {
		return runs
	}
	if k := len(runs); k > 0 && runs[k-1].who == r.who {
		runs[k-1].n += r.n
		return runs
	}
	return append(runs, r)
}

// spans is a.cur spelt out.
func (a *authorship) spans() []storage.Span {
	if a == nil {
		return nil
	}
	out := make([]storage.Span, len(a.cur))
	for i, r := range a.cur {
		out[i] = a.table[r.who]
		out[i].Length = r.n
	}
	return out
}

// encodeAuthors: format byte, the distinct (client, author) pairs as a
// table (count uv, then client string, author string each), then the spans
// (count uv, then length uv, table index uv each).
func encodeAuthors(spans []storage.Span) []byte {
	type who struct{ client, author string }
	index := make(map[who]uint64)
	var table []who
	for _, s := range spans {
		w := who{s.Client, s.Author}
		if _, ok := index[w]; !ok {
			index[w] = uint64(len(table))
			table = append(table, w)
		}
	}
	b := []byte{formatV1}
	b = binary.AppendUvarint(b, uint64(len(table)))
	for _, w := range table {
		b = recordcodec.AppendString(recordcodec.AppendString(b, w.client), w.author)
	}
	b = binary.AppendUvarint(b, uint64(len(spans)))
	for _, s := range spans {
		b = binary.AppendUvarint(b, uint64(s.Length))
		b = binary.AppendUvarint(b, index[who{s.Client, s.Author}])
	}
	return b
}

func decodeAuthors(v []byte) ([]storage.Span, error) {
	a := newAuthorship()
	if err := a.decode(v); err != nil {
		return nil, err
	}
	return a.spans(), nil
}

// decode sets a to the authorship encodeAuthors wrote in v.
func (a *authorship) decode(v []byte) error {
	d := newDecoder(v)
	n := d.Count(true)
	who := make([]int, 0, min(n, 1024))
	for i := 0; i < n && d.Err() == nil; i++ {
		client := d.Str()
		who = append(who, a.whoOf(client, d.Str()))
	}
	n = d.Count(true)
	a.cur = make([]run, 0, min(n, 1<<16))
	for i := 0; i < n && d.Err() == nil; i++ {
		length, k := d.Count(false), d.Uvarint()
		if d.Err() == nil && k >= uint64(len(who)) {
			d.Fail(recordcodec.ErrBadCount)
		}
		if d.Err() == nil {
			a.cur = appendRun(a.cur, run{n: length, who: who[k]})
		}
	}
	return d.Finish()
}
