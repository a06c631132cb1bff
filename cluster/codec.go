package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/internal/authorship"
	"github.com/collabd/collab/internal/recordcodec"
	"github.com/collabd/collab/storage"
)

// Every message and snapshot starts with this byte, so that a later layout
// can be told apart.
const formatV1 = 1

// Message kinds.
const (
	kindRecords   = 1 // one commit: consecutive records of one document
	kindTombstone = 2 // the document was deleted; later records start a new incarnation
)

// message is the decoded payload of one stream message.
type message struct {
	kind    byte
	epoch   uint64    // incarnation: stream sequence of the tombstone before it, 0 for the first
	created time.Time // creation of the incarnation
	recs    []storage.Record
}

// firstRev and lastRev are the revisions the message holds; a tombstone
// holds none and ends at revision 0.
func (m message) lastRev() uint64 {
	if len(m.recs) == 0 {
		return 0
	}
	return m.recs[len(m.recs)-1].Rev
}

var errDecode = errors.New("cluster: undecodable message")

// encodeKey turns a document id into one subject token and KV key: letters,
// digits, '-' and '_' stay, every other byte becomes '=' and two hex
// digits. Subjects may not hold '.', '*', '>' or white space; ids may.
func encodeKey(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(id))
	for i := 0; i < len(id); i++ {
		c := id[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('=')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// decodeKey reverses encodeKey; false if key is not one of its results.
func decodeKey(key string) (string, bool) {
	if !strings.Contains(key, "=") {
		return key, key != ""
	}
	b := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != '=' {
			b = append(b, key[i])
			continue
		}
		if i+2 >= len(key) {
			return "", false
		}
		hi, lo := unhex(key[i+1]), unhex(key[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		b = append(b, byte(hi<<4|lo))
		i += 2
	}
	return string(b), true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func encodeMessage(m message) []byte {
	size := 24
	for _, r := range m.recs {
		size += recordcodec.RecordSize(r)
	}
	b := make([]byte, 0, size)
	b = append(b, formatV1, m.kind)
	b = binary.AppendUvarint(b, m.epoch)
	b = recordcodec.AppendTime(b, m.created)
	b = binary.AppendUvarint(b, uint64(len(m.recs)))
	for _, r := range m.recs {
		b = binary.AppendUvarint(b, r.Rev)
		b = recordcodec.AppendRecord(b, r)
	}
	return b
}

func decodeMessage(b []byte) (message, error) {
	d := recordcodec.NewDecoder(b)
	var m message
	if d.Byte() != formatV1 {
		return m, fmt.Errorf("%w: unknown format", errDecode)
	}
	m.kind = d.Byte()
	m.epoch = d.Uvarint()
	m.created = d.Time()
	n := d.Count(true)
	if m.kind != kindRecords && m.kind != kindTombstone {
		d.Fail(errors.New("unknown message kind"))
	}
	for i := 0; i < n && d.Err() == nil; i++ {
		rev := d.Uvarint()
		if rev == 0 || i > 0 && rev != m.recs[i-1].Rev+1 {
			d.Fail(errors.New("records are not consecutive revisions"))
		}
		m.recs = append(m.recs, d.Record(rev))
	}
	if err := d.Finish(); err != nil {
		return message{}, fmt.Errorf("%w: %w", errDecode, err)
	}
	return m, nil
}

// snapshot is a document's state at one message of its subject, kept in
// the snapshot bucket so that loading replays only what came after.
type snapshot struct {
	epoch   uint64
	seq     uint64 // stream sequence of the last message it includes
	rev     uint64
	created time.Time
	updated time.Time
	text    string
	clients map[string]clientRec
	// authors is who inserted each code point of text; nil in a snapshot
	// written before authorship was kept, whose text is nobody's.
	authors []storage.Span
}

// clientRec is a client's last committed sequence number and its revision.
type clientRec struct{ seq, rev uint64 }

func encodeSnapshot(s snapshot) []byte {
	b := make([]byte, 0, 48+len(s.text)+24*len(s.clients))
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, s.epoch)
	b = binary.AppendUvarint(b, s.seq)
	b = binary.AppendUvarint(b, s.rev)
	b = recordcodec.AppendTime(b, s.created)
	b = recordcodec.AppendTime(b, s.updated)
	b = recordcodec.AppendString(b, s.text)
	ids := make([]string, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		c := s.clients[id]
		b = recordcodec.AppendString(b, id)
		b = binary.AppendUvarint(b, c.seq)
		b = binary.AppendUvarint(b, c.rev)
	}
	if s.authors != nil { // optional, last: older snapshots end before it
		b = recordcodec.AppendString(b, string(authorship.Encode(s.authors)))
	}
	return b
}

func decodeSnapshot(b []byte) (snapshot, error) {
	d := recordcodec.NewDecoder(b)
	var s snapshot
	if d.Byte() != formatV1 {
		return s, fmt.Errorf("%w: unknown snapshot format", errDecode)
	}
	s.epoch = d.Uvarint()
	s.seq = d.Uvarint()
	s.rev = d.Uvarint()
	s.created = d.Time()
	s.updated = d.Time()
	s.text = d.Str()
	if !utf8.ValidString(s.text) {
		d.Fail(recordcodec.ErrBadText)
	}
	n := d.Count(true)
	s.clients = make(map[string]clientRec, min(n, 1024))
	for i := 0; i < n && d.Err() == nil; i++ {
		id := d.Str()
		s.clients[id] = clientRec{seq: d.Uvarint(), rev: d.Uvarint()}
	}
	if len(d.Rest()) != 0 { // authorship, in snapshots written since it is kept
		spans, err := authorship.Decode([]byte(d.Str()))
		if err != nil {
			d.Fail(err)
		}
		s.authors = spans
	}
	if err := d.Finish(); err != nil {
		return snapshot{}, fmt.Errorf("%w: %w", errDecode, err)
	}
	return s, nil
}
