package collab

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/collabd/collab/storage"
)

// revocations are the revocations in force, checked at every join,
// refresh and HTTP request.
type revocations struct {
	now func() time.Time

	mu     sync.Mutex
	byID   map[string]storage.Revocation // guarded by mu: revocations of one token, by jti
	who    map[string]storage.Revocation // guarded by mu: revocations of a subject or name, by Key
	unread bool                          // guarded by mu: the stored ones could not be read yet
}

// errRevocationsUnread refuses every token while the stored revocations
// could not be read: a revoked token must not work because the store was
// down when the server started.
var errRevocationsUnread = &unavailableBecause{"the server could not read its token revocations yet"}

// revocationRetry is the first wait before reading the stored revocations
// again, doubling up to 32 times it.
var revocationRetry = time.Second

func newRevocations(now func() time.Time) *revocations {
	return &revocations{now: now, byID: make(map[string]storage.Revocation), who: make(map[string]storage.Revocation)}
}

// add records r and reports whether it revokes more than before (it is
// new, or newer than the one it replaces).
func (rs *revocations) add(r storage.Revocation) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	m := rs.who
	if r.ID != "" {
		m = rs.byID
	}
	old, ok := m[r.Key()]
	if ok {
		r = old.Merge(r)
	}
	m[r.Key()] = r
	rs.dropLapsedLocked()
	return !ok || r.At > old.At
}

// dropLapsedLocked forgets the revocations past their Until.
func (rs *revocations) dropLapsedLocked() {
	now := rs.now().Unix()
	for _, m := range []map[string]storage.Revocation{rs.byID, rs.who} {
		for k, r := range m {
			if r.Until < now {
				delete(m, k)
			}
		}
	}
}

// check refuses claims revoked for document doc ("": the connection or a
// server-wide endpoint, which only revocations for "*" concern besides the
// token's own).
func (rs *revocations) check(c *Claims, doc string) error {
	if c == nil {
		return nil
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.unread {
		return errRevocationsUnread
	}
	if c.ID != "" {
		if _, ok := rs.byID["jti\x00"+c.ID]; ok {
			return errTokenRevoked
		}
	}
	for _, r := range rs.who {
		if revokes(r, c, doc) {
			return errTokenRevoked
		}
	}
	return nil
}

// revokes reports whether r takes away c's access to document doc.
func revokes(r storage.Revocation, c *Claims, doc string) bool {
	if r.ID != "" {
		return c.ID == r.ID
	}
	switch {
	case r.Subject != "" && r.Subject != c.Subject,
		r.Name != "" && r.Name != c.Name,
		!scopeCovers(r.Doc, doc):
		return false
	}
	return c.IssuedAt == nil || c.IssuedAt.Unix() <= r.At
}

// scopeCovers reports whether a document id or prefix ending in "*"
// covers document id ("": every document, which only "*" covers).
func scopeCovers(scope, id string) bool {
	if id == "" {
		return scope == "*"
	}
	if prefix, ok := strings.CutSuffix(scope, "*"); ok {
		return strings.HasPrefix(id, prefix)
	}
	return scope == id
}

// permits checks that claims grant perm on document id and that no
// revocation took that away.
func (s *Server) permits(c *Claims, id string, perm Perm) error {
	if err := authorize(c, id, perm); err != nil {
		return err
	}
	return s.revoked.check(c, id)
}

// checkRevocation validates a revocation asked for through the API.
func checkRevocation(r storage.Revocation, now time.Time) error {
	switch {
	case r.ID == "" && r.Subject == "" && r.Name == "":
		return fmt.Errorf("%w: a revocation names a token (jti), a subject (sub) or a name", ErrBadRequest)
	case r.ID != "" && (r.Subject != "" || r.Name != "" || r.Doc != ""):
		return fmt.Errorf("%w: a revocation of a token (jti) takes no sub, name or doc", ErrBadRequest)
	case r.ID == "" && r.Doc != "*" && !storage.ValidDocID(strings.TrimSuffix(r.Doc, "*")):
		return fmt.Errorf("%w: doc must be a document id, a prefix ending in * or *", ErrBadRequest)
	case r.Until <= now.Unix():
		return fmt.Errorf("%w: until must be in the future: when the last token concerned expires (Unix seconds)", ErrBadRequest)
	case r.Until > now.Add(maxRevocation).Unix():
		return fmt.Errorf("%w: until is at most %s ahead", ErrBadRequest, maxRevocation)
	}
	return nil
}

// maxRevocation bounds how long a revocation is kept: tokens should live
// minutes to hours.
const maxRevocation = 366 * 24 * time.Hour

// Revoke puts r in force: persisted in the store when it keeps
// revocations (and so on every server sharing it), and the sessions it
// concerns here are ended at once with unauthorized. r.At is set to now.
func (s *Server) Revoke(ctx context.Context, r storage.Revocation) error {
	if err := checkRevocation(r, s.now()); err != nil {
		return err
	}
	r.At = s.now().Unix()
	if rs, ok := s.store.(storage.RevocationStore); ok {
		if err := rs.PutRevocation(ctx, r); err != nil {
			return err
		}
	}
	s.applyRevocation(r)
	return nil
}

// applyRevocation records r and ends the sessions it concerns on every
// loaded document.
func (s *Server) applyRevocation(r storage.Revocation) {
	if !s.revoked.add(r) {
		return
	}
	for _, d := range s.reg.all() {
		d.post(&revokeReq{r: r})
	}
}

// loadRevocations reads the stored revocations at start, and on a shared
// store follows those the other servers put. Until both are done every
// token is refused: a token revoked on another server must not work here.
func (s *Server) loadRevocations() {
	rs, ok := s.store.(storage.RevocationStore)
	if !ok {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		<-s.quit
		stop()
	}()
	if err := s.startRevocations(ctx, rs); err != nil {
		s.log.Error("collab: load revocations; tokens are refused until they are read", "err", err)
		s.revoked.setUnread(true)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.retryRevocations(ctx, rs)
		}()
	}
}

// startRevocations reads the stored revocations into s.revoked and, when
// the store is shared, starts following the ones other servers put.
func (s *Server) startRevocations(ctx context.Context, rs storage.RevocationStore) error {
	if err := s.readRevocations(rs); err != nil {
		return err
	}
	w, ok := s.store.(storage.RevocationWatcher)
	if !ok {
		return nil
	}
	if err := w.WatchRevocations(ctx, s.applyRevocation); err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	return nil
}

// readRevocations reads the stored revocations into s.revoked.
func (s *Server) readRevocations(rs storage.RevocationStore) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.StoreTimeout)
	list, err := rs.Revocations(ctx)
	cancel()
	if err != nil {
		return err
	}
	for _, r := range list {
		s.revoked.add(r)
	}
	return nil
}

// retryRevocations starts the revocations again, backing off, until it
// can or the server shuts down; then tokens are taken again.
func (s *Server) retryRevocations(ctx context.Context, rs storage.RevocationStore) {
	wait := revocationRetry
	for {
		t := time.NewTimer(wait)
		select {
		case <-s.quit:
			t.Stop()
			return
		case <-t.C:
		}
		if err := s.startRevocations(ctx, rs); err != nil {
			s.log.Warn("collab: load revocations", "err", err)
			wait = min(2*wait, 32*revocationRetry)
			continue
		}
		s.revoked.setUnread(false)
		s.log.Info("collab: token revocations read; tokens are taken again")
		return
	}
}

func (rs *revocations) setUnread(v bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.unread = v
}

// revokeReq asks a document to end the sessions r concerns.
type revokeReq struct{ r storage.Revocation }

// revoke ends the sessions whose tokens r revokes.
func (d *document) revoke(r *revokeReq) {
	for _, e := range d.editors {
		if e.claims != nil && revokes(r.r, e.claims, d.id) {
			d.cut(e, errTokenRevoked)
		}
	}
}

// find returns the revocation in force under key.
func (rs *revocations) find(key string) storage.Revocation {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r, ok := rs.byID[key]; ok {
		return r
	}
	return rs.who[key]
}

// list returns the revocations in force.
func (rs *revocations) list() []storage.Revocation {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.dropLapsedLocked()
	out := make([]storage.Revocation, 0, len(rs.byID)+len(rs.who))
	for _, m := range []map[string]storage.Revocation{rs.byID, rs.who} {
		for _, r := range m {
			out = append(out, r)
		}
	}
	return out
}
