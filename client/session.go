package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/gorilla/websocket"
)

// errQueueFull ends a session whose outbound queue filled: the writer is
// stuck, so the connection is dropped and resumed, which loses nothing.
var errQueueFull = errors.New("client: outbound queue full")

// session is one WebSocket connection: one reader and one writer goroutine
// and a bounded outbound queue. It ends on the first read or write error,
// on a full queue, or by close; Conn.run then waits for both goroutines.
type session struct {
	c       *Conn
	ws      *websocket.Conn
	out     chan []byte   // bounded outbound queue, drained by writeLoop
	done    chan struct{} // closed by fail
	once    sync.Once
	err     error // why the session ended; written once before done closes
	started time.Time
	limits  wire.Limits    // the server's, from welcome; immutable
	wg      sync.WaitGroup // readLoop and writeLoop

	presMu sync.Mutex
	pres   map[string][]byte // guarded by presMu; latest presence per doc, unsent
	wake   chan struct{}     // signals pres; capacity 1

	tokens float64   // owned by writeLoop: rate limiter bucket
	last   time.Time // owned by writeLoop: last refill
}

// header is the handshake's header: Options.Header, plus the token as
// Authorization: Bearer (a server with a secret asks clients without an
// Origin for a token at the upgrade).
func (c *Conn) header() http.Header {
	token := c.currentToken()
	if token == "" || c.opts.Header.Get("Authorization") != "" {
		return c.opts.Header
	}
	h := c.opts.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	h.Set("Authorization", "Bearer "+token)
	return h
}

// connect dials the server and performs the hello/welcome handshake.
func (c *Conn) connect(ctx context.Context) (*session, error) {
	if c.tokenDue() {
		if err := c.fetchToken(ctx); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	ws, resp, err := c.dialer.DialContext(ctx, c.url, c.header())
	if err != nil {
		if resp != nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return nil, &HandshakeError{StatusCode: resp.StatusCode}
		}
		return nil, fmt.Errorf("client: dial: %w", err)
	}
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	// Unblock the handshake's reads and writes when ctx ends.
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	limits, err := c.handshake(ctx, ws)
	if !stop() || err != nil {
		ws.Close()
		if err == nil || ctx.Err() != nil {
			err = fmt.Errorf("client: handshake: %w", context.Cause(ctx))
		}
		return nil, err
	}
	ws.SetReadDeadline(time.Time{})
	ws.SetWriteDeadline(time.Time{})
	return &session{
		c:       c,
		ws:      ws,
		out:     make(chan []byte, c.opts.QueueSize),
		done:    make(chan struct{}),
		started: time.Now(),
		limits:  limits,
		pres:    make(map[string][]byte),
		wake:    make(chan struct{}, 1),
		tokens:  c.opts.MaxRate,
		last:    time.Now(),
	}, nil
}

// handshake says hello and returns the limits the welcome advertised.
func (c *Conn) handshake(ctx context.Context, ws *websocket.Conn) (wire.Limits, error) {
	ws.SetReadLimit(c.opts.MaxMessageSize)
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
		ws.SetWriteDeadline(dl)
	}
	hello := wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: c.id,
		Name: c.opts.Name, Color: c.opts.Color, Token: c.currentToken()}
	if err := ws.WriteJSON(hello); err != nil {
		return wire.Limits{}, fmt.Errorf("client: send hello: %w", err)
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		return wire.Limits{}, fmt.Errorf("client: read welcome: %w", closeErr(err))
	}
	typ, err := wire.PeekType(data)
	if err != nil {
		return wire.Limits{}, fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	switch typ {
	case wire.TypeWelcome:
		var w wire.Welcome
		if err := json.Unmarshal(data, &w); err != nil || w.Version != wire.Version || w.Client != c.pub {
			return wire.Limits{}, fmt.Errorf("%w: bad welcome %s", ErrProtocol, data)
		}
		return resolveLimits(w.Limits), nil
	case wire.TypeError:
		var e wire.Error
		if err := json.Unmarshal(data, &e); err != nil {
			return wire.Limits{}, fmt.Errorf("%w: bad error message %s", ErrProtocol, data)
		}
		return wire.Limits{}, &ServerError{Code: e.Code, Message: e.Message}
	}
	return wire.Limits{}, fmt.Errorf("%w: %q before welcome", ErrProtocol, typ)
}

func (s *session) start() {
	s.wg.Add(2)
	go s.readLoop()
	go s.writeLoop()
}

// fail ends the session with err; the first call wins.
func (s *session) fail(err error) {
	s.once.Do(func() {
		s.err = err
		close(s.done)
		s.ws.Close()
	})
}

// shutdown closes the connection politely (close 1000) and ends the session.
func (s *session) shutdown() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	s.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
	s.fail(ErrClosed)
}

// send queues msg without blocking. A full queue ends the session (it is
// resumed after reconnecting); it reports whether msg was queued.
func (s *session) send(msg any) bool {
	data, err := json.Marshal(msg)
	if err != nil {
		s.c.log.Error("client: encode message", "err", err)
		return false
	}
	select {
	case s.out <- data:
		return true
	case <-s.done:
		return false
	default:
		s.fail(errQueueFull)
		return false
	}
}

// sendPresence queues a presence message of doc, replacing one not yet
// sent: carets are coalesced, never queued behind each other.
func (s *session) sendPresence(doc string, msg any) {
	data, err := json.Marshal(msg)
	if err != nil {
		s.c.log.Error("client: encode message", "err", err)
		return
	}
	s.presMu.Lock()
	s.pres[doc] = data
	s.presMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *session) takePresence() [][]byte {
	s.presMu.Lock()
	defer s.presMu.Unlock()
	msgs := make([][]byte, 0, len(s.pres))
	for doc, data := range s.pres {
		msgs = append(msgs, data)
		delete(s.pres, doc)
	}
	return msgs
}

func (s *session) writeLoop() {
	defer s.wg.Done()
	var tick <-chan time.Time
	if s.c.opts.PingInterval > 0 {
		t := time.NewTicker(s.c.opts.PingInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-s.done:
			return
		case data := <-s.out:
			if !s.write(data) {
				return
			}
		case <-s.wake:
			for _, data := range s.takePresence() {
				if !s.write(data) {
					return
				}
			}
		case <-tick:
			if err := s.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(s.c.opts.WriteTimeout)); err != nil {
				s.fail(err)
				return
			}
		}
	}
}

// write writes one message, first waiting for the rate limit. It reports
// whether the session goes on.
func (s *session) write(data []byte) bool {
	if !s.pace() {
		return false
	}
	s.ws.SetWriteDeadline(time.Now().Add(s.c.opts.WriteTimeout))
	if err := s.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		s.fail(err)
		return false
	}
	return true
}

// pace takes a token from the bucket (MaxRate per second, as many in a
// burst), waiting for one if needed, so that the server's message rate
// limit (close 1008) is never reached. Waiting only delays the writer:
// meanwhile local edits compose into the buffer.
func (s *session) pace() bool {
	rate := s.c.opts.MaxRate
	if rate <= 0 {
		return true
	}
	now := time.Now()
	s.tokens = min(rate, s.tokens+now.Sub(s.last).Seconds()*rate)
	s.last = now
	if s.tokens < 1 {
		wait := time.Duration((1 - s.tokens) / rate * float64(time.Second))
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return false
		}
		s.tokens, s.last = 1, time.Now()
	}
	s.tokens--
	return true
}

func (s *session) readLoop() {
	defer s.wg.Done()
	if p := s.c.opts.PingInterval; p > 0 {
		s.ws.SetReadDeadline(time.Now().Add(2 * p))
		s.ws.SetPongHandler(func(string) error {
			return s.ws.SetReadDeadline(time.Now().Add(2 * p))
		})
	}
	var buf []byte // reused: dispatch copies what it keeps
	for {
		typ, data, err := readMessage(s.ws, buf[:0])
		if err != nil {
			s.fail(closeErr(err))
			return
		}
		if cap(data) <= maxKeptBuffer {
			buf = data
		}
		if p := s.c.opts.PingInterval; p > 0 {
			s.ws.SetReadDeadline(time.Now().Add(2 * p))
		}
		if typ != websocket.TextMessage {
			s.fail(fmt.Errorf("%w: binary frame", ErrProtocol))
			return
		}
		if err := s.c.dispatch(s, data); err != nil {
			s.fail(err)
			return
		}
	}
}

// maxKeptBuffer is the largest read buffer the reader keeps for the next
// message; a bigger one (a joined document's whole text) is let go.
const maxKeptBuffer = 64 << 10

// readMessage reads the next message into buf, which it grows as needed:
// gorilla's ReadMessage allocates a new buffer for every message.
func readMessage(ws *websocket.Conn, buf []byte) (typ int, data []byte, err error) {
	typ, r, err := ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return typ, buf, nil
		}
		if err != nil {
			return 0, nil, err
		}
	}
}

// closeErr turns a close frame that forbids reconnecting into a *CloseError.
func closeErr(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Code {
	case websocket.CloseGoingAway, websocket.CloseAbnormalClosure, websocket.CloseInternalServerErr,
		websocket.CloseServiceRestart, websocket.CloseTryAgainLater, websocket.CloseNormalClosure,
		wire.CloseTooSlow:
		return err
	}
	return &CloseError{Code: ce.Code, Text: ce.Text}
}

// permanent reports whether err forbids reconnecting.
func permanent(err error) bool {
	var (
		ce *CloseError
		se *ServerError
		he *HandshakeError
	)
	if errors.As(err, &he) {
		return he.StatusCode != http.StatusTooManyRequests && he.StatusCode != http.StatusRequestTimeout
	}
	return errors.Is(err, ErrClosed) || errors.Is(err, ErrProtocol) ||
		errors.As(err, &ce) || (errors.As(err, &se) && !transientCode(se.Code))
}

// transientCode reports whether an error is retried after a backoff: the
// server could not, or would not for now, take what was asked.
func transientCode(code string) bool {
	switch code {
	case wire.CodeUnavailable, wire.CodeInternal, wire.CodeTooManyLoaded, wire.CodeRateLimited, wire.CodeQuotaExceeded:
		return true
	}
	return false
}
