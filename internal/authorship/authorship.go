// Package authorship keeps who inserted each code point of a text, op by
// op, and its binary form: the bookkeeping every store keeps beside its
// snapshots (bbolt, memory, cluster), so that who wrote what at a revision
// never needs a replay of the whole history.
package authorship

import (
	"encoding/binary"
	"errors"

	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// format is the first byte of Encode's output.
const format = 1

var errFormat = errors.New("unknown authorship format")

// Authorship is who inserted each code point of a text, in a compact form
// that ops apply to fast: runs without pointers, naming their author by
// index into table.
type Authorship struct {
	table     []storage.Span // Client and Author only
	index     map[storage.Span]int
	cur, next []run // cur is the text's; next is reused by apply
}

type run struct{ n, who int }

func empty() *Authorship { return &Authorship{index: make(map[storage.Span]int)} }

// New starts from a text whose authorship is spans; nil for the empty text.
func New(spans []storage.Span) *Authorship {
	a := empty()
	for _, s := range spans {
		a.cur = appendRun(a.cur, run{n: s.Length, who: a.whoOf(s.Client, s.Author)})
	}
	return a
}

// whoOf is the table index of the author, added if new.
func (a *Authorship) whoOf(client, author string) int {
	k := storage.Span{Client: client, Author: author}
	i, ok := a.index[k]
	if !ok {
		i = len(a.table)
		a.table = append(a.table, k)
		a.index[k] = i
	}
	return i
}

// ErrMismatch is an op that does not fit the text the authorship is of.
var ErrMismatch = errors.New("op does not fit the authorship spans")

// Apply moves the authorship past rec's op: retained text keeps its
// author, deleted text goes, inserted text is rec's. ErrMismatch if the op
// does not fit (and then a is unusable).
func (a *Authorship) Apply(rec storage.Record) error {
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
				return ErrMismatch
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

// Spans is the authorship spelt out: spans covering the text in order.
func (a *Authorship) Spans() []storage.Span {
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

// Encode is the binary form of spans that Decode reads: a format byte, the distinct (client, author) pairs as a
// table (count uv, then client string, author string each), then the spans
// (count uv, then length uv, table index uv each).
func Encode(spans []storage.Span) []byte {
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
	b := []byte{format}
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

// Decode reads what Encode wrote.
func Decode(b []byte) ([]storage.Span, error) {
	a, err := Parse(b)
	if err != nil {
		return nil, err
	}
	return a.Spans(), nil
}

// Parse reads what Encode wrote as an Authorship that ops apply to.
func Parse(b []byte) (*Authorship, error) {
	a := empty()
	if err := a.decode(b); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Authorship) decode(v []byte) error {
	d := recordcodec.NewDecoder(v)
	if d.Byte() != format {
		d.Fail(errFormat)
	}
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
