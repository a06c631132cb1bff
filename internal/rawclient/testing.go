package rawclient

import (
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// TB is the part of testing.TB that T uses (so that the load generator,
// which uses Conn only, does not link package testing).
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// T is a Conn for a test: the first error ends the test, with the client's
// id in the message.
type T struct {
	*Conn
	ID string
	tb TB
}

// WrapT makes conn a T for client id, without a handshake; the
// connection is closed when the test ends.
func WrapT(tb TB, conn *Conn, id string) *T {
	tb.Cleanup(func() { conn.Close() })
	return &T{Conn: conn, ID: id, tb: tb}
}

// NewT says hello on conn as client id (name "name-"+id) and checks the
// welcome; the connection is closed when the test ends.
func NewT(tb TB, conn *Conn, id string) *T {
	tb.Helper()
	c := WrapT(tb, conn, id)
	w, err := conn.Hello(wire.Hello{Version: wire.Version, Client: id, Name: "name-" + id, Color: "#123"})
	c.check("hello", err)
	if want := wire.PublicID(id); w.Client != want {
		tb.Fatalf("%s: welcome client = %q, want %q (PublicID of %q)", id, w.Client, want, id)
	}
	return c
}

func (c *T) check(what string, err error) {
	if err != nil {
		c.tb.Helper()
		c.tb.Fatalf("%s: %s: %v", c.ID, what, err)
	}
}

// Send writes v as one JSON text message.
func (c *T) Send(v any) {
	c.tb.Helper()
	c.check("send", c.Conn.Send(v))
}

// SendRaw writes data as one text message.
func (c *T) SendRaw(data []byte) {
	c.tb.Helper()
	c.check("send", c.Conn.SendRaw(data))
}

// Next reads one message and returns its type and bytes.
func (c *T) Next() (string, []byte) {
	c.tb.Helper()
	typ, data, err := c.Conn.Next()
	c.check("read", err)
	return typ, data
}

// Expect reads until a message of type typ (see Conn.Expect) and decodes
// it into v unless v is nil.
func (c *T) Expect(typ string, v any) {
	c.tb.Helper()
	c.check("expect "+typ, c.Conn.Expect(typ, v))
}

// ExpectError reads until an error message, which must have code.
func (c *T) ExpectError(code string) wire.Error {
	c.tb.Helper()
	var e wire.Error
	c.Expect(wire.TypeError, &e)
	if e.Code != code {
		c.tb.Fatalf("%s: error code %q (%s), want %q", c.ID, e.Code, e.Message, code)
	}
	return e
}

// Join joins doc (from revision rev, or with its text when rev is nil).
func (c *T) Join(doc string, rev *uint64) wire.Joined {
	c.tb.Helper()
	j, err := c.Conn.Join(doc, rev)
	c.check("join "+doc, err)
	return j
}

// Submit sends op as seq, based on revision rev of doc.
func (c *T) Submit(doc string, rev, seq uint64, op ot.Op) {
	c.tb.Helper()
	c.Send(wire.Submit{Type: wire.TypeSubmit, Doc: doc, Rev: rev, Seq: seq, Op: op})
}

// Ack reads until an ack, which must be of seq.
func (c *T) Ack(seq uint64) wire.Ack {
	c.tb.Helper()
	var a wire.Ack
	c.Expect(wire.TypeAck, &a)
	if a.Seq != seq {
		c.tb.Fatalf("%s: ack seq %d, want %d", c.ID, a.Seq, seq)
	}
	return a
}

// CloseCode reads until the connection ends and returns its close code.
func (c *T) CloseCode() int {
	c.tb.Helper()
	code, err := c.Conn.CloseCode()
	c.check("close", err)
	return code
}
