package collab

import (
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
// closes it with 4002. The writer runs while there is something to write:
// it takes everything queued at once, writes it as one batch (see wconn)
// and ends when the queue is empty; the next message starts it again, so
// an idle connection has no writer goroutine (nor its stack). The reader
// is one goroutine at a time: when the socket has nothing more to read it
// hands the connection to a new one, which waits for the socket with a
// small stack (see idle).
type conn struct {
	srv  *Server
	ip   string // the client's address, counted in srv.perIP until unregister
	ws   *websocket.Conn
	wc   *wconn        // the socket under ws
	done chan struct{} // closed by closeWith: stop writing
	read chan struct{} // closed when the reader returned

	qmu     sync.Mutex
	queue   []outMsg       // guarded by qmu: at most QueueLen messages to write
	writing bool           // guarded by qmu: a writer goroutine runs
	ended   bool           // guarded by qmu: the writer closed the connection; none starts again
	pingDue bool           // guarded by qmu: the writer must send a ping
	ping    *time.Timer    // guarded by qmu: sets pingDue every PingPeriod
	writers sync.WaitGroup // the writer goroutine, for serve to wait

	helloed atomic.Bool // hello accepted: the handshake timer has no effect
	order   uint64      // set once before the upgrade: later connections have greater ones

	closeOnce   sync.Once
	closeCode   int    // set once before done is closed; read by the writer after
	closeReason string // as closeCode

	// owned by serve (the reader):
	client, name, color string
	claims              *Claims     // from the upgrade or hello; nil: none given
	docs                joinedDocs  // joined documents
	tokens              float64     // rate limiter bucket
	last                time.Time   // when tokens was last refilled
	writeTokens         float64     // bytes of ops the connection may submit now (Options.WriteRate)
	writeLast           time.Time   // when writeTokens was last refilled
	helloTimer          *time.Timer // closes a connection that says nothing; nil after hello
}

// joinedDoc is a document a connection joined, holding a reference to it.
type joinedDoc struct {
	d        *document // nil: not joined
	readOnly bool      // this connection may only read it
}

// joinedDocs are a connection's documents: a slice, not a map, because
// there are few (Options.MaxDocs, most often one) and a map's smallest
// table costs an idle connection a few hundred bytes.
type joinedDocs []joinedDoc

func (js joinedDocs) get(id string) joinedDoc {
	for _, j := range js {
		if j.d.id == id {
			return j
		}
	}
	return joinedDoc{}
}

// set adds j; its document must not be there already.
func (js *joinedDocs) set(j joinedDoc) { *js = append(*js, j) }

func (js *joinedDocs) remove(id string) {
	s := *js
	for i, j := range s {
		if j.d.id == id {
			copy(s[i:], s[i+1:])
			s[len(s)-1] = joinedDoc{} // drop the reference
			*js = s[:len(s)-1]
			return
		}
	}
}

func newConn(srv *Server, ws *websocket.Conn, wc *wconn, order uint64) *conn {
	wc.handshakeDone()
	return &conn{
		srv:    srv,
		ws:     ws,
		wc:     wc,
		done:   make(chan struct{}),
		read:   make(chan struct{}),
		order:  order,
		tokens: float64(srv.opts.Burst),
		last:   time.Now(),

		writeTokens: float64(srv.opts.WriteBurst),
		writeLast:   time.Now(),
	}
}

// sendError reports err with its protocol code.
func (c *conn) sendError(err error, doc string, seq uint64) {
	code, _ := codeOf(err)
	c.srv.metrics.errors.WithLabelValues(code).Inc()
	m := &wire.Error{Type: wire.TypeError, Code: code, Message: publicMessage(err), Doc: doc, Seq: seq}
	var de *DeletedError
	if errors.As(err, &de) {
		m.By = de.By
	}
	c.sendMsg(m)
}

// closeWith ends the connection: the writer sends a close frame with code
// (0: none), the reader reads until the peer's close for at most a second.
// It never blocks, so documents may call it. A write in progress is not
// interrupted, not even for a client too slow to read its queue: it keeps
// its deadline (WriteWait), and the close frame follows it instead of the
// backlog, so that a client that reads again in time learns it was too
// slow rather than seeing the connection break.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeReason = code, reason
		if code != 0 {
			c.srv.metrics.closes.WithLabelValues(strconv.Itoa(code)).Inc()
		}
		close(c.done)
		c.wc.SetReadDeadline(time.Now().Add(time.Second))
	})
	c.qmu.Lock()
	c.startWriterLocked() // to send the close frame
	c.qmu.Unlock()
}

// stopHelloTimer drops the handshake timer: an idle connection keeps none.
func (c *conn) stopHelloTimer() {
	if c.helloTimer != nil {
		c.helloTimer.Stop()
		c.helloTimer = nil
	}
}

func (c *conn) closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// serve sets the connection up and reads from it. It returns when the
// connection ended, or when its reading moved to another goroutine (see
// idle).
func (c *conn) serve() {
	c.srv.metrics.connections.Inc()
	c.ws.SetReadLimit(c.srv.opts.MaxFrame)
	c.ws.SetReadDeadline(time.Now().Add(c.srv.opts.PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ponged()
		return nil
	})
	// A connection that says nothing is closed: sockets are cheap to open.
	c.helloTimer = time.AfterFunc(c.srv.opts.HelloWait, func() {
		if !c.helloed.Load() {
			c.srv.limitHit(limitHandshake)
			c.closeWith(websocket.ClosePolicyViolation, "no hello in time")
		}
	})
	c.qmu.Lock()
	c.ping = time.AfterFunc(c.srv.opts.PingPeriod, c.pingTick)
	c.qmu.Unlock()
	c.wc.waitReadable()
	c.readOn()
}

// ponged gives the peer another PongWait.
func (c *conn) ponged() {
	if !c.closed() {
		c.ws.SetReadDeadline(time.Now().Add(c.srv.opts.PongWait))
	}
}

// readOn reads and handles messages until the connection ends, then
// cleans up after it; or until there is nothing to read: then a new
// goroutine waits for the socket (idle) and this one ends.
func (c *conn) readOn() {
	if !c.readLoop() {
		return
	}
	close(c.read)
	c.closeWith(0, "")
	c.writers.Wait() // closeWith started a writer to finish, unless one had
	c.qmu.Lock()
	c.ping.Stop()
	c.qmu.Unlock()
	c.ws.Close()
	for len(c.docs) > 0 {
		c.leaveDoc(c.docs[len(c.docs)-1].d.id)
	}
	c.srv.unregister(c)
	c.stopHelloTimer()
	c.srv.metrics.connections.Dec()
}

// idle hands the reading to a new goroutine that waits for the socket.
// A reader's stack grows to 4-8 KiB handling messages (JSON, joins) and
// the runtime does not shrink it back to 2 KiB while it waits (it halves a
// stack only when what is in use plus 800 bytes is under a quarter of it:
// under 224 bytes of 4 KiB); a new goroutine starts at 2 KiB, enough to
// wait, so an idle connection's only goroutine costs 2 KiB less.
func (c *conn) idle() {
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		c.wc.waitReadable()
		c.readOn()
	}()
}

// readLoop reads and handles messages. It reports whether the connection
// ended; if not, it went idle and another goroutine reads on.
func (c *conn) readLoop() (ended bool) {
	for {
		if c.wc.controls(c.ponged) {
			c.idle() // only pings or pongs were buffered
			return false
		}
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.srv.metrics.closes.WithLabelValues(strconv.Itoa(websocket.CloseMessageTooBig)).Inc()
				c.srv.limitHit(limitFrame)
				c.drain() // gorilla sent close 1009; let the peer read it
			}
			return true
		}
		c.message(typ, data)
		if c.wc.empty() {
			c.idle()
			return false
		}
	}
}

// message serves one message unless the connection is closing.
func (c *conn) message(typ int, data []byte) {
	switch {
	case c.closed():
		// closing: discard until the peer's close or the deadline
	case !c.allow():
		c.srv.limitHit(limitMsgRate)
		c.closeWith(websocket.ClosePolicyViolation, "rate limit exceeded")
	case typ != websocket.TextMessage:
		c.closeWith(websocket.CloseProtocolError, "binary frames are not accepted")
	case !utf8.Valid(data):
		c.closeWith(websocket.CloseInvalidFramePayloadData, "invalid UTF-8")
	default:
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

// encode is the JSON of a message to send.
func encode(v any) []byte {
	data, err := wire.Encode(v)
	if err != nil {
		panic("collab: encode message: " + err.Error()) // every wire type encodes
	}
	return data
}
