package bolt

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Record, metadata, client and snapshot values all start with this format
// byte so a future layout can be told apart from this one.
const formatV1 = 1

// fileFormat, under key "format" of bucket "info", names the file layout
// of the package comment. Layout 1 kept metadata, ops and client records
// in buckets of their own; layout 2 had no write-ahead log.
const fileFormat = 3

// docMeta is the stored form of a document's metadata: the public Meta plus
// what the store needs to find snapshots and the pruning cut.
type docMeta struct {
	storage.Meta
	gen     uint64 // incarnation: a deleted and recreated document gets a new one
	snapRev uint64 // revision of the newest snapshot, 0 if none
	cut     uint64 // ops with Rev <= cut are pruned; a snapshot exists at cut when cut > 0
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeRecord encodes everything of r but its revision, which is the key.
func encodeRecord(r storage.Record) []byte {
	b := make([]byte, 0, 32+len(r.Author)+len(r.Client)+8*r.Op.Len())
	b = append(b, formatV1)
	b = binary.AppendVarint(b, unixNano(r.Time))
	b = binary.AppendUvarint(b, r.Seq)
	b = appendString(b, r.Author)
	b = appendString(b, r.Client)
	b = binary.AppendUvarint(b, uint64(r.Op.Len()))
	for i := 0; i < r.Op.Len(); i++ {
		c := r.Op.Component(i)
		b = append(b, byte(c.Kind))
		if c.Kind == ot.Insert {
			b = appendString(b, c.Text)
		} else {
			b = binary.AppendUvarint(b, uint64(c.N))
		}
	}
	return b
}

func encodeMeta(m docMeta) []byte {
	b := make([]byte, 0, 64)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, m.gen)
	b = binary.AppendUvarint(b, m.Rev)
	b = binary.AppendUvarint(b, uint64(m.Length))
	b = binary.AppendVarint(b, unixNano(m.Created))
	b = binary.AppendVarint(b, unixNano(m.Updated))
	b = binary.AppendUvarint(b, m.snapRev)
	b = binary.AppendUvarint(b, m.cut)
	return b
}

func encodeClient(seq, rev uint64) []byte {
	b := make([]byte, 0, 12)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, seq)
	return binary.AppendUvarint(b, rev)
}

func encodeSnapshot(text string, length int) []byte {
	b := make([]byte, 0, len(text)+12)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, uint64(length))
	return append(b, text...)
}

var (
	errTruncated = errors.New("truncated value")
	errFormat    = errors.New("unknown format byte")
	errTrailing  = errors.New("trailing bytes")
	errBadText   = errors.New("text is not valid UTF-8")
	errBadCount  = errors.New("count out of range")
	errBadKind   = errors.New("unknown component kind")
)

// decoder reads the values above; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func newDecoder(b []byte) *decoder {
	d := &decoder{b: b}
	if len(b) == 0 {
		d.err = errTruncated
	} else if b[0] != formatV1 {
		d.err = errFormat
	} else {
		d.b = b[1:]
	}
	return d
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a positive int such as a length in code points.
func (d *decoder) count(allowZero bool) int {
	v := d.uvarint()
	if d.err == nil && (v > math.MaxInt32*64 || (v == 0 && !allowZero)) {
		d.err = errBadCount
		return 0
	}
	return int(v)
}

// string copies the bytes out: the value may live in bbolt's mmap.
func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errTruncated
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = errTrailing
	}
	return d.err
}

func decodeRecord(rev uint64, v []byte) (storage.Record, error) {
	d := newDecoder(v)
	r := storage.Record{Rev: rev}
	r.Time = fromUnixNano(d.varint())
	r.Seq = d.uvarint()
	r.Author = d.string()
	r.Client = d.string()
	n := d.count(true)
	var ob ot.Builder
	for i := 0; i < n && d.err == nil; i++ {
		switch ot.Kind(d.byte()) {
		case ot.Retain:
			ob.Retain(d.count(false))
		case ot.Delete:
			ob.Delete(d.count(false))
		case ot.Insert:
			s := d.string()
			if d.err == nil && (s == "" || !utf8.ValidString(s)) {
				d.err = errBadText
			}
			ob.Insert(s)
		default:
			if d.err == nil {
				d.err = errBadKind
			}
		}
	}
	if err := d.finish(); err != nil {
		return storage.Record{}, err
	}
	r.Op = ob.Op()
	return r, nil
}

// decodeRecordTime reads only the commit time, for pruning by age.
func decodeRecordTime(v []byte) (time.Time, error) {
	d := newDecoder(v)
	t := fromUnixNano(d.varint())
	return t, d.err
}

func decodeMeta(id string, v []byte) (docMeta, error) {
	d := newDecoder(v)
	var m docMeta
	m.ID = id
	m.gen = d.uvarint()
	m.Rev = d.uvarint()
	m.Length = d.count(true)
	m.Created = fromUnixNano(d.varint())
	m.Updated = fromUnixNano(d.varint())
	m.snapRev = d.uvarint()
	m.cut = d.uvarint()
	if err := d.finish(); err != nil {
		return docMeta{}, err
	}
	if m.snapRev > m.Rev || m.cut > m.Rev {
		return docMeta{}, errBadCount
	}
	return m, nil
}

func decodeClient(v []byte) (seq, rev uint64, err error) {
	d := newDecoder(v)
	seq = d.uvarint()
	rev = d.uvarint()
	return seq, rev, d.finish()
}

func decodeSnapshot(v []byte) (text string, length int, err error) {
	d := newDecoder(v)
	length = d.count(true)
	if d.err != nil {
		return "", 0, d.err
	}
	if !utf8.Valid(d.b) || utf8.RuneCount(d.b) != length {
		return "", 0, errBadText
	}
	return string(d.b), length, nil
}
