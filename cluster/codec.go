package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
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

func encodeMessage(m message) []byte {
	size := 24
	for _, r := range m.recs {
		size += 32 + len(r.Author) + len(r.Client) + 8*r.Op.Len()
		for i := 0; i < r.Op.Len(); i++ {
			size += len(r.Op.Component(i).Text)
		}
	}
	b := make([]byte, 0, size)
	b = append(b, formatV1, m.kind)
	b = binary.AppendUvarint(b, m.epoch)
	b = binary.AppendVarint(b, unixNano(m.created))
	b = binary.AppendUvarint(b, uint64(len(m.recs)))
	for _, r := range m.recs {
		b = appendRecord(b, r)
	}
	return b
}

func appendRecord(b []byte, r storage.Record) []byte {
	b = binary.AppendUvarint(b, r.Rev)
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

// decoder reads the varint layout; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errDecode
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in what is left.
func (d *decoder) count() int {
	v := d.uvarint()
	if v > uint64(len(d.b)) || v > math.MaxInt32 {
		d.fail()
		return 0
	}
	return int(v)
}

func (d *decoder) string() string {
	n := d.count()
	s := string(d.b[:n])
	d.b = d.b[n:]
	if !utf8.ValidString(s) {
		d.fail()
	}
	return s
}

func decodeMessage(b []byte) (message, error) {
	d := &decoder{b: b}
	var m message
	if d.byte() != formatV1 {
		return m, fmt.Errorf("%w: unknown format", errDecode)
	}
	m.kind = d.byte()
	m.epoch = d.uvarint()
	m.created = fromUnixNano(d.varint())
	n := d.count()
	if m.kind != kindRecords && m.kind != kindTombstone {
		d.fail()
	}
	for i := 0; i < n && d.err == nil; i++ {
		m.recs = append(m.recs, d.record())
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err == nil {
		for i := 1; i < len(m.recs); i++ {
			if m.recs[i].Rev != m.recs[i-1].Rev+1 {
				d.fail()
			}
		}
	}
	return m, d.err
}

func (d *decoder) record() storage.Record {
	var r storage.Record
	r.Rev = d.uvarint()
	r.Time = fromUnixNano(d.varint())
	r.Seq = d.uvarint()
	r.Author = d.string()
	r.Client = d.string()
	n := d.count()
	var b ot.Builder
	for i := 0; i < n && d.err == nil; i++ {
		switch k := ot.Kind(d.byte()); k {
		case ot.Insert:
			b.Insert(d.string())
		case ot.Retain, ot.Delete:
			v := d.uvarint()
			if v == 0 || v > math.MaxInt32 {
				d.fail()
			}
			if k == ot.Retain {
				b.Retain(int(v))
			} else {
				b.Delete(int(v))
			}
		default:
			d.fail()
		}
	}
	r.Op = b.Op()
	if r.Rev == 0 {
		d.fail()
	}
	return r
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
}

// clientRec is a client's last committed sequence number and its revision.
type clientRec struct{ seq, rev uint64 }

func encodeSnapshot(s snapshot) []byte {
	b := make([]byte, 0, 48+len(s.text)+24*len(s.clients))
	b = append(b, formatV1)
	b = binary.AppendUvarint(b, s.epoch)
	b = binary.AppendUvarint(b, s.seq)
	b = binary.AppendUvarint(b, s.rev)
	b = binary.AppendVarint(b, unixNano(s.created))
	b = binary.AppendVarint(b, unixNano(s.updated))
	b = appendString(b, s.text)
	ids := make([]string, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		c := s.clients[id]
		b = appendString(b, id)
		b = binary.AppendUvarint(b, c.seq)
		b = binary.AppendUvarint(b, c.rev)
	}
	return b
}

func decodeSnapshot(b []byte) (snapshot, error) {
	d := &decoder{b: b}
	var s snapshot
	if d.byte() != formatV1 {
		return s, fmt.Errorf("%w: unknown snapshot format", errDecode)
	}
	s.epoch = d.uvarint()
	s.seq = d.uvarint()
	s.rev = d.uvarint()
	s.created = fromUnixNano(d.varint())
	s.updated = fromUnixNano(d.varint())
	s.text = d.string()
	n := d.count()
	s.clients = make(map[string]clientRec, n)
	for i := 0; i < n && d.err == nil; i++ {
		id := d.string()
		s.clients[id] = clientRec{seq: d.uvarint(), rev: d.uvarint()}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	return s, d.err
}
