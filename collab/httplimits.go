package collab

import (
	"io"
	"net"
	"net/http"
	"time"
)

// apiByteCost is the number of bytes read or written that cost an API
// request one more token of its IP's bucket.
const apiByteCost = 64 << 10

// api wraps an API handler in the per-IP limits, before the token check
// (so guessing tokens is rate limited too): the request rate (429), the
// requests and connections open (429), and deadlines on reading the body
// and writing the answer. A request pays after the fact for the bytes it
// read and wrote. metered false exempts backups, whose size is the
// database's, from that charge and from the write deadline.
func (s *Server) api(perm Perm, h http.HandlerFunc, metered bool) http.HandlerFunc {
	guarded := s.guard(perm, h)
	return func(w http.ResponseWriter, r *http.Request) {
		ip := s.clientIP(r)
		if !s.admit(w, ip, s.apiRate, limitAPIRate, errAPIRate) {
			return
		}
		defer s.perIP.release(ip)
		// net/http replaces both deadlines before the next request on the
		// connection, after finishing this one under them.
		rc := http.NewResponseController(w)
		deadline := time.Now().Add(s.opts.RequestTimeout)
		rc.SetReadDeadline(deadline)
		if !metered {
			guarded(w, r)
			return
		}
		rc.SetWriteDeadline(deadline)
		cw := &countingWriter{ResponseWriter: w}
		cr := &countingReader{ReadCloser: r.Body}
		r.Body = cr
		guarded(cw, r)
		s.apiRate.charge(ip, float64((cw.n+cr.n)/apiByteCost))
	}
}

// admit applies to a new connection or request from ip a rate limit
// (rate, counted under label, refused with rateErr) and the cap on what ip
// holds open; false if it answered 429. After true the caller releases ip
// from s.perIP when done.
func (s *Server) admit(w http.ResponseWriter, ip string, rate *ipLimiter, label string, rateErr error) bool {
	if !rate.allow(ip, time.Now()) {
		s.limitHit(label)
		s.httpError(w, rateErr)
		return false
	}
	if !s.perIP.acquire(ip) {
		s.limitHit(limitConnsPerIP)
		s.httpError(w, errConnsPerIP)
		return false
	}
	return true
}

// countingWriter counts the bytes of an answer.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingReader counts the bytes of a request body.
type countingReader struct {
	io.ReadCloser
	n int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n += int64(n)
	return n, err
}

// ConnState, set as the http.Server's ConnState, caps the HTTP connections
// one peer address holds open, idle keep-alive ones included, at
// Options.MaxConnsPerIP: a connection beyond the cap is closed at once. A
// WebSocket leaves this count when it is upgraded (it is counted per
// client IP from then on). With TrustProxy it does not cap: every
// connection comes from the proxy. It also counts the connections the
// header and idle timeouts close (countClosed).
func (s *Server) ConnState(c net.Conn, state http.ConnState) {
	s.countClosed(c, state)
	if s.opts.TrustProxy || s.tcpPeers == nil {
		return
	}
	ip, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return
	}
	switch state {
	case http.StateNew:
		if !s.tcpPeers.acquire(ip) {
			s.limitHit(limitConnsPerIP)
			s.tcpPeers.add(ip) // StateClosed follows and releases it
			c.Close()
		}
	case http.StateHijacked, http.StateClosed:
		s.tcpPeers.release(ip)
	}
}

// countClosed counts the HTTP connections that close before their first
// request or while idle between requests, which is what the header and
// idle timeouts close; net/http does not say which side closed, so a
// client's own closes count too.
func (s *Server) countClosed(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateHijacked:
		s.httpPhase.Delete(c)
	case http.StateClosed:
		if prev, ok := s.httpPhase.LoadAndDelete(c); ok && prev != http.StateActive {
			s.metrics.httpClosed.WithLabelValues(prev.(http.ConnState).String()).Inc()
		}
	default:
		s.httpPhase.Store(c, state)
	}
}
