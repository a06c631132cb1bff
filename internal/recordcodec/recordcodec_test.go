package recordcodec

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

func sample() storage.Record {
	var b ot.Builder
	return storage.Record{
		Rev: 7, Op: b.Retain(2).Insert("é😀").Delete(3).Retain(1).Op(),
		Author: "Ann", Client: "tab-1", Seq: 300, Time: time.Unix(0, 1_700_000_000_123_456_789),
	}
}

// TestRecordBytes pins the layout of the package comment: files and
// messages written before must keep decoding.
func TestRecordBytes(t *testing.T) {
	want := []byte{
		0xaa, 0xb4, 0xae, 0xd8, 0xc7, 0xbf, 0xce, 0x97, 0x2f, // time: zigzag varint of the Unix nanoseconds
		0xac, 0x02, // seq 300
		3, 'A', 'n', 'n', 5, 't', 'a', 'b', '-', '1',
		4,    // components
		1, 2, // retain 2
		2, 6, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80, // insert "é😀"
		3, 3, // delete 3
		1, 1, // retain 1
	}
	got := AppendRecord(nil, sample())
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendRecord = % x\nwant          % x", got, want)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, r := range []storage.Record{sample(), {Rev: 1}, {Rev: 2, Op: ot.Op{}}} {
		d := NewDecoder(AppendRecord(nil, r))
		got := d.Record(r.Rev)
		if err := d.Finish(); err != nil {
			t.Fatalf("decode %+v: %v", r, err)
		}
		if got.Rev != r.Rev || !got.Op.Equal(r.Op) || got.Author != r.Author || got.Client != r.Client ||
			got.Seq != r.Seq || !got.Time.Equal(r.Time) {
			t.Errorf("round trip = %+v, want %+v", got, r)
		}
	}
}

// TestRecordRefusesDamage: a cut, a bad kind, an empty count, invalid
// UTF-8 in an insert or bytes after the record fail, never half-decode.
func TestRecordRefusesDamage(t *testing.T) {
	good := AppendRecord(nil, sample())
	for n := range len(good) {
		d := NewDecoder(good[:n])
		d.Record(7)
		if !errors.Is(d.Finish(), ErrTruncated) {
			t.Errorf("record cut to %d of %d bytes: %v, want ErrTruncated", n, len(good), d.Err())
		}
	}
	damage := func(at int, b byte) []byte {
		v := bytes.Clone(good)
		v[at] = b
		return v
	}
	i := bytes.IndexByte(good, 0xc3) // the insert's first byte
	for name, tc := range map[string]struct {
		v    []byte
		want error
	}{
		"kind":     {damage(i-2, 9), ErrBadKind},
		"count":    {damage(i-3, 0), ErrBadCount},
		"utf-8":    {damage(i, 0xff), ErrBadText},
		"trailing": {append(bytes.Clone(good), 0), ErrTrailing},
	} {
		d := NewDecoder(tc.v)
		r := d.Record(7)
		if err := d.Finish(); !errors.Is(err, tc.want) || r.Rev != 0 && err != ErrTrailing {
			t.Errorf("%s: %v (record %+v), want %v", name, err, r, tc.want)
		}
	}
}
