// Package rawclient speaks the collab protocol (docs/protocol.md) raw: JSON
// messages over a gorilla WebSocket connection, with none of the Go
// client's state (no pending ops, no transformation, no reconnection).
// Tests use it to send what a real client would not and to see every
// message and close code; the load generator uses it for the handshake of
// its minimal clients. Conn returns errors; T ends a test on the first one.
package rawclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// ErrNotClosed reports a read that failed with no close code: a deadline
// or a local error. (A connection dropped by the peer without a close
// frame has code 1006, as gorilla reports it.)
var ErrNotClosed = errors.New("rawclient: read failed before the connection closed")

// Conn is one raw protocol connection. Like the gorilla connection under
// it, it allows one reading and one writing goroutine at a time.
type Conn struct {
	WS   *websocket.Conn
	Wait time.Duration // deadline of each read and write, from its start; zero: none
}

// Dial opens a WebSocket connection to url (ws:// or wss://) with d.
func Dial(ctx context.Context, d *websocket.Dialer, url string, hdr http.Header, wait time.Duration) (*Conn, *http.Response, error) {
	ws, res, err := d.DialContext(ctx, url, hdr)
	if err != nil {
		return nil, res, err
	}
	return &Conn{WS: ws, Wait: wait}, res, nil
}

// Close closes the connection without a close frame.
func (c *Conn) Close() error { return c.WS.Close() }

// Send writes v as one JSON text message.
func (c *Conn) Send(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.SendRaw(data)
}

// SendRaw writes data as one text message, as it is.
func (c *Conn) SendRaw(data []byte) error {
	if c.Wait > 0 {
		c.WS.SetWriteDeadline(time.Now().Add(c.Wait))
	}
	return c.WS.WriteMessage(websocket.TextMessage, data)
}

// Next reads one message and returns its type and bytes.
func (c *Conn) Next() (typ string, data []byte, err error) {
	if c.Wait > 0 {
		c.WS.SetReadDeadline(time.Now().Add(c.Wait))
	}
	if _, data, err = c.WS.ReadMessage(); err != nil {
		return "", nil, err
	}
	if typ, err = wire.PeekType(data); err != nil {
		return "", data, fmt.Errorf("message without type: %.200s", data)
	}
	return typ, data, nil
}

// Expect reads until a message of type typ, skipping presence and editor
// events (they may come at any time), and decodes it into v unless v is
// nil. Any other message is an error that quotes it.
func (c *Conn) Expect(typ string, v any) error {
	for {
		got, data, err := c.Next()
		if err != nil {
			return err
		}
		if got == typ {
			if v == nil {
				return nil
			}
			if err := json.Unmarshal(data, v); err != nil {
				return fmt.Errorf("decode %.200s: %w", data, err)
			}
			return nil
		}
		if got != wire.TypePresence && got != wire.TypeEditor {
			return fmt.Errorf("got %.200s, want %s", data, typ)
		}
	}
}

// Hello sends h and reads the welcome.
func (c *Conn) Hello(h wire.Hello) (wire.Welcome, error) {
	var w wire.Welcome
	h.Type = wire.TypeHello
	if err := c.Send(h); err != nil {
		return w, err
	}
	return w, c.Expect(wire.TypeWelcome, &w)
}

// Join joins doc (from revision rev, or with its text when rev is nil) and
// reads the answer.
func (c *Conn) Join(doc string, rev *uint64) (wire.Joined, error) {
	var j wire.Joined
	if err := c.Send(wire.Join{Type: wire.TypeJoin, Doc: doc, Rev: rev}); err != nil {
		return j, err
	}
	return j, c.Expect(wire.TypeJoined, &j)
}

// CloseCode reads until the connection ends and returns its close code;
// ErrNotClosed (wrapping the read error) if a read failed otherwise.
func (c *Conn) CloseCode() (int, error) {
	for {
		if c.Wait > 0 {
			c.WS.SetReadDeadline(time.Now().Add(c.Wait))
		}
		_, _, err := c.WS.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, nil
		}
		return 0, fmt.Errorf("%w: %w", ErrNotClosed, err)
	}
}
