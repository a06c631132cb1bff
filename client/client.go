// Package client is the Go client of the collab WebSocket protocol
// (docs/protocol.md): bots, tools, load generators and the server's own
// integration tests edit documents through it.
//
// # Use
//
//	conn, err := client.Dial(ctx, "ws://host/ws", client.Options{Reconnect: true})
//	doc, err := conn.Join(ctx, "notes")
//	err = doc.Insert(0, "hello")   // applied locally at once, sent in the background
//	err = doc.WaitSynced(ctx)      // acknowledged: durably committed by the server
//	conn.Close()
//
// # Document state machine
//
// Each Doc is the three-state client of ot.js. Synchronised: nothing
// pending. Awaiting ack: one op in flight, numbered with the document's
// next seq (1, 2, 3, …). Awaiting ack with buffer: further local edits are
// composed into one buffered op, which is numbered and sent only when the
// in-flight op is acknowledged. A remote op is transformed against the
// in-flight and buffered ops (the server's op wins ties, as the server
// transforms a later submit over earlier commits) and applied to the local
// text; carets of other editors move through every op applied locally.
//
// An op keeps its seq for ever. While it is pending it is transformed over
// the remote ops that arrive, which changes its base but not its effect, so
// a resubmission under the same seq is the same edit and the server's
// (client, seq) dedupe applies: every local edit is committed exactly once.
//
// # Reconnecting
//
// With Options.Reconnect, a connection that drops (network error, close
// 1001 shutdown, 4002 too slow, 1011, abnormal closure) is redialled with
// exponential backoff and jitter under the same client id. Pending edits
// are kept, and local edits may continue offline. Each document is
// rejoined from the last revision known: the ops of joined are applied
// (one of them may be the in-flight op itself, which then counts as its
// ack), and the in-flight op is resubmitted at once with its original seq.
// A joined with a full text (reset) drops the pending ops the server
// already has (seq ≤ joined.seq), rebases the others over the difference
// between the last known server text and the new one, and resubmits them.
// Offline, the other editors' carets are dropped (an EventLeave for each):
// nobody updates them; the rejoin brings the carets of those still there.
// Close, close 4001 (replaced by a newer connection with the same client
// id), 1008 (policy, auth), other protocol close codes and a refused hello
// or handshake end the Conn for good: Err reports why.
//
// # Errors
//
// Server errors are *ServerError values (errors.As). A submit the server
// refuses for good (invalid_op, doc_too_large, read_only, …) is dropped:
// its effect is removed from the local text by its inverse, transformed
// through the edits made after it, which stay pending, and an EventReject
// reports it. The server did not apply it, so no rejoin is needed, and
// it is never sent again, also after a reconnect.
//
// # Large edits
//
// An edit whose submit would pass the limits the server advertised in
// welcome (message size, op size, items of an op) is sent as several
// submits, each a valid op with its own seq, which compose to the edit
// (see docs/protocol.md, Large edits). One that would also make the
// document larger than the server takes is refused before anything is
// sent: an EventReject with Seq 0 and doc_too_large.
// rev_too_old and not_joined make the client rejoin the document;
// unavailable, too_many_loaded, internal, rate_limited and quota_exceeded
// drop the connection so that it is retried after a backoff (or, without
// Reconnect, end the Conn).
// not_found (the document was deleted; ServerError.By names who, when the
// server knows) and a refused rejoin end the Doc; Doc.Err says why. So
// does a rejoin answered with a full text at a lower revision than the Doc
// had: the document was deleted while the client was offline. The client
// never rejoins a deleted document by itself, which would recreate it from
// its pending edits; its text stays readable.
//
// # Flow control
//
// The writer sends at most Options.MaxRate messages per second, below the
// server's rate limit, whose close 1008 would be final. Slowing down loses
// nothing: edits made meanwhile compose into the buffer. Carets are
// coalesced per document: only the latest unsent one is sent.
//
// # Concurrency
//
// Conn and Doc methods are safe for concurrent use; each Doc's state is
// guarded by its mutex. Each connection has one reader goroutine, which
// applies incoming messages to the documents, and one writer goroutine
// draining a bounded queue; a third goroutine redials. Close ends them all
// and waits for them. Events are delivered on a bounded channel per Doc and
// never block the reader: when it is full, events are dropped and the next
// delivered event counts them in Missed. Events are notifications only; the
// state (Text, Rev, Presence, Pending) is always current.
package client

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"

	"github.com/gorilla/websocket"
)

// Options configure a Conn. The zero value works.
type Options struct {
	// ClientID identifies this client across reconnects: 1–64 letters,
	// digits, '-' or '_'. Empty means a random id. Reuse an id only to
	// resume the same editing state; two live connections with one id
	// replace each other (close 4001).
	ClientID string
	Name     string // shown to other editors
	Color    string // shown to other editors: "#rgb", "#rrggbb" or "#rrggbbaa", e.g. "#d33"
	Token    string // sent in hello and as Authorization: Bearer on the handshake
	// TokenFunc, when set, returns a new token: before a dial if Token is
	// empty or due for renewal, and on the open connection (an auth
	// message) before the token expires (a minute before, or when a quarter
	// of its life is left) or when the server ended a document's session
	// for its token, which then rejoins with its pending edits.
	TokenFunc func(ctx context.Context) (string, error)
	// Header is sent with the WebSocket handshake (e.g. Origin).
	Header http.Header
	// Dialer defaults to a websocket.Dialer without compression.
	Dialer *websocket.Dialer

	// Reconnect redials after the connection drops, with exponential
	// backoff between MinDelay (default 100ms) and MaxDelay (default 10s)
	// and jitter; without it, a dropped connection ends the Conn.
	Reconnect bool
	MinDelay  time.Duration
	MaxDelay  time.Duration
	// Rand draws the backoff's jitter; default the global source. A test
	// gives each Conn a seeded one so that a run replays from its seed.
	// Only the Conn's reconnecting goroutine uses it.
	Rand *rand.Rand
	// Diff computes the server's change that a reset (a joined with the
	// whole text) rebases the pending edits over, from the last server
	// text known to the new one; default ot.Diff. It must return an op
	// turning before into after. A test records it (the protocol
	// simulation hands the Go client's diffs to the browser's client,
	// whose own diff places edits differently).
	Diff func(before, after string) ot.Op

	// Logger defaults to slog.Default().
	Logger *slog.Logger

	QueueSize        int           // outbound messages per connection (default 256)
	EventBuffer      int           // events buffered per Doc (default 256)
	HandshakeTimeout time.Duration // dial, hello and welcome (default 10s)
	WriteTimeout     time.Duration // one message write (default 10s)
	// PingInterval between pings; a connection silent for two intervals
	// is dropped. Default 20s; negative disables pings.
	PingInterval   time.Duration
	MaxMessageSize int64 // largest message read (default 64 MiB)
	// MaxRate is the most messages per second the client sends, in bursts
	// of as many, to stay under the server's rate limit (default 100, half
	// the server's default; negative: no limit). Edits made meanwhile are
	// composed and sent together.
	MaxRate float64
}

func (o *Options) setDefaults() error {
	if o.ClientID == "" {
		var b [8]byte
		crand.Read(b[:])
		o.ClientID = "c-" + hex.EncodeToString(b[:])
	}
	if !validClientID(o.ClientID) {
		return fmt.Errorf("%w: %q", ErrClientID, o.ClientID)
	}
	if o.Color != "" && !wire.ValidColor(o.Color) {
		return fmt.Errorf("%w: %q", ErrColor, o.Color)
	}
	if o.MinDelay <= 0 {
		o.MinDelay = 100 * time.Millisecond
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = 10 * time.Second
	}
	o.MaxDelay = max(o.MaxDelay, o.MinDelay)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.EventBuffer <= 0 {
		o.EventBuffer = 256
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 20 * time.Second
	}
	if o.Diff == nil {
		o.Diff = ot.Diff
	}
	if o.MaxRate == 0 {
		o.MaxRate = 100
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 64 << 20
	}
	return nil
}

func validClientID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Conn is a client connection to a collab server, kept alive across
// reconnects when Options.Reconnect is set. It may hold several documents.
type Conn struct {
	url    string
	opts   Options
	id     string
	pub    string // wire.PublicID(id): how the server shows us to others
	log    *slog.Logger
	dialer *websocket.Dialer

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // run
	done   chan struct{}  // closed when the Conn has ended

	mu    sync.Mutex
	docs  map[string]*Doc // guarded by mu
	sess  *session        // guarded by mu; the live session, nil while offline
	token string          // guarded by mu; the token of the next hello or auth
	renew time.Time       // guarded by mu; when to renew token; zero: never
	// tokenNow asks run for a new token (cap 1); tokenStale says the
	// server ended a session for the token, so the next dial needs a new one.
	tokenNow   chan struct{}
	tokenStale atomic.Bool
	status     Status // guarded by mu
	err        error  // guarded by mu; why the Conn ended
}

// Dial connects to the collab WebSocket endpoint at url (ws:// or wss://,
// e.g. "ws://localhost:8080/ws") and says hello. The first connection is
// made before Dial returns: its failure is Dial's error, also with
// Reconnect. ctx bounds only the dial.
func Dial(ctx context.Context, url string, opts Options) (*Conn, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	c := &Conn{
		url:    url,
		opts:   opts,
		id:     opts.ClientID,
		pub:    wire.PublicID(opts.ClientID),
		log:    opts.Logger,
		dialer: opts.Dialer,
		done:   make(chan struct{}),
		docs:   make(map[string]*Doc),
		token:  opts.Token,
		renew:  renewAt(opts.Token, time.Now()),

		tokenNow: make(chan struct{}, 1),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if c.dialer == nil {
		c.dialer = &websocket.Dialer{HandshakeTimeout: opts.HandshakeTimeout}
	}
	s, err := c.connect(ctx)
	if err != nil {
		c.cancel()
		return nil, err
	}
	c.wg.Add(1)
	go c.run(s)
	return c, nil
}

// ClientID returns the client id sent in hello. Keep it private: whoever
// holds it can act as this client.
func (c *Conn) ClientID() string { return c.id }

// PublicID returns how other editors see this client: the Client of its
// ops, carets and arrivals in their events (wire.PublicID of ClientID).
func (c *Conn) PublicID() string { return c.pub }

// Status reports whether the Conn is online, offline (reconnecting) or closed.
func (c *Conn) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Done is closed when the Conn has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the Conn ended (ErrClosed after Close), or nil.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the connection and every goroutine of the Conn, and waits for
// them. Pending edits not yet acknowledged are abandoned: call
// Doc.WaitSynced first to keep them. Documents stay readable.
func (c *Conn) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// run owns the connection life cycle: it serves one session at a time and
// redials after it ends, until Close or a permanent error.
func (c *Conn) run(s *session) {
	defer c.wg.Done()
	attempt := 0
	for {
		c.attach(s)
		s.start()
		c.serve(s)
		s.wg.Wait()
		err := s.err
		c.detach(s)
		if c.ctx.Err() != nil {
			c.finish(ErrClosed)
			return
		}
		if !c.opts.Reconnect || permanent(err) {
			c.finish(err)
			return
		}
		c.log.Info("client: connection lost, reconnecting", "client", c.id, "err", err)
		if time.Since(s.started) > c.opts.MaxDelay {
			attempt = 0 // the connection was healthy: start the backoff again
		}
		if s, attempt = c.redial(attempt); s == nil {
			return
		}
	}
}

// serve waits for s to end, renewing the token on it when due.
func (c *Conn) serve(s *session) {
	renew := c.renewTimer()
	defer func() {
		if renew != nil {
			renew.Stop()
		}
	}()
	for {
		select {
		case <-s.done:
			return
		case <-c.ctx.Done():
			s.shutdown()
			return
		case <-timerC(renew):
			c.refreshOn(s)
			renew = c.renewTimer()
		case <-c.tokenNow:
			c.refreshOn(s)
			if renew != nil {
				renew.Stop()
			}
			renew = c.renewTimer()
		}
	}
}

// redial dials until it succeeds, sleeping with backoff before each try.
// It returns nil, having ended the Conn, after Close or a permanent error.
func (c *Conn) redial(attempt int) (*session, int) {
	for {
		t := time.NewTimer(c.backoff(attempt))
		attempt++
		select {
		case <-c.ctx.Done():
			t.Stop()
			c.finish(ErrClosed)
			return nil, attempt
		case <-t.C:
		}
		s, err := c.connect(c.ctx)
		if err == nil {
			return s, attempt
		}
		if c.ctx.Err() != nil {
			c.finish(ErrClosed)
			return nil, attempt
		}
		if permanent(err) {
			c.finish(err)
			return nil, attempt
		}
		c.log.Info("client: reconnect failed", "client", c.id, "attempt", attempt, "err", err)
	}
}

// backoff returns the delay before reconnect attempt n: exponential from
// MinDelay to MaxDelay, with jitter over its upper half.
func (c *Conn) backoff(n int) time.Duration {
	d := c.opts.MinDelay << min(n, 30)
	if d <= 0 || d > c.opts.MaxDelay {
		d = c.opts.MaxDelay
	}
	if r := c.opts.Rand; r != nil {
		return d/2 + time.Duration(r.Int64N(int64(d/2+1)))
	}
	return d/2 + rand.N(d/2+1)
}

// attach makes s the live session and (re)joins every document on it.
func (c *Conn) attach(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = s
	c.status = StatusOnline
	for _, d := range c.docs {
		d.mu.Lock()
		d.join(s)
		d.mu.Unlock()
	}
}

// detach marks every document offline after s ended.
func (c *Conn) detach(s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sess = nil
	c.status = StatusOffline
	for _, d := range c.docs {
		d.mu.Lock()
		d.offline(s)
		d.mu.Unlock()
	}
}

// finish ends the Conn for good with err and ends every document.
func (c *Conn) finish(err error) {
	if err == nil {
		err = ErrClosed
	}
	c.mu.Lock()
	c.status = StatusClosed
	c.err = err
	docs := c.docs
	c.docs = make(map[string]*Doc)
	c.mu.Unlock()
	for _, d := range docs {
		d.mu.Lock()
		d.end(err)
		d.mu.Unlock()
	}
	close(c.done)
	c.log.Debug("client: closed", "client", c.id, "err", err)
}

// doc returns the document id, or nil.
func (c *Conn) doc(id string) *Doc {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.docs[id]
}

// remove forgets d if it is still the document under its id.
func (c *Conn) remove(d *Doc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs[d.id] == d {
		delete(c.docs, d.id)
	}
}

// dispatch handles one message read by s's reader. An error ends s.
func (c *Conn) dispatch(s *session, data []byte) error {
	msg, err := wire.DecodeServer(data)
	switch {
	case errors.Is(err, wire.ErrUnknownType):
		c.log.Debug("client: ignoring message", "err", err)
		return nil
	case err != nil:
		// An undecodable op would leave a gap: the server broke the
		// protocol, and resuming would only repeat it.
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	if m, ok := msg.(*wire.Authed); ok {
		c.onAuthed(m)
		return nil
	}
	doc := docOf(msg)
	if m, ok := msg.(*wire.Error); ok && doc == "" {
		c.log.Warn("client: server error", "client", c.id, "code", m.Code, "message", m.Message)
		if transientCode(m.Code) {
			return &ServerError{Code: m.Code, Message: m.Message}
		}
		return nil
	}
	if doc == "" {
		return nil // welcome, pong: nothing for a document
	}
	d := c.doc(doc)
	if d == nil {
		return nil // left, or never joined
	}
	d.mu.Lock()
	gone, err := d.handle(s, msg)
	d.mu.Unlock()
	if gone {
		c.remove(d)
	}
	return err
}

// docOf is the document a message from the server is about; "" for none.
func docOf(msg any) string {
	switch m := msg.(type) {
	case *wire.Joined:
		return m.Doc
	case *wire.Ack:
		return m.Doc
	case *wire.Op:
		return m.Doc
	case *wire.Presence:
		return m.Doc
	case *wire.Editor:
		return m.Doc
	case *wire.Error:
		return m.Doc
	}
	return ""
}
