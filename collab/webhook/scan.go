package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/collabd/collab/storage"
)

// listPage is how many documents scan lists at once.
const listPage = 1000

// scan loads the cursors and compares them with every document in the
// store: changes, deletions and versions committed but not in events
// (the sender was down, or crashed before it made them) become news, and
// pending events are due. On the very first start it takes every
// document's current state as delivered instead: the receiver hears of
// what happens from then on.
func (s *Sender) scan(ctx context.Context) error {
	state, err := s.cur.Cursors(ctx, stateConsumer)
	if err != nil {
		return err
	}
	stored, err := s.cur.Cursors(ctx, consumer)
	if err != nil {
		return err
	}
	started := state[keyStarted] != nil
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, b := range stored {
		c, err := decodeCursor(b)
		if err != nil {
			return fmt.Errorf("webhook: cursor of %q: %w", id, err)
		}
		s.state(id).cur = c
	}
	now := time.Now()
	listed := make(map[string]bool)
	first := make(map[string][]byte)
	err = s.eachDoc(ctx, func(m storage.Meta) error {
		listed[m.ID] = true
		st := s.state(m.ID)
		if !started {
			c, err := s.startingCursor(ctx, m)
			first[m.ID] = c.encode()
			st.cur = c
			return err
		}
		gone, head := compare(st.cur, &m)
		if gone {
			st.deletes++
		}
		st.head = head
		vs, err := s.newVersions(ctx, m.ID, st.cur, &m)
		st.versions = vs
		return err
	})
	if err != nil {
		return err
	}
	for id, st := range s.docs {
		if !listed[id] {
			st.deletes++
		}
		if st.busy() {
			s.setDue(st, now)
			st.since = now
			if len(st.cur.Pending) > 0 && !st.cur.Since.IsZero() {
				st.since = st.cur.Since
			}
		}
	}
	if started {
		return nil
	}
	if err := s.cur.PutCursors(ctx, consumer, first); err != nil {
		return err
	}
	return s.cur.PutCursors(ctx, stateConsumer, map[string][]byte{keyStarted: []byte(now.UTC().Format(time.RFC3339))})
}

// startingCursor takes the document's state as delivered.
func (s *Sender) startingCursor(ctx context.Context, m storage.Meta) (cursor, error) {
	c := cursor{Rev: m.Rev, Created: m.Created}
	if v, ok := s.src.(Versioner); ok {
		vs, err := v.Versions(ctx, m.ID)
		if err != nil {
			return c, err
		}
		for _, v := range vs {
			if v.Created.After(c.Versioned) {
				c.Versioned = v.Created
			}
		}
	}
	return c, nil
}

// eachDoc calls fn with every document of the store, in id order.
func (s *Sender) eachDoc(ctx context.Context, fn func(storage.Meta) error) error {
	after := ""
	for {
		page, err := s.src.List(ctx, after, listPage)
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(page) < listPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}
