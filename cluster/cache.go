package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

// head is what a node knows of the newest message of a document's subject.
type head struct {
	epoch   uint64    // incarnation of the document
	seq     uint64    // stream sequence of the newest message; 0: none
	rev     uint64    // its last revision; 0 for a tombstone
	created time.Time // creation of the incarnation
	updated time.Time // time of the last record
	length  int       // code points after the last record
	deleted bool      // no message, or the newest is a tombstone
}

// exists reports whether the head is a live document.
func (h head) exists() bool { return !h.deleted && h.rev > 0 }

func headOf(seq uint64, m message) head {
	h := head{epoch: m.epoch, seq: seq, created: m.created}
	if m.kind == kindTombstone {
		h.epoch, h.deleted = seq, true
		return h
	}
	last := m.recs[len(m.recs)-1]
	h.rev, h.updated, h.length = last.Rev, last.Time, last.Op.TargetLen()
	return h
}

// mark says which revisions one message of the subject holds, so that a
// read can start near the revision it wants instead of at the beginning.
type mark struct{ epoch, seq, first, last uint64 }

const maxMarks = 256

// docCache is what the Store remembers of one document. Guarded by Store.mu.
type docCache struct {
	head  head
	known bool   // head is set
	marks []mark // increasing seq, at most maxMarks
	// clients is every client's last committed seq as of message
	// clientsSeq of incarnation clientsEpoch; nil when unknown.
	clients                              map[string]clientRec
	clientsSeq, clientsEpoch, clientsRev uint64
	snapEpoch, snapRev                   uint64 // newest snapshot known
	snapping                             bool   // a snapshot is being written
	follows                              int    // feeds open on the document
}

// cache returns id's entry, creating it; s.mu must be held.
func (s *Store) cache(id string) *docCache {
	c := s.docs[id]
	if c == nil {
		if len(s.docs) >= maxCached {
			s.evictLocked()
		}
		c = &docCache{}
		s.docs[id] = c
	}
	return c
}

// evictLocked forgets documents nobody follows, about half of them.
func (s *Store) evictLocked() {
	n := 0
	for id, c := range s.docs {
		if c.follows == 0 && !c.snapping {
			delete(s.docs, id)
			if n++; n >= maxCached/2 {
				return
			}
		}
	}
}

// note records message seq of id: the head moves forward, a mark is kept,
// and the client records follow when the message continues them.
func (s *Store) note(id string, seq uint64, m message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cache(id)
	if !c.known || seq > c.head.seq {
		c.head, c.known = headOf(seq, m), true
	}
	if m.kind == kindTombstone {
		c.marks, c.clients = c.marks[:0], nil
		return
	}
	if n := len(c.marks); n == 0 || c.marks[n-1].seq < seq {
		if n >= maxMarks {
			c.marks = append(c.marks[:0], c.marks[n/2:]...)
		}
		c.marks = append(c.marks, mark{epoch: m.epoch, seq: seq, first: m.recs[0].Rev, last: m.lastRev()})
	}
	if c.clients != nil && c.clientsEpoch == m.epoch && m.recs[0].Rev == c.clientsRev+1 && seq > c.clientsSeq {
		addClients(c.clients, m.recs)
		c.clientsSeq, c.clientsRev = seq, m.lastRev()
	}
}

func addClients(clients map[string]clientRec, recs []storage.Record) {
	for _, r := range recs {
		if r.Client != "" {
			clients[r.Client] = clientRec{seq: r.Seq, rev: r.Rev}
		}
	}
}

// cachedHead returns the remembered head of id.
func (s *Store) cachedHead(id string) (head, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.docs[id]; c != nil && c.known {
		return c.head, true
	}
	return head{}, false
}

// forgetHead drops the remembered head of id, so that the next commit
// asks the stream.
func (s *Store) forgetHead(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.docs[id]; c != nil {
		c.known = false
	}
}

// startAt returns a stream sequence after which reading the subject finds
// revision rev+1 of incarnation epoch: the end of a message that ends at
// rev, or the beginning of one that holds it, else the incarnation's start.
func (s *Store) startAt(id string, epoch, rev uint64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := epoch
	c := s.docs[id]
	if c == nil {
		return start
	}
	for _, m := range c.marks {
		if m.epoch != epoch || m.first > rev+1 {
			continue
		}
		if m.last <= rev {
			start = max(start, m.seq)
		} else {
			start = max(start, m.seq-1) // m holds rev+1: read m itself
		}
	}
	return start
}

// lastMsg reads the newest message of id's subject from the stream leader
// and remembers it. A missing subject is a deleted head at epoch 0.
func (s *Store) lastMsg(ctx context.Context, id string) (head, error) {
	var raw *jetstream.RawStreamMsg
	err := s.retry(ctx, func(ctx context.Context) (err error) {
		raw, err = s.stream.GetLastMsgForSubject(ctx, s.docSubject(id))
		return err
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return head{deleted: true}, nil
	}
	if err != nil {
		return head{}, natsErr("read head", err)
	}
	m, err := decodeMessage(raw.Data)
	if err != nil {
		return head{}, fmt.Errorf("%w: document %q message %d: %v", storage.ErrCorrupt, id, raw.Sequence, err)
	}
	s.note(id, raw.Sequence, m)
	return headOf(raw.Sequence, m), nil
}

// existing returns the head of a live document, or ErrNotFound.
func (s *Store) existing(ctx context.Context, id string) (head, error) {
	if err := storage.CheckDocID(id); err != nil {
		return head{}, err
	}
	h, err := s.lastMsg(ctx, id)
	if err != nil {
		return head{}, err
	}
	if !h.exists() {
		return head{}, fmt.Errorf("%w: %s", storage.ErrNotFound, id)
	}
	return h, nil
}
