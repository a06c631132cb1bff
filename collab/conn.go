package collab

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/collab/internal/wsconn"
	"github.com/collabd/collab/collab/wire"
)

// conn is one editor's connection: its session (client id, claims,
// joined documents, rate limits) over a transport connection that reads
// and writes (wsconn). The transport calls its Message, Refused and Ended.
type conn struct {
	srv   *Server
	ip    string // the client's address, counted in srv.perIP until unregister
	ws    *wsconn.Conn
	out   sender // ws; a recorder in tests
	order uint64 // set once before the upgrade: later connections have greater ones

	helloed atomic.Bool // hello accepted: the handshake timer has no effect

	cutMu sync.Mutex
	cut   []cutSession // guarded by cutMu: sessions their document ended (expiry, revocation), for the reader to release

	// owned by the reader (Message):
	client, name, color string
	claims              *Claims     // from the upgrade or hello; nil: none given
	docs                joinedDocs  // joined documents
	sessions            uint64      // sessions started: the last joinedDoc.session
	tokens              float64     // rate limiter bucket
	last                time.Time   // when tokens was last refilled
	writeTokens         float64     // bytes of ops the connection may submit now (Options.WriteRate)
	writeLast           time.Time   // when writeTokens was last refilled
	helloTimer          *time.Timer // closes a connection that says nothing; nil after hello

	// upgradeReq is the upgrade request, set before serve starts, for
	// Options.Authenticator at hello and join; nil without one.
	upgradeReq *http.Request
}

// sender is what documents send through: the transport connection.
type sender interface {
	Send(data []byte)
	SendFrames(frames [][]byte)
}

// joinedDoc is a document a connection joined, holding a reference to it.
type joinedDoc struct {
	d        *document // nil: not joined
	readOnly bool      // this connection may only read it
	claims   *Claims   // the token the session runs on; nil: none (open mode)
	session  uint64    // numbers the session among the connection's, so that a cut names it
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

func newConn(srv *Server, ws *wsconn.Conn, order uint64) *conn {
	return &conn{
		srv:    srv,
		ws:     ws,
		out:    ws,
		order:  order,
		tokens: float64(srv.opts.Burst),
		last:   time.Now(),

		writeTokens: float64(srv.opts.WriteBurst),
		writeLast:   time.Now(),
	}
}

// transportOptions are the transport's settings for every connection.
func (s *Server) transportOptions() wsconn.Options {
	return wsconn.Options{
		MaxMessage:  s.opts.MaxFrame,
		PongWait:    s.opts.PongWait,
		PingPeriod:  s.opts.PingPeriod,
		WriteWait:   s.opts.WriteWait,
		QueueLen:    s.opts.QueueLen,
		TooSlowCode: wire.CloseTooSlow,
		Readers:     &s.wg,
	}
}

// send queues data, shared with other connections, without blocking.
func (c *conn) send(data []byte) { c.out.Send(data) }

// sendFrames queues messages, shared with other connections, as one
// entry of the queue (see wsconn.Conn.SendFrames).
func (c *conn) sendFrames(frames [][]byte) { c.out.SendFrames(frames) }

// sendMsg encodes v for this connection alone and queues it.
func (c *conn) sendMsg(v any) { c.out.Send(encode(v)) }

// sendAll encodes vs for this connection alone and queues them as one
// entry: a joining editor's welcome (one message per editor present) must
// not count as a backlog, or a crowded document would refuse newcomers.
func (c *conn) sendAll(vs []any) {
	frames := make([][]byte, len(vs))
	for i, v := range vs {
		frames[i] = encode(v)
	}
	c.sendFrames(frames)
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

// closeWith ends the connection with a close code (0: none) and reason
// (see wsconn.Conn.Close). It never blocks, so documents may call it.
func (c *conn) closeWith(code int, reason string) {
	if c.ws.Close(code, reason) && code != 0 {
		c.srv.metrics.closes.WithLabelValues(strconv.Itoa(code)).Inc()
	}
}

// stopHelloTimer drops the handshake timer: an idle connection keeps none.
func (c *conn) stopHelloTimer() {
	if c.helloTimer != nil {
		c.helloTimer.Stop()
		c.helloTimer = nil
	}
}

func (c *conn) closed() bool { return c.ws.Closed() }

// serve starts the connection's handshake timer and its transport, which
// reads until the connection ends; it returns when the connection ended,
// or when its reading moved to another goroutine.
func (c *conn) serve() {
	c.srv.metrics.connections.Inc()
	// A connection that says nothing is closed: sockets are cheap to open.
	c.helloTimer = time.AfterFunc(c.srv.opts.HelloWait, func() {
		if !c.helloed.Load() {
			c.srv.limitHit(limitHandshake)
			c.closeWith(wsconn.ClosePolicyViolation, "no hello in time")
		}
	})
	c.ws.Serve(c)
}

// Message serves one message unless the connection is closing. It runs on
// the transport's reader.
func (c *conn) Message(data []byte, text bool) {
	switch {
	case c.closed():
		// closing: discard until the peer's close or the deadline
	case !c.allow():
		c.srv.limitHit(limitMsgRate)
		c.closeWith(wsconn.ClosePolicyViolation, "rate limit exceeded")
	case !text:
		c.closeWith(wsconn.CloseProtocolError, "binary frames are not accepted")
	case !utf8.Valid(data):
		c.closeWith(wsconn.CloseInvalidPayload, "invalid UTF-8")
	default:
		c.handle(data)
	}
}

// Refused counts a connection the transport closes for a limit.
func (c *conn) Refused(err error) {
	switch {
	case errors.Is(err, wsconn.ErrTooBig):
		c.srv.metrics.closes.WithLabelValues(strconv.Itoa(wsconn.CloseMessageTooBig)).Inc()
		c.srv.limitHit(limitFrame)
	case errors.Is(err, wsconn.ErrTooSlow):
		c.srv.metrics.closes.WithLabelValues(strconv.Itoa(wire.CloseTooSlow)).Inc()
		c.srv.metrics.slowClients.Inc()
		c.srv.limitHit(limitQueue)
	}
}

// Ended cleans up after the connection, once its transport stopped.
func (c *conn) Ended() {
	for len(c.docs) > 0 {
		c.leaveDoc(c.docs[len(c.docs)-1].d.id)
	}
	c.srv.unregister(c)
	c.stopHelloTimer()
	c.srv.metrics.connections.Dec()
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
