package collab

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/collabd/collab/collab/internal/wsconn"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

// Server serves the WebSocket protocol at /ws and the HTTP API at /api/…,
// plus /healthz and /metrics. Create it with NewServer; it is an
// http.Handler to mount in any mux.
type Server struct {
	store    storage.Store
	opts     Options
	log      *slog.Logger
	metrics  *metrics
	reg      *registry
	origins  originChecker
	hosts    hostChecker
	auth     *authenticator // nil: authentication off
	revoked  *revocations   // revocations in force
	connRate *ipLimiter     // nil: no per-IP connection limit
	apiRate  *ipLimiter     // nil: no per-IP API request limit
	perIP    *ipCounter     // nil: no per-IP cap on open connections and requests
	tcpPeers *ipCounter     // nil: no cap; HTTP connections per peer address (see ConnState)
	growth   *ipLimiter     // bytes of ops per document id (Options.DocGrowth)
	// httpPhase is each open HTTP connection's last state (net.Conn ->
	// http.ConnState), for countClosed; net/http calls ConnState from the
	// connections' own goroutines.
	httpPhase sync.Map
	upgrader  *wsconn.Upgrader
	mux       *http.ServeMux
	limits    *wire.Limits // advertised in welcome; immutable
	changes   *changeFeed  // nil without Options.Changes

	quit     chan struct{} // closed by Shutdown
	quitOnce sync.Once
	wg       sync.WaitGroup // every goroutine the server starts

	mu      sync.Mutex
	clients map[string]*conn   // guarded by mu: connection of each client id
	opened  atomic.Uint64      // connections accepted so far: each conn's order
	conns   map[*conn]struct{} // guarded by mu: every open connection
	closing bool               // guarded by mu
}

// NewServer returns a Server keeping documents in store.
func NewServer(store storage.Store, opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		store:    store,
		opts:     opts,
		log:      opts.Logger,
		metrics:  newMetrics(),
		origins:  newOriginChecker(opts.AllowedOrigins, opts.TrustProxy),
		hosts:    newHostChecker(opts.AllowedHosts, opts.TrustProxy),
		auth:     newAuthenticator(opts),
		connRate: newIPLimiter(opts.ConnRate, opts.ConnBurst, maxTrackedIPs),
		apiRate:  newIPLimiter(opts.APIRate, opts.APIBurst, maxTrackedIPs),
		perIP:    newIPCounter(opts.MaxConnsPerIP),
		tcpPeers: newIPCounter(opts.MaxConnsPerIP),
		growth:   newIPLimiter(float64(opts.DocGrowth)/opts.DocGrowthWindow.Seconds(), opts.DocGrowth, maxTrackedIPs),
		quit:     make(chan struct{}),
		clients:  make(map[string]*conn),
		conns:    make(map[*conn]struct{}),
	}
	if opts.Changes != nil {
		s.changes = newChangeFeed(opts.Changes, opts.ChangeQueue)
	}
	s.reg = newRegistry(s)
	s.revoked = newRevocations(s.now)
	s.loadRevocations()
	s.limits = advertisedLimits(store, opts)
	s.upgrader = wsconn.NewUpgrader(s.origins.check)
	s.routes()
	if err := CheckOrigins(opts.AllowedOrigins); err != nil {
		s.log.Error("collab: allowed origins: it will never match a page", "err", err)
	}
	if s.auth == nil {
		s.log.Warn("collab: open mode, no auth secret: anyone who can reach this server can list, read, write and delete every document; set an auth secret (collabd -auth-secret) to require tokens")
	}
	return s
}

// ServeHTTP routes /ws, /api/…, /healthz and /metrics, after refusing
// requests for hosts the server does not serve (see CheckHost).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.hostAllowed(w, r) {
		s.mux.ServeHTTP(w, r)
	}
}

// CheckHost wraps a handler served next to the Server (web pages, say)
// in the Server's Host check: requests whose Host is not one of its names
// (Options.AllowedHosts) are answered 421 host_not_allowed; /healthz is
// let through.
func (s *Server) CheckHost(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hostAllowed(w, r) {
			h.ServeHTTP(w, r)
		}
	})
}

// hostAllowed answers 421 and reports false for a request to a host the
// server does not serve.
func (s *Server) hostAllowed(w http.ResponseWriter, r *http.Request) bool {
	if host, ok := s.hosts.allowed(r); !ok && r.URL.Path != "/healthz" {
		s.limitHit(limitHost)
		s.httpError(w, hostError(host))
		return false
	}
	return true
}

// Loaded is the number of documents currently in memory.
func (s *Server) Loaded() int { return s.reg.loaded() }

// serveWS upgrades after checking, in this order and before any state is
// created: the origin (403), the per-IP connection rate and open
// connections (429), and a token given as ?token= or Authorization: Bearer
// (401 if invalid; required with a secret when the request has no Origin,
// i.e. is not from a browser).
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !s.origins.check(r) {
		s.httpError(w, errForbiddenOrigin)
		return
	}
	ip := s.clientIP(r)
	if !s.admit(w, ip, s.connRate, limitConnRate, errConnRate) {
		return
	}
	if !s.upgrade(w, r, ip) {
		s.perIP.release(ip)
	}
}

// upgrade checks the token, upgrades and starts the connection; false if
// it did not (it answered), so the caller releases ip's count.
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, ip string) bool {
	claims, err := s.upgradeClaims(r)
	if err != nil {
		s.authFailed(r, err)
		s.httpError(w, err)
		return false
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		writeError(w, ErrShuttingDown)
		return false
	}
	// The order is taken before the 101 is written, so a connection whose
	// handshake a client saw complete is older than any it opens after.
	order := s.opened.Add(1)
	ws, err := s.upgrader.Upgrade(w, r, s.transportOptions())
	if err != nil {
		return false // the upgrader answered
	}
	c := newConn(s, ws, order)
	c.claims, c.ip = claims, ip
	if s.auth != nil && s.auth.hook != nil {
		c.upgradeReq = r.WithContext(context.Background()) // for the Authenticator, at hello and join
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ws.Refuse(wsconn.CloseGoingAway, "shutting down")
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	// A goroutine of its own, so that net/http's goroutine ends and frees
	// its buffers, request and stack (about 10 KB) for the connection's life.
	go func() {
		defer s.wg.Done()
		c.serve()
	}()
	return true
}

// upgradeClaims verifies the token of an upgrade request, if any.
func (s *Server) upgradeClaims(r *http.Request) (*Claims, error) {
	if s.auth == nil {
		return nil, nil
	}
	tok := r.URL.Query().Get("token")
	if tok == "" {
		tok = bearer(r)
	}
	if tok == "" {
		if c, err := s.auth.ask(r, ""); c != nil || err != nil {
			return c, err
		}
		if r.Header.Get("Origin") == "" {
			return nil, fmt.Errorf("%w: a client without Origin must present a token (?token= or Authorization: Bearer)", ErrUnauthorized)
		}
		return nil, nil // the token may come in hello or join
	}
	return s.verify(r, tok)
}

// verify checks a token given with request r (an upgrade, or the one a
// connection was opened with) and that it is not revoked.
func (s *Server) verify(r *http.Request, token string) (*Claims, error) {
	claims, err := s.auth.check(r, token)
	if err == nil {
		err = s.revoked.check(claims, "")
	}
	return claims, err
}

// countAuth counts err if it is a refused credential or permission.
func (s *Server) countAuth(err error) {
	switch code, _ := codeOf(err); code {
	case wire.CodeUnauthorized, wire.CodeForbidden, wire.CodeReadOnly:
		s.metrics.authFailures.WithLabelValues(code).Inc()
		s.log.Debug("auth refused", "err", err)
	}
}

// authFailed counts and logs (without the token) a refused credential.
func (s *Server) authFailed(r *http.Request, err error) {
	if code, _ := codeOf(err); code == wire.CodeUnauthorized || code == wire.CodeForbidden || code == wire.CodeReadOnly {
		s.metrics.authFailures.WithLabelValues(code).Inc()
	}
	s.log.Debug("auth refused", "path", r.URL.Path, "ip", s.clientIP(r), "err", err)
}

// register makes c the connection of its client id; an older one is
// replaced (close 4001).
// register makes c the connection of its client id. Of two connections
// with one id the one opened later wins: a hello that arrives late on a
// connection its client has already left (half open) must not replace
// the connection the client now uses, so that older one is closed instead.
func (s *Server) register(c *conn) {
	s.mu.Lock()
	old := s.clients[c.client]
	if old != nil && old.order > c.order {
		s.mu.Unlock()
		c.closeWith(wire.CloseReplaced, "replaced by a newer connection")
		return
	}
	s.clients[c.client] = c
	s.mu.Unlock()
	if old != nil && old != c {
		old.closeWith(wire.CloseReplaced, "replaced by a newer connection")
	}
}

func (s *Server) unregister(c *conn) {
	s.perIP.release(c.ip)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clients[c.client] == c {
		delete(s.clients, c.client)
	}
	delete(s.conns, c)
}

// Shutdown stops accepting connections, closes every editor's connection
// with 1001, lets every document finish the commits it started, and waits
// for all the server's goroutines, or until ctx ends. It does not close the
// Store: do that after Shutdown returns.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	s.reg.close()
	for _, c := range conns {
		c.closeWith(wsconn.CloseGoingAway, "server shutting down")
	}
	s.quitOnce.Do(func() { close(s.quit) })
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		if s.changes != nil {
			s.changes.close() // after the documents, whose last commits it reports
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
