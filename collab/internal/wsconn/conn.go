// Package wsconn is the server's WebSocket transport: one connection with
// one reader and one writer, a bounded queue between whoever sends and the
// socket, and a small API (Send, Serve with a Handler, Close with a code).
//
// Beneath gorilla/websocket it frames text messages itself, so that a
// message shared by many connections is encoded once and a burst of them
// goes out in one write(2); it hijacks gorilla's read buffer, so that an
// idle connection's reader can serve pings and pongs and wait for the
// socket on a small stack, in a goroutine of its own (the runtime does not
// shrink a grown stack back while it waits). That relies on gorilla
// behaviour it does not document, each stated where it is used and tested
// in gorilla_test.go, which fails if a gorilla upgrade breaks it:
//
//   - with Upgrader.ReadBufferSize 0, gorilla reads through the bufio.Reader
//     the hijacker returns if it is larger than 256 bytes (readBufferSize);
//   - with Upgrader.WriteBufferPool set, gorilla allocates no write buffer
//     for a connection that only ever calls WriteControl;
//   - each WriteControl is one whole frame in one Write to the net.Conn.
package wsconn

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes of RFC 6455 that the server uses.
const (
	CloseGoingAway       = websocket.CloseGoingAway
	CloseProtocolError   = websocket.CloseProtocolError
	CloseInvalidPayload  = websocket.CloseInvalidFramePayloadData
	ClosePolicyViolation = websocket.ClosePolicyViolation
	CloseMessageTooBig   = websocket.CloseMessageTooBig
)

// Limits that end a connection, reported to Handler.Refused.
var (
	// ErrTooBig: the peer sent a message over Options.MaxMessage; it is
	// sent close 1009.
	ErrTooBig = errors.New("wsconn: message too big")
	// ErrTooSlow: the peer's queue was full; it is sent
	// Options.TooSlowCode.
	ErrTooSlow = errors.New("wsconn: peer too slow")
)

// readBufferSize is each connection's read buffer, held for its whole life.
// Client messages are small; a larger one is read straight into the
// message's buffer, past this one. Over 256, or gorilla makes its own
// (TestGorillaReadsOurBuffer).
const readBufferSize = 512

// Options are a connection's limits and timings; all must be set.
type Options struct {
	MaxMessage int64         // bytes of one message from the peer; more closes with 1009
	PongWait   time.Duration // the peer must send something, a pong at least, this often
	PingPeriod time.Duration // a ping goes out this often
	WriteWait  time.Duration // a batch of writes must be done within this
	QueueLen   int           // entries queued for the writer; one more closes with TooSlowCode
	// TooSlowCode closes a connection whose queue is full. Such a
	// connection's backlog is not written: the close frame goes next.
	TooSlowCode int
	// Readers counts the goroutines that take a connection's reading over
	// when it went idle, so that the server can wait for them.
	Readers *sync.WaitGroup
}

// Handler is what the server does with a connection. Its methods run on
// the connection's reader, one at a time, except Refused(ErrTooSlow),
// which runs on whoever sent.
type Handler interface {
	// Message serves one message: text or binary, as the peer sent it.
	Message(data []byte, text bool)
	// Refused says the connection is being closed for a limit: ErrTooBig
	// or ErrTooSlow.
	Refused(err error)
	// Ended says the connection ended and everything the transport
	// started for it has stopped.
	Ended()
}

// Upgrader upgrades HTTP requests to Conns.
type Upgrader struct {
	up websocket.Upgrader
}

// NewUpgrader returns an Upgrader that accepts the requests checkOrigin
// accepts (gorilla answers 403 to the others). Compression is off: read
// limits must count real bytes.
func NewUpgrader(checkOrigin func(*http.Request) bool) *Upgrader {
	return &Upgrader{up: websocket.Upgrader{
		// 0: gorilla keeps the hijacked reader, the hijacker's (see
		// readBufferSize).
		ReadBufferSize: 0,
		// Never used: the writer frames its messages itself (see socket);
		// a pool keeps gorilla from giving every connection a buffer.
		WriteBufferPool:   &sync.Pool{},
		EnableCompression: false,
		CheckOrigin:       checkOrigin,
	}}
}

// Upgrade answers the handshake; on error it has answered with an HTTP
// error. The connection does nothing until Serve.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, opts Options) (*Conn, error) {
	hj := &hijacker{ResponseWriter: w}
	ws, err := u.up.Upgrade(hj, r, nil)
	if err != nil {
		return nil, err
	}
	hj.wc.handshakeDone()
	return &Conn{
		opts: opts,
		ws:   ws,
		wc:   hj.wc,
		done: make(chan struct{}),
		read: make(chan struct{}),
	}, nil
}

// Conn is one WebSocket connection: one reader (Serve, which hands each
// message to the Handler) and one writer (writeLoop) with a bounded queue
// between the senders and the socket. Nothing ever blocks on a Conn: a
// full queue closes it with Options.TooSlowCode. The writer runs while
// there is something to write: it takes everything queued at once, writes
// it as one batch (see socket) and ends when the queue is empty; the next
// message starts it again, so an idle connection has no writer goroutine
// (nor its stack). The reader is one goroutine at a time: when the socket
// has nothing more to read it hands the connection to a new one, which
// waits for the socket with a small stack (see idle).
type Conn struct {
	opts Options
	h    Handler         // set by Serve
	ws   *websocket.Conn // used by the reader, and by the writer for control frames
	wc   *socket         // the socket under ws
	done chan struct{}   // closed by Close: stop writing
	read chan struct{}   // closed when the reader returned

	qmu     sync.Mutex
	queue   []entry        // guarded by qmu: at most QueueLen entries to write
	writing bool           // guarded by qmu: a writer goroutine runs
	ended   bool           // guarded by qmu: the writer closed the connection; none starts again
	pingDue bool           // guarded by qmu: the writer must send a ping
	ping    *time.Timer    // guarded by qmu: sets pingDue every PingPeriod
	writers sync.WaitGroup // the writer goroutine, for the reader to wait

	closeOnce   sync.Once
	closeCode   int    // set once before done is closed; read by the writer after
	closeReason string // as closeCode
}

// Refuse closes a connection that is not served, with code and reason.
func (c *Conn) Refuse(code int, reason string) {
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.ws.Close()
}

// Close ends the connection: the writer sends what was queued (unless
// code is TooSlowCode or 0), then a close frame with code (0: none); the
// reader reads until the peer's close for at most a second. It never
// blocks, so anyone may call it. A write in progress is not interrupted,
// not even for a peer too slow to read its queue: it keeps its deadline
// (WriteWait), and the close frame follows it instead of the backlog, so
// that a peer that reads again in time learns it was too slow rather than
// seeing the connection break. Close reports whether this call closed the
// connection (false: it was closed already).
func (c *Conn) Close(code int, reason string) (first bool) {
	c.closeOnce.Do(func() {
		first = true
		c.closeCode, c.closeReason = code, reason
		close(c.done)
		c.wc.SetReadDeadline(time.Now().Add(time.Second))
	})
	c.qmu.Lock()
	c.startWriterLocked() // to send the close frame
	c.qmu.Unlock()
	return first
}

// Closed reports whether Close was called.
func (c *Conn) Closed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Serve starts the connection: its pings, its read deadline, and its
// reader, which hands each message to h until the connection ends, then
// calls h.Ended. It returns when the connection ended, or when its reading
// moved to another goroutine (see idle).
func (c *Conn) Serve(h Handler) {
	c.h = h
	c.ws.SetReadLimit(c.opts.MaxMessage)
	c.ws.SetReadDeadline(time.Now().Add(c.opts.PongWait))
	c.ws.SetPongHandler(func(string) error {
		c.ponged()
		return nil
	})
	c.qmu.Lock()
	c.ping = time.AfterFunc(c.opts.PingPeriod, c.pingTick)
	c.qmu.Unlock()
	c.wc.waitReadable()
	c.readOn()
}

// ponged gives the peer another PongWait.
func (c *Conn) ponged() {
	if !c.Closed() {
		c.ws.SetReadDeadline(time.Now().Add(c.opts.PongWait))
	}
}

// readOn reads and handles messages until the connection ends, then
// cleans up after it; or until there is nothing to read: then a new
// goroutine waits for the socket (idle) and this one ends.
func (c *Conn) readOn() {
	if !c.readLoop() {
		return
	}
	close(c.read)
	c.Close(0, "")
	c.writers.Wait() // Close started a writer to finish, unless one had
	c.qmu.Lock()
	c.ping.Stop()
	c.qmu.Unlock()
	c.ws.Close()
	c.h.Ended()
}

// idle hands the reading to a new goroutine that waits for the socket.
// A reader's stack grows to 4-8 KiB handling messages (JSON, joins) and
// the runtime does not shrink it back to 2 KiB while it waits (it halves a
// stack only when what is in use plus 800 bytes is under a quarter of it:
// under 224 bytes of 4 KiB); a new goroutine starts at 2 KiB, enough to
// wait, so an idle connection's only goroutine costs 2 KiB less.
func (c *Conn) idle() {
	c.opts.Readers.Add(1)
	go func() {
		defer c.opts.Readers.Done()
		c.wc.waitReadable()
		c.readOn()
	}()
}

// readLoop reads and handles messages. It reports whether the connection
// ended; if not, it went idle and another goroutine reads on.
func (c *Conn) readLoop() (ended bool) {
	for {
		if c.wc.controls(c.ponged) {
			c.idle() // only pings or pongs were buffered
			return false
		}
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.h.Refused(ErrTooBig)
				c.drain() // gorilla sent close 1009; let the peer read it
			}
			return true
		}
		c.h.Message(data, typ == websocket.TextMessage)
		if c.wc.empty() {
			c.idle()
			return false
		}
	}
}

// drain reads and discards what the peer still sends, for a second, so
// closing the socket does not reset it before the close frame is read.
func (c *Conn) drain() {
	c.wc.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c.wc.Conn)
}
