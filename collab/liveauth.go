package collab

import (
	"fmt"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// Why a document ends a session whose token no longer holds.
var (
	errTokenExpired = fmt.Errorf("%w: token expired", ErrUnauthorized)
	errTokenRevoked = fmt.Errorf("%w: token revoked", ErrUnauthorized)
)

// cutSession is a session its document ended while the connection still
// holds a reference to the document.
type cutSession struct {
	doc     string
	session uint64
}

// reauthReq gives an editor the claims of a refreshed token.
type reauthReq struct {
	c        *conn
	claims   *Claims
	readOnly bool
}

// refresh serves auth: the new token replaces the connection's and the
// token of every joined document it grants, at once and in order with the
// connection's other requests (a submit sent after auth is judged by the
// new token). A refused token changes nothing.
func (c *conn) refresh(m *wire.Auth) {
	if c.srv.auth == nil {
		c.sendMsg(&wire.Authed{Type: wire.TypeAuthed, Docs: []string{}})
		return
	}
	claims, err := c.srv.verify(c.upgradeReq, m.Token)
	if err != nil {
		c.srv.countAuth(err)
		c.sendError(err, "", 0)
		return
	}
	c.claims = claims
	docs := []string{}
	for i := range c.docs {
		j := &c.docs[i]
		if c.srv.permits(claims, j.d.id, PermRead) != nil {
			continue
		}
		readOnly := claims.permOn(j.d.id).rank() < PermWrite.rank()
		j.claims, j.readOnly = claims, readOnly
		docs = append(docs, j.d.id)
		// A document gone meanwhile is found out by the next request.
		j.d.post(&reauthReq{c: c, claims: claims, readOnly: readOnly})
	}
	authed := &wire.Authed{Type: wire.TypeAuthed, Perm: string(claims.Perm), Docs: docs}
	if claims.ExpiresAt != nil {
		authed.Exp = claims.ExpiresAt.Unix()
	}
	c.sendMsg(authed)
}

// markCut records that a document ended session s; the reader releases
// the document at its next message (or when the connection ends).
func (c *conn) markCut(doc string, s uint64) {
	c.cutMu.Lock()
	c.cut = append(c.cut, cutSession{doc: doc, session: s})
	c.cutMu.Unlock()
}

// releaseCut forgets the documents that ended this connection's session,
// unless it joined them again since.
func (c *conn) releaseCut() {
	c.cutMu.Lock()
	cut := c.cut
	c.cut = nil
	c.cutMu.Unlock()
	for _, s := range cut {
		if j := c.docs.get(s.doc); j.d != nil && j.session == s.session {
			c.docs.remove(s.doc)
			c.srv.reg.release(j.d)
		}
	}
}

// reauth moves an editor to a refreshed token. An editor the document cut
// meanwhile stays cut: it joins again.
func (d *document) reauth(r *reauthReq) {
	e, ok := d.editors[r.c]
	if !ok {
		return
	}
	e.claims, e.readOnly = r.claims, r.readOnly
	if d.srv.revoked.check(e.claims, d.id) != nil { // revoked since the connection checked it
		d.cut(e, errTokenRevoked)
		return
	}
	d.armExpiry(deadline(e.claims))
}

// expiryC is the channel of the expiry timer; nil (never ready) without one.
func (d *document) expiryC() <-chan time.Time {
	if d.expiry == nil {
		return nil
	}
	return d.expiry.C
}

// armExpiry makes the expiry timer fire by at (zero: no deadline).
func (d *document) armExpiry(at time.Time) {
	if at.IsZero() || !d.expiryAt.IsZero() && !at.Before(d.expiryAt) {
		return
	}
	wait := at.Sub(d.srv.now())
	if d.expiry == nil {
		d.expiry = time.NewTimer(wait)
	} else {
		d.expiry.Reset(wait)
	}
	d.expiryAt = at
}

func (d *document) stopExpiry() {
	if d.expiry != nil {
		d.expiry.Stop()
	}
}

// expire ends the sessions whose tokens have expired and arms the timer
// for the next deadline.
func (d *document) expire() {
	now := d.srv.now()
	d.expiryAt = time.Time{}
	var next time.Time
	for _, e := range d.editors {
		switch at := deadline(e.claims); {
		case at.IsZero():
		case !now.Before(at):
			d.cut(e, errTokenExpired)
		case next.IsZero() || at.Before(next):
			next = at
		}
	}
	d.armExpiry(next)
}

// lapsed ends e's session if its token expired before the timer said so,
// and reports whether it did.
func (d *document) lapsed(e *editor) bool {
	at := deadline(e.claims)
	if at.IsZero() || d.srv.now().Before(at) {
		return false
	}
	d.cut(e, errTokenExpired)
	return true
}

// cut ends an editor's session for err, as a leave does for the others,
// and tells its connection, which keeps its unsent edits for a join with a
// new token.
func (d *document) cut(e *editor, err error) {
	d.flushOut()
	d.leave(e.c)
	d.srv.countAuth(err)
	e.c.sendError(err, d.id, 0)
	e.c.markCut(d.id, e.session)
}

// now is the time tokens are checked at.
func (s *Server) now() time.Time {
	if s.opts.clock != nil {
		return s.opts.clock()
	}
	return time.Now()
}
