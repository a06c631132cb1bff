package collab

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// conn is one WebSocket connection: one reader (serve, which also handles
// the messages) and one writer (writeLoop) with a bounded queue between the
// documents and the socket. Nothing ever blocks on a conn: a full queue
// closes it with 4002. The writer takes everything queued at once and
// writes it as one batch (see wconn).
type conn struct {
	srv  *Server
	ws   *websocket.Conn
	wc   *wconn        // the socket under ws
	wake chan struct{} // cap 1: the queue became non-empty
	done chan struct{} // closed by closeWith: stop writing
	read chan struct{} // closed when the reader returned

	qmu   sync.Mutex
	queue []outMsg // guarded by qmu: at most QueueLen messages to write

	helloed atomic.Bool // hello accepted: the handshake timer has no effect

	closeOnce   sync.Once
	closeCode   int    // set once before done is closed; read by the writer after
	closeReason string // as closeCode

	// owned by serve (the reader):
	client, name, color string
	claims              *Claims              // from the upgrade or hello; nil: none given
	docs                map[string]*document // joined documents, each holding a reference
	readOnly            map[string]bool      // joined documents this connection may only read
	tokens              float64              // rate limiter bucket
	last                time.Time            // when tokens was last refilled
}

// outMsg is one queued message: prepared once for many connections, or
// encoded for this one only.
type outMsg struct {
	pm   *websocket.PreparedMessage
	data []byte
}

func newConn(srv *Server, ws *websocket.Conn, wc *wconn) *conn {
	wc.handshakeDone()
	return &conn{
		srv:      srv,
		ws:       ws,
		wc:       wc,
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
		read:     make(chan struct{}),
		docs:     make(map[string]*document),
		readOnly: make(map[string]bool),
		tokens:   float64(srv.opts.Burst),
		last:     time.Now(),
	}
}

// send queues pm without blocking.
func (c *conn) send(pm *websocket.PreparedMessage) { c.enqueue(outMsg{pm: pm}) }

// sendMsg encodes v for this connection alone and queues it.
func (c *conn) sendMsg(v any) { c.enqueue(outMsg{data: encode(v)}) }

// enqueue queues m without blocking. A client whose queue is full is too
// slow to follow its documents: it is closed with 4002 and must resume.
func (c *conn) enqueue(m outMsg) {
	if c.closed() {
		return
	}
	c.qmu.Lock()
	if len(c.queue) >= c.srv.opts.QueueLen {
		c.qmu.Unlock()
		c.srv.metrics.slowClients.Inc()
		c.srv.limitHit(limitQueue)
		c.closeWith(wire.CloseTooSlow, "too slow")
		return
	}
	c.queue = append(c.queue, m)
	first := len(c.queue) == 1
	c.qmu.Unlock()
	if first {
		select {
		case c.wake <- struct{}{}:
		default: // the writer has a wake-up pending
		}
	}
}

// take returns everything queued and leaves spare (emptied) as the queue.
func (c *conn) take(spare []outMsg) []outMsg {
	clear(spare)
	if cap(spare) > maxSpare {
		spare = nil // an idle connection keeps no big queue
	}
	c.qmu.Lock()
	q := c.queue
	c.queue = spare[:0]
	c.qmu.Unlock()
	return q
}

const (
	maxSpare  = 16 // the largest emptied queue a writer keeps for reuse
	maxRounds = 8  // takes of the queue in one batch
)

// sendError reports err with its protocol code.
func (c *conn) sendError(err error, doc string, seq uint64) {
	code, _ := codeOf(err)
	c.srv.metrics.errors.WithLabelValues(code).Inc()
	c.sendMsg(&wire.Error{Type: wire.TypeError, Code: code, Message: publicMessage(err), Doc: doc, Seq: seq})
}

// closeWith ends the connection: the writer sends a close frame with code
// (0: none), the reader reads until the peer's close for at most a second.
// It never blocks, so documents may call it.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		if code != 0 {
			c.srv.metrics.closes.WithLabelValues(strconv.Itoa(code)).Inc()
		}
		close(c.done)
		c.wc.SetReadDeadline(time.Now().Add(time.Second))
		if code == wire.CloseTooSlow {
			c.wc.abort() // interrupt a write the peer does not read
		}
	})
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// writeLoop is the only writer of the socket (gorilla allows one).
func (c *conn) writeLoop() {
	ping := time.NewTicker(c.srv.opts.PingPeriod)
	defer ping.Stop()
	var batch []outMsg
	for {
		select {
		case <-c.wake:
			var err error
			batch, err = c.writeQueued(batch, time.Now().Add(c.srv.opts.WriteWait))
			if err != nil {
				c.closeWith(0, "")
				c.finish()
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.opts.WriteWait)); err != nil {
				c.closeWith(0, "")
				c.finish()
				return
			}
		case <-c.done:
			c.flush()
			c.finish()
			return
		}
	}
}

// writeQueued writes what is queued, and what is queued meanwhile, as one
// batch: one write(2) unless it passes flushAt. It returns the last batch
// for reuse. It stops when the connection closes (flush decides what still
// goes out) and after maxRounds takes, so pings still go out under a
// steady stream (a message queued meanwhile has left a wake-up pending).
func (c *conn) writeQueued(batch []outMsg, deadline time.Time) ([]outMsg, error) {
	c.wc.cork(deadline)
	c.ws.SetWriteDeadline(deadline)
	for range maxRounds {
		if c.closed() {
			break
		}
		batch = c.take(batch)
		if len(batch) == 0 {
			break
		}
		for _, m := range batch {
			if err := c.write(m); err != nil {
				c.wc.uncork()
				return batch, err
			}
		}
	}
	return batch, c.wc.uncork()
}

func (c *conn) write(m outMsg) error {
	if m.pm != nil {
		return c.ws.WritePreparedMessage(m.pm)
	}
	return c.wc.text(m.data)
}

// flush writes what was queued before the close, such as the error that
// explains it: select picks done or wake at random when both are ready. A
// connection closed for being too slow or without a close code is not
// flushed: its peer is not reading or gone. Like the close frame, the
// flush gets a second, so a stalled peer cannot hold up Shutdown.
func (c *conn) flush() {
	if c.closeCode == 0 || c.closeCode == wire.CloseTooSlow {
		return
	}
	deadline := time.Now().Add(time.Second)
	c.wc.cork(deadline)
	c.ws.SetWriteDeadline(deadline)
	for _, m := range c.take(nil) {
		if c.write(m) != nil {
			break
		}
	}
	c.wc.uncork()
}

// finish sends the close frame and gives the reader a second to see the
// peer's answer before the socket is closed under it.
func (c *conn) finish() {
	if c.closeCode != 0 {
		msg := websocket.FormatCloseMessage(c.closeCode, c.closeReason)
		c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	}
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-c.read:
	case <-t.C:
		c.wc.Close()
	}
}

// serve runs the connection until it ends and cleans up after it.
func (c *conn) serve() {
	c.srv.metrics.connections.Inc()
	defer c.srv.metrics.connections.Dec()
	c.ws.SetReadLimit(c.srv.opts.MaxFrame)
	c.ws.SetReadDeadline(time.Now().Add(c.srv.opts.PongWait))
	c.ws.SetPongHandler(func(string) error {
		if !c.closed() {
			c.ws.SetReadDeadline(time.Now().Add(c.srv.opts.PongWait))
		}
		return nil
	})
	// A connection that says nothing is closed: sockets are cheap to open.
	helloTimer := time.AfterFunc(c.srv.opts.HelloWait, func() {
		if !c.helloed.Load() {
			c.srv.limitHit(limitHandshake)
			c.closeWith(websocket.ClosePolicyViolation, "no hello in time")
		}
	})
	defer helloTimer.Stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writeLoop()
	}()
	c.readLoop()
	close(c.read)
	c.closeWith(0, "")
	wg.Wait()
	c.ws.Close()
	for id := range c.docs {
		c.leaveDoc(id)
	}
	c.srv.unregister(c)
}

func (c *conn) readLoop() {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.srv.metrics.closes.WithLabelValues(strconv.Itoa(websocket.CloseMessageTooBig)).Inc()
				c.srv.limitHit(limitFrame)
				c.drain() // gorilla sent close 1009; let the peer read it
			}
			return
		}
		if c.closed() {
			continue // closing: discard until the peer's close or the deadline
		}
		if !c.allow() {
			c.srv.limitHit(limitMsgRate)
			c.closeWith(websocket.ClosePolicyViolation, "rate limit exceeded")
			continue
		}
		if typ != websocket.TextMessage {
			c.closeWith(websocket.CloseProtocolError, "binary frames are not accepted")
			continue
		}
		if !utf8.Valid(data) {
			c.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
			continue
		}
		c.handle(data)
	}
}

// drain reads and discards what the peer still sends, for a second, so
// closing the socket does not reset it before the close frame is read.
func (c *conn) drain() {
	c.wc.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c.wc.Conn)
}

// allow takes a token from the connection's bucket.
func (c *conn) allow() bool {
	now := time.Now()
	c.tokens += now.Sub(c.last).Seconds() * c.srv.opts.Rate
	c.last = now
	if max := float64(c.srv.opts.Burst); c.tokens > max {
		c.tokens = max
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// prepare encodes v once for any number of connections.
func (s *Server) prepare(v any) *websocket.PreparedMessage {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, encode(v))
	if err != nil {
		panic("collab: prepare message: " + err.Error())
	}
	return pm
}

// encode is the JSON of a message to send.
func encode(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic("collab: encode message: " + err.Error()) // every wire type encodes
	}
	return data
}
