package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

// news is a snapshot of a document's notifications, taken by step.
type news struct {
	head     uint64
	deletes  int
	checks   int
	versions []storage.Version
}

// step makes the document's next events if it has none pending, then
// delivers the first pending one.
func (s *Sender) step(ctx context.Context, id string) {
	s.mu.Lock()
	st := s.docs[id]
	cur := st.cur
	n := news{head: st.head, deletes: st.deletes, checks: st.checks, versions: slices.Clone(st.versions)}
	s.mu.Unlock()
	if len(cur.Pending) == 0 {
		next, err := s.makeEvents(ctx, id, cur, n)
		if err == nil && len(next.Pending) > 0 {
			err = s.commit(ctx, id, next)
		}
		if err != nil {
			s.retry(id, err)
			return
		}
		s.mu.Lock()
		st.cur = next
		st.deletes -= n.deletes
		st.checks -= n.checks
		st.versions = st.versions[len(n.versions):]
		s.settle(st)
		s.mu.Unlock()
		cur = next
		if len(cur.Pending) == 0 {
			return
		}
	}
	if err := s.post(ctx, cur.Pending[0]); err != nil {
		s.failures.Inc()
		s.retry(id, err)
		return
	}
	s.delivered.Inc()
	next := cur
	next.Pending = cur.Pending[1:]
	if len(next.Pending) == 0 {
		next.Since = time.Time{}
	}
	if err := s.commit(ctx, id, next); err != nil {
		s.retry(id, err) // delivered again after the retry: the receiver drops it by its id
		return
	}
	s.mu.Lock()
	st.cur = next
	st.attempts = 0
	s.settle(st)
	s.mu.Unlock()
}

// settle makes st due at once if it has more to deliver, or idle. Holding mu.
func (s *Sender) settle(st *docState) {
	switch {
	case len(st.cur.Pending) > 0 || st.deletes > 0 || st.checks > 0 || len(st.versions) > 0:
		s.setDue(st, time.Now())
	case st.head > st.cur.Rev:
		// Changes that arrived while the events were made: their own window.
		if st.due.IsZero() {
			s.setDue(st, time.Now().Add(s.opts.Window))
		}
	default:
		s.setDue(st, time.Time{})
		st.since = time.Time{}
	}
	if !st.due.IsZero() && st.since.IsZero() {
		st.since = time.Now()
	}
}

// commit stores id's cursor durably.
func (s *Sender) commit(ctx context.Context, id string, c cursor) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	return s.cur.PutCursors(ctx, consumer, map[string][]byte{id: c.encode()})
}

// makeEvents returns the cursor after the events the news calls for, in
// the order they happened: the deletion (the changes not yet in events of
// a deleted document are gone with it), the changes since the cursor, the
// versions named.
func (s *Sender) makeEvents(ctx context.Context, id string, cur cursor, n news) (cursor, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if n.checks > 0 {
		doc, err := s.src.Load(ctx, id)
		var meta *storage.Meta
		switch {
		case err == nil:
			meta = &doc.Meta
		case !errors.Is(err, storage.ErrNotFound):
			return cur, err
		}
		gone, head := compare(cur, meta)
		if gone {
			n.deletes++
		}
		n.head = max(n.head, head)
		vs, err := s.newVersions(ctx, id, cur, meta)
		if err != nil {
			return cur, err
		}
		n.versions = append(n.versions, vs...)
	}
	next := cur
	next.Pending = nil
	now := time.Now().UTC()
	add := func(e Event) {
		e.ID, e.Doc, e.Time = newEventID(), id, now
		b, _ := json.Marshal(e)
		next.Pending = append(next.Pending, b)
	}
	if n.deletes > 0 && (cur.Rev > 0 || !cur.Created.IsZero()) {
		add(Event{Type: TypeDeleted})
		next = cursor{Pending: next.Pending}
	}
	if n.head > next.Rev {
		authors, created, err := s.authors(ctx, id, next.Rev, n.head)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			// Deleted since, with its versions: its deletion is news to come.
			n.versions = nil
		case err != nil:
			return cur, err
		default:
			if next.Rev == 0 {
				next.Created = created
			}
			add(Event{Type: TypeChanged, FromRev: next.Rev, ToRev: n.head, Authors: authors})
			next.Rev = n.head
		}
	}
	slices.SortFunc(n.versions, func(a, b storage.Version) int { return a.Created.Compare(b.Created) })
	for _, v := range n.versions {
		if v.Created.After(next.Versioned) {
			add(Event{Type: TypeVersionCreated, Version: &Version{Rev: v.Rev, Name: v.Name, Author: v.Author, Created: v.Created}})
			next.Versioned = v.Created
		}
	}
	if len(next.Pending) > 0 && next.Since.IsZero() {
		next.Since = now
	}
	return next, nil
}

// compare says what the store's meta (nil: no such document) means for
// a cursor: whether the document it followed is gone (deleted, perhaps
// created anew), and the revision to cover.
func compare(cur cursor, meta *storage.Meta) (gone bool, head uint64) {
	known := cur.Rev > 0 || !cur.Created.IsZero()
	if meta == nil {
		return known, 0
	}
	if meta.Rev < cur.Rev || (!cur.Created.IsZero() && !meta.Created.Equal(cur.Created)) {
		return true, meta.Rev
	}
	return false, meta.Rev
}

// newVersions are the versions of the document named after those the
// cursor announced (all of them for a document created anew).
func (s *Sender) newVersions(ctx context.Context, id string, cur cursor, meta *storage.Meta) ([]storage.Version, error) {
	v, ok := s.src.(Versioner)
	if !ok || meta == nil {
		return nil, nil
	}
	all, err := v.Versions(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if gone, _ := compare(cur, meta); gone {
		return all, nil
	}
	return slices.DeleteFunc(all, func(v storage.Version) bool { return !v.Created.After(cur.Versioned) }), nil
}

// opsPage bounds the records read at once to list a range's authors.
const opsPage = 1000

// authors are the editors of the ops from < rev <= to, each once, and the
// time of revision 1 if the range holds it (the document's creation).
// Pruned history yields the authors of what is kept.
func (s *Sender) authors(ctx context.Context, id string, from, to uint64) ([]Author, time.Time, error) {
	authors := []Author{}
	seen := make(map[Author]bool)
	var created time.Time
	for at := from; at < to; {
		end := min(at+opsPage, to)
		recs, err := s.src.Ops(ctx, id, at, end)
		if errors.Is(err, storage.ErrPruned) {
			at = end
			continue
		}
		if err != nil {
			return nil, created, err
		}
		for _, r := range recs {
			if r.Rev == 1 {
				created = r.Time
			}
			a := Author{Name: r.Author}
			if r.Client != "" {
				a.ID = wire.PublicID(r.Client)
			}
			if !seen[a] {
				seen[a] = true
				authors = append(authors, a)
			}
		}
		at = end
	}
	return authors, created, nil
}

// post sends one event, signed now; nil if the receiver answered 2xx.
func (s *Sender) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "collabd-webhook")
	req.Header.Set(SignatureHeader, Sign(s.opts.Secret, body, time.Now()))
	res, err := s.opts.Client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("webhook: receiver answered %s", res.Status)
	}
	return nil
}

func jitter(d time.Duration) time.Duration { return rand.N(d + 1) }
