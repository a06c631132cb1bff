package bolt

import (
	"encoding/binary"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/internal/recordcodec"
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
	// sized says opBytes and snapBytes are known: metadata written before
	// they were kept has neither until a checkpoint or snapshot measures them.
	sized     bool
	opBytes   uint64 // stored bytes of the ops after snapRev
	snapBytes uint64 // stored bytes of the snapshot at snapRev and its authorship
}

// encodeRecord encodes everything of r but its revision, which is the key.
func encodeRecord(r storage.Record) []byte {
	b := make([]byte, 0, recordcodec.RecordSize(r)+1)
	return recordcodec.AppendRecord(append(b, formatV1), r)
}

func encodeMeta(m docMeta) []byte {
	b := make([]byte, 0, 64)
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, m.gen)
	b = binary.AppendUvarint(b, m.Rev)
	b = binary.AppendUvarint(b, uint64(m.Length))
	b = recordcodec.AppendTime(b, m.Created)
	b = recordcodec.AppendTime(b, m.Updated)
	b = binary.AppendUvarint(b, m.snapRev)
	b = binary.AppendUvarint(b, m.cut)
	if m.sized {
		b = binary.AppendUvarint(b, m.opBytes)
		b = binary.AppendUvarint(b, m.snapBytes)
	}
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

var errFormat = errors.New("unknown format byte")

// newDecoder reads a value of this package: its format byte, then fields.
func newDecoder(b []byte) *recordcodec.Decoder {
	d := recordcodec.NewDecoder(b)
	if d.Byte() != formatV1 {
		d.Fail(errFormat)
	}
	return d
}

func decodeRecord(rev uint64, v []byte) (storage.Record, error) {
	d := newDecoder(v)
	r := d.Record(rev)
	if err := d.Finish(); err != nil {
		return storage.Record{}, err
	}
	return r, nil
}

// decodeRecordTime reads only the commit time, for pruning by age.
func decodeRecordTime(v []byte) (time.Time, error) {
	d := newDecoder(v)
	t := d.Time()
	return t, d.Err()
}

func decodeMeta(id string, v []byte) (docMeta, error) {
	d := newDecoder(v)
	var m docMeta
	m.ID = id
	m.gen = d.Uvarint()
	m.Rev = d.Uvarint()
	m.Length = d.Count(true)
	m.Created = d.Time()
	m.Updated = d.Time()
	m.snapRev = d.Uvarint()
	m.cut = d.Uvarint()
	if len(d.Rest()) > 0 { // absent in metadata written before they were kept
		m.sized = true
		m.opBytes = d.Uvarint()
		m.snapBytes = d.Uvarint()
	}
	if err := d.Finish(); err != nil {
		return docMeta{}, err
	}
	if m.snapRev > m.Rev || m.cut > m.Rev {
		return docMeta{}, recordcodec.ErrBadCount
	}
	return m, nil
}

func decodeClient(v []byte) (seq, rev uint64, err error) {
	d := newDecoder(v)
	seq = d.Uvarint()
	rev = d.Uvarint()
	return seq, rev, d.Finish()
}

func decodeSnapshot(v []byte) (text string, length int, err error) {
	d := newDecoder(v)
	length = d.Count(true)
	if err := d.Err(); err != nil {
		return "", 0, err
	}
	rest := d.Rest()
	if !utf8.Valid(rest) || utf8.RuneCount(rest) != length {
		return "", 0, recordcodec.ErrBadText
	}
	return string(rest), length, nil
}
