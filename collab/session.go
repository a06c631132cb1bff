package collab

import (
	"fmt"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// handle serves one text message from the client. It runs on the reader.
func (c *conn) handle(data []byte) {
	recv := time.Now()
	msg, err := decodeClient(data)
	if err != nil {
		c.sendError(err, "", 0)
		return
	}
	if h, ok := msg.(*wire.Hello); ok {
		c.hello(h)
		return
	}
	if c.client == "" {
		c.sendError(ErrHelloRequired, "", 0)
		return
	}
	switch m := msg.(type) {
	case *wire.Join:
		if err := c.join(m); err != nil {
			c.sendError(err, m.Doc, 0)
		}
	case *wire.Leave:
		if c.docs[m.Doc] == nil {
			c.sendError(ErrNotJoined, m.Doc, 0)
			return
		}
		c.leaveDoc(m.Doc)
	case *wire.Submit:
		d := c.docs[m.Doc]
		if d == nil {
			c.sendError(ErrNotJoined, m.Doc, m.Seq)
			return
		}
		c.post(d, &submitReq{c: c, client: c.client, name: c.name, rev: m.Rev, seq: m.Seq, op: m.Op, recv: recv}, m.Seq)
	case *wire.Presence:
		d := c.docs[m.Doc]
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
		delete(c.docs, d.id)
		c.srv.reg.release(d)
		c.sendError(ErrNotJoined, d.id, seq)
	}
}

func (c *conn) hello(h *wire.Hello) {
	if h.Version != wire.Version {
		c.sendError(ErrVersion, "", 0)
		c.closeWith(1002, "unsupported protocol version")
		return
	}
	if !validClientID(h.Client) {
		c.sendError(fmt.Errorf("%w: %q", ErrInvalidClient, truncate(h.Client, 64)), "", 0)
		return
	}
	if c.client != "" && c.client != h.Client {
		c.sendError(fmt.Errorf("%w: the client id cannot change", ErrBadMessage), "", 0)
		return
	}
	c.name, c.color = truncate(h.Name, 64), truncate(h.Color, 32)
	if c.client == "" {
		c.client = h.Client
		c.srv.register(c)
	}
	c.sendMsg(&wire.Welcome{Type: wire.TypeWelcome, Version: wire.Version, Client: c.client})
}

// join starts editing a document: acquire it (loading it if needed) and
// wait until its owner has sent "joined". Joining a document again
// restarts the session on it (a resync).
func (c *conn) join(m *wire.Join) error {
	if !ValidDocID(m.Doc) {
		return ErrInvalidDocID
	}
	if c.docs[m.Doc] != nil {
		c.leaveDoc(m.Doc)
	}
	if len(c.docs) >= c.srv.opts.MaxDocs {
		return ErrTooManyDocs
	}
	d, err := c.srv.reg.acquire(m.Doc)
	if err != nil {
		return err
	}
	reply := make(chan error, 1)
	req := &joinReq{c: c, client: c.client, name: c.name, color: c.color, rev: m.Rev, reply: reply}
	if d.post(req) {
		select {
		case err = <-reply:
		case <-d.done:
			select {
			case err = <-reply:
			default:
				err = ErrUnavailable
			}
		}
	} else {
		err = ErrUnavailable
	}
	if err != nil {
		c.srv.reg.release(d)
		return err
	}
	c.docs[m.Doc] = d
	return nil
}

func (c *conn) leaveDoc(id string) {
	d := c.docs[id]
	delete(c.docs, id)
	d.post(&leaveReq{c: c})
	c.srv.reg.release(d)
}
