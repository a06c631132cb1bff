// Package hub is a bare WebSocket broadcast hub that speaks just enough of
// the collab protocol (docs/protocol.md) for the load generator's clients:
// hello, join, leave and submit. It has no OT and no storage: each submit is
// acknowledged at once with the document's next revision and relayed
// verbatim to the document's other editors.
//
// It is the baseline of the benchmarks: what this machine can do with the
// same connections, the same JSON messages and the same fan-out, with none
// of the server's work. Ops from concurrent editors are not transformed, so
// editors' texts do not converge through it; clients that track the text
// must not be used with it.
//
// Concurrency follows the server's shape: each connection has one reader and
// one writer goroutine with a bounded queue; a client whose queue fills is
// dropped (close code 4002), never waited for.
package hub

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// queueLen bounds each connection's outbound queue.
const queueLen = 4096

const closeTooSlow = 4002

// Hub is an http.Handler serving the protocol's WebSocket at any path.
type Hub struct {
	upgrader websocket.Upgrader

	mu   sync.Mutex // guards docs
	docs map[string]*doc
}

type doc struct {
	mu      sync.Mutex         // guards the fields below and orders relays
	rev     uint64             // revisions handed out
	editors map[*conn]struct{} // joined connections
}

type conn struct {
	ws     *websocket.Conn
	send   chan []byte     // owned by the writer; closed by the reader when it ends
	client string          // set by hello, read by the reader only
	docs   map[string]*doc // joined documents; owned by the reader

	closeOnce sync.Once
	slow      chan struct{} // closed when the queue overflowed
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{
		docs: make(map[string]*doc),
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			CheckOrigin:     func(*http.Request) bool { return true },
		},
	}
}

// ServeHTTP upgrades the request and runs the connection until it ends.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	c := &conn{ws: ws, send: make(chan []byte, queueLen), docs: make(map[string]*doc), slow: make(chan struct{})}
	done := make(chan struct{})
	go func() { defer close(done); c.write() }()
	h.read(c)
	close(c.send)
	<-done
	ws.Close()
}

// message is every client message's fields; Op stays raw to be relayed as is.
type message struct {
	Type   string          `json:"type"`
	Client string          `json:"client"`
	Doc    string          `json:"doc"`
	Rev    uint64          `json:"rev"`
	Seq    uint64          `json:"seq"`
	Op     json.RawMessage `json:"op"`
}

func (h *Hub) read(c *conn) {
	defer h.leaveAll(c)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			c.enqueue(errorMsg("bad_message", err.Error()))
			continue
		}
		switch m.Type {
		case "hello":
			c.client = m.Client
			c.enqueue(mustJSON(map[string]any{"type": "welcome", "version": 1, "client": m.Client}))
		case "join":
			h.join(c, m.Doc)
		case "leave":
			if d := c.docs[m.Doc]; d != nil {
				d.leave(c)
				delete(c.docs, m.Doc)
			}
		case "submit":
			d := c.docs[m.Doc]
			if d == nil {
				c.enqueue(errorMsg("not_joined", "hub: document not joined"))
				continue
			}
			d.submit(c, m)
		case "presence":
			// Not relayed: the benchmarks send none.
		default:
			c.enqueue(errorMsg("bad_message", "hub: unknown type"))
		}
	}
}

func (h *Hub) join(c *conn, id string) {
	h.mu.Lock()
	d := h.docs[id]
	if d == nil {
		d = &doc{editors: make(map[*conn]struct{})}
		h.docs[id] = d
	}
	h.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.editors[c] = struct{}{}
	c.docs[id] = d
	c.enqueue(mustJSON(map[string]any{"type": "joined", "doc": id, "rev": d.rev, "seq": 0, "text": ""}))
}

func (d *doc) leave(c *conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.editors, c)
}

func (h *Hub) leaveAll(c *conn) {
	for _, d := range c.docs {
		d.leave(c)
	}
}

// submit acknowledges m with the next revision and relays it. The relay
// message is encoded once and shared by every recipient's queue.
func (d *doc) submit(from *conn, m message) {
	type ack struct {
		Type string `json:"type"`
		Doc  string `json:"doc"`
		Seq  uint64 `json:"seq"`
		Rev  uint64 `json:"rev"`
	}
	type op struct {
		Type   string          `json:"type"`
		Doc    string          `json:"doc"`
		Rev    uint64          `json:"rev"`
		Op     json.RawMessage `json:"op"`
		Client string          `json:"client"`
		Seq    uint64          `json:"seq"`
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rev++
	from.enqueue(mustJSON(ack{Type: "ack", Doc: m.Doc, Seq: m.Seq, Rev: d.rev}))
	relay := mustJSON(op{Type: "op", Doc: m.Doc, Rev: d.rev, Op: m.Op, Client: from.client, Seq: m.Seq})
	for c := range d.editors {
		if c != from {
			c.enqueue(relay)
		}
	}
}

// enqueue queues b without blocking; a full queue marks c too slow, and its
// writer closes the connection.
func (c *conn) enqueue(b []byte) {
	select {
	case c.send <- b:
	default:
		c.closeOnce.Do(func() { close(c.slow) })
	}
}

func (c *conn) write() {
	for {
		select {
		case b, ok := <-c.send:
			if !ok {
				return
			}
			if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
				c.ws.Close() // ends the reader
				drain(c.send)
				return
			}
		case <-c.slow:
			msg := websocket.FormatCloseMessage(closeTooSlow, "too slow")
			c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			c.ws.Close()
			drain(c.send)
			return
		}
	}
}

// drain discards queued messages until the reader closes the queue.
func drain(ch <-chan []byte) {
	for range ch {
	}
}

func errorMsg(code, text string) []byte {
	return mustJSON(map[string]string{"type": "error", "code": code, "message": text})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed shapes are encoded here
	}
	return b
}
