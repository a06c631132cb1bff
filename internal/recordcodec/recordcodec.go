// Package recordcodec is the binary form of a storage.Record that the
// stores write (storage/bolt in its file, cluster in its messages) and the
// varint primitives their other values are built of, in one place so that
// both read and refuse the same bytes the same way.
//
// A record, without its revision (which its store keeps beside it):
//
//	time v, seq uv, author string, client string, n uv,
//	then n components: kind byte (1 retain, 2 insert, 3 delete),
//	followed by count uv (retain, delete) or text string (insert)
//
// uv is an unsigned varint, v a signed varint (a time is Unix nanoseconds,
// 0 for the zero time), a string its byte length uv then its bytes.
package recordcodec

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Why a value does not decode.
var (
	ErrTruncated = errors.New("truncated value")
	ErrTrailing  = errors.New("trailing bytes")
	ErrBadText   = errors.New("text is not valid UTF-8")
	ErrBadCount  = errors.New("count out of range")
	ErrBadKind   = errors.New("unknown component kind")
)

// maxCount bounds a count such as a length in code points: far above any
// document a server accepts, low enough that no int overflows.
const maxCount = math.MaxInt32 * 64

// AppendTime appends t as Unix nanoseconds, 0 for the zero time.
func AppendTime(b []byte, t time.Time) []byte {
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	return binary.AppendVarint(b, n)
}

// AppendString appends s's byte length, then s.
func AppendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// AppendRecord appends everything of r but its revision.
func AppendRecord(b []byte, r storage.Record) []byte {
	b = AppendTime(b, r.Time)
	b = binary.AppendUvarint(b, r.Seq)
	b = AppendString(b, r.Author)
	b = AppendString(b, r.Client)
	b = binary.AppendUvarint(b, uint64(r.Op.Len()))
	for i := 0; i < r.Op.Len(); i++ {
		c := r.Op.Component(i)
		b = append(b, byte(c.Kind))
		if c.Kind == ot.Insert {
			b = AppendString(b, c.Text)
		} else {
			b = binary.AppendUvarint(b, uint64(c.N))
		}
	}
	return b
}

// RecordSize is about how many bytes AppendRecord appends for r, to size
// a buffer.
func RecordSize(r storage.Record) int {
	n := 32 + len(r.Author) + len(r.Client) + 8*r.Op.Len()
	for i := 0; i < r.Op.Len(); i++ {
		n += len(r.Op.Component(i).Text)
	}
	return n
}

// Decoder reads values built with the functions above. The first error
// sticks: later reads return zero values, and Err reports it.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder reads b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, if any.
func (d *Decoder) Err() error { return d.err }

// Fail records err unless an error is recorded already.
func (d *Decoder) Fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

// Rest returns the bytes not read yet (nil after an error); they may live
// in a database's memory map: copy what is kept.
func (d *Decoder) Rest() []byte {
	if d.err != nil {
		return nil
	}
	return d.b
}

// Finish returns Err, or ErrTrailing if bytes are left.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = ErrTrailing
	}
	return d.err
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = ErrTruncated
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// Uvarint reads an unsigned varint.
func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrTruncated
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Time reads what AppendTime wrote.
func (d *Decoder) Time() time.Time {
	n := d.Varint()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Count reads a count such as a length in code points: positive, or zero
// if allowZero.
func (d *Decoder) Count(allowZero bool) int {
	v := d.Uvarint()
	if d.err == nil && (v > maxCount || (v == 0 && !allowZero)) {
		d.err = ErrBadCount
		return 0
	}
	return int(v)
}

// Str reads what AppendString wrote, copied out of the decoder's bytes.
func (d *Decoder) Str() string {
	n := d.Uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = ErrTruncated
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Record reads what AppendRecord wrote, as the record of revision rev.
// Inserted text must be valid UTF-8 and no component empty.
func (d *Decoder) Record(rev uint64) storage.Record {
	r := storage.Record{Rev: rev}
	r.Time = d.Time()
	r.Seq = d.Uvarint()
	r.Author = d.Str()
	r.Client = d.Str()
	n := d.Count(true)
	var ob ot.Builder
	for i := 0; i < n && d.err == nil; i++ {
		switch ot.Kind(d.Byte()) {
		case ot.Retain:
			ob.Retain(d.Count(false))
		case ot.Delete:
			ob.Delete(d.Count(false))
		case ot.Insert:
			s := d.Str()
			if d.err == nil && (s == "" || !utf8.ValidString(s)) {
				d.err = ErrBadText
			}
			ob.Insert(s)
		default:
			d.Fail(ErrBadKind)
		}
	}
	if d.err != nil {
		return storage.Record{}
	}
	r.Op = ob.Op()
	return r
}
