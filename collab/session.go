package collab

import (
	"errors"
	"fmt"
	"time"

	"github.com/collabd/collab/collab/internal/wsconn"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

// pong answers every ping; shared, never changed.
var pong = encode(&wire.Pong{Type: wire.TypePong})

// handle serves one text message from the client. It runs on the reader.
func (c *conn) handle(data []byte) {
	recv := time.Now()
	msg, err := wire.DecodeClient(data)
	if err != nil {
		doc, seq := submitOf(err)
		c.sendError(err, doc, seq)
		return
	}
	if h, ok := msg.(*wire.Hello); ok {
		c.hello(h)
		return
	}
	if _, ok := msg.(*wire.Ping); ok {
		c.send(pong)
		return
	}
	if c.client == "" {
		c.sendError(ErrHelloRequired, "", 0)
		return
	}
	c.releaseCut()
	switch m := msg.(type) {
	case *wire.Auth:
		c.refresh(m)
	case *wire.Join:
		if err := c.join(m); err != nil {
			c.srv.countAuth(err)
			c.sendError(err, m.Doc, 0)
		}
	case *wire.Leave:
		if c.docs.get(m.Doc).d == nil {
			c.sendError(ErrNotJoined, m.Doc, 0)
			return
		}
		c.leaveDoc(m.Doc)
	case *wire.Submit:
		j := c.docs.get(m.Doc)
		if j.d == nil {
			c.sendError(ErrNotJoined, m.Doc, m.Seq)
			return
		}
		if j.readOnly {
			c.srv.countAuth(ErrReadOnly)
			c.sendError(ErrReadOnly, m.Doc, m.Seq)
			return
		}
		if c.srv.opts.WriteRate > 0 && !takeTokens(&c.writeTokens, &c.writeLast, float64(m.Op.Size()), c.srv.opts.WriteRate, float64(c.srv.opts.WriteBurst), recv) {
			c.srv.limitHit(limitWriteRate)
			c.sendError(errWriteRate, m.Doc, m.Seq)
			return
		}
		c.post(j.d, &submitReq{c: c, client: c.client, name: c.name, rev: m.Rev, seq: m.Seq, op: m.Op, recv: recv}, m.Seq)
	case *wire.Presence:
		d := c.docs.get(m.Doc).d
		if d == nil {
			c.sendError(ErrNotJoined, m.Doc, 0)
			return
		}
		c.post(d, &presenceReq{c: c, p: *m}, 0)
	}
}

// post hands a request to a joined document; if the document went away
// (deleted, failed) the connection forgets it and says so.
func (c *conn) post(d *document, req any, seq uint64) {
	if !d.post(req) {
		c.docs.remove(d.id)
		c.srv.reg.release(d)
		c.sendError(ErrNotJoined, d.id, seq)
	}
}

func (c *conn) hello(h *wire.Hello) {
	if h.Version != wire.Version {
		c.sendError(ErrVersion, "", 0)
		c.closeWith(wsconn.CloseProtocolError, "unsupported protocol version")
		return
	}
	if !storage.ValidClientID(h.Client) {
		c.sendError(fmt.Errorf("%w: %q", ErrInvalidClient, truncate(h.Client, 64)), "", 0)
		return
	}
	if c.client != "" && c.client != h.Client {
		c.sendError(fmt.Errorf("%w: the client id cannot change", ErrBadMessage), "", 0)
		return
	}
	if h.Color != "" && !wire.ValidColor(h.Color) {
		c.sendError(fmt.Errorf("%w: color must be #rgb, #rrggbb or #rrggbbaa", ErrBadMessage), "", 0)
		return
	}
	if h.Token != "" && c.srv.auth != nil {
		claims, err := c.srv.verify(c.upgradeReq, h.Token)
		if err != nil {
			c.srv.countAuth(err)
			c.sendError(err, "", 0)
			c.closeWith(wsconn.ClosePolicyViolation, "unauthorized")
			return
		}
		c.claims = claims
	}
	c.helloed.Store(true)
	c.stopHelloTimer()
	c.name, c.color = truncate(h.Name, 64), h.Color
	if c.client == "" {
		c.client = h.Client
		c.srv.register(c)
	}
	c.sendMsg(&wire.Welcome{Type: wire.TypeWelcome, Version: wire.Version, Client: wire.PublicID(c.client), Limits: c.srv.limits})
}

// join starts editing a document: acquire it (loading it if needed) and
// wait until its owner has sent "joined". Joining a document again
// restarts the session on it (a resync).
func (c *conn) join(m *wire.Join) error {
	if !storage.ValidDocID(m.Doc) {
		return ErrInvalidDocID
	}
	claims, name, err := c.authorizeJoin(m)
	if err != nil {
		return err
	}
	readOnly := claims != nil && claims.permOn(m.Doc).rank() < PermWrite.rank()
	if c.docs.get(m.Doc).d != nil {
		c.leaveDoc(m.Doc)
	}
	if len(c.docs) >= c.srv.opts.MaxDocs {
		c.srv.limitHit(limitDocs)
		return ErrTooManyDocs
	}
	d, err := c.srv.reg.acquire(m.Doc)
	if err != nil {
		return err
	}
	reply := make(chan error, 1)
	c.sessions++
	req := &joinReq{c: c, client: c.client, name: name, color: c.color, rev: m.Rev, readOnly: readOnly,
		claims: claims, session: c.sessions, reply: reply}
	if err := await(d, req, reply, ErrUnavailable); err != nil {
		c.srv.reg.release(d)
		return err
	}
	c.docs.set(joinedDoc{d: d, readOnly: readOnly, claims: claims, session: c.sessions})
	return nil
}

// authorizeJoin checks the join's token (or the connection's, whose expiry
// and revocation are checked again at every join) before anything is
// loaded, and returns the claims the session runs on (nil in open mode)
// and the name to show: the token's, when it carries one.
func (c *conn) authorizeJoin(m *wire.Join) (claims *Claims, name string, err error) {
	if c.srv.auth == nil {
		return nil, c.name, nil
	}
	claims = c.claims
	switch {
	case m.Token != "":
		if claims, err = c.srv.auth.check(c.upgradeReq, m.Token); err != nil {
			return nil, "", err
		}
	case claims == nil:
		return nil, "", fmt.Errorf("%w: token required", ErrUnauthorized)
	default:
		if err := c.srv.auth.stillValid(claims); err != nil {
			return nil, "", err
		}
	}
	if err := c.srv.permits(claims, m.Doc, PermRead); err != nil {
		return nil, "", err
	}
	name = c.name
	if claims.Name != "" {
		name = truncate(claims.Name, 64)
	}
	return claims, name, nil
}

func (c *conn) leaveDoc(id string) {
	d := c.docs.get(id).d
	c.docs.remove(id)
	d.post(&leaveReq{c: c})
	c.srv.reg.release(d)
}

// submitOf returns the doc and seq of the submit err refused, if any.
func submitOf(err error) (doc string, seq uint64) {
	var se *wire.SubmitError
	if errors.As(err, &se) {
		return se.Doc, se.Seq
	}
	return "", 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
