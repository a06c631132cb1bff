package collab

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Limits, as labels of collab_limit_hits_total.
const (
	limitConnRate    = "conn_rate"     // new connections per IP
	limitMsgRate     = "msg_rate"      // messages per connection
	limitEditors     = "editors"       // editors per document
	limitDocs        = "docs"          // documents per connection
	limitHandshake   = "handshake"     // time to send hello
	limitQueue       = "queue"         // outbound queue of a slow client
	limitFrame       = "frame"         // frame size
	limitHost        = "host"          // requests for a host not served
	limitLoaded      = "loaded"        // documents loaded on the server
	limitConnsPerIP  = "conns_per_ip"  // open connections and requests per IP
	limitAPIRate     = "api_rate"      // API requests (and bytes) per IP
	limitRequestTime = "request_time"  // an API request's body too slow
	limitWriteRate   = "write_rate"    // bytes of ops per connection
	limitDocGrowth   = "doc_growth"    // bytes of ops per document
	limitCatchUp     = "catch_up"      // a submit or caret older than the catch-up limits
	limitTransform   = "transform"     // transform work of a submit, or of an editor per second
	limitHistory     = "history_bytes" // a catch-up or /ops page cut by its byte budget
	limitDocSize     = "doc_size"      // an op or PUT that would make a document too large
	maxTrackedIPs    = 10000           // bound of the per-IP limiter's map
	ipLimiterMaxAge  = 5 * time.Minute // idle buckets older than this are dropped first
)

// ipLimiter is a token bucket per client IP for new connections (and per
// document id for the bytes documents grow by). Its map is bounded: when
// full, buckets that have refilled are dropped, and if none has, an
// arbitrary one (which only makes that key's limit laxer).
type ipLimiter struct {
	rate  float64 // tokens per second
	burst float64
	max   int

	mu      sync.Mutex
	buckets map[string]*ipBucket // guarded by mu
}

type ipBucket struct {
	tokens float64
	last   time.Time
}

func newIPLimiter(rate float64, burst, max int) *ipLimiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &ipLimiter{rate: rate, burst: float64(burst), max: max, buckets: make(map[string]*ipBucket)}
}

// allow takes a token from ip's bucket. A nil limiter allows everything.
func (l *ipLimiter) allow(ip string, now time.Time) bool { return l.allowN(ip, 1, now) }

// allowN takes n tokens from key's bucket. More than the burst are taken
// from a full bucket, which goes into debt: a request larger than the
// burst is not refused for ever, and the long-run rate still holds.
func (l *ipLimiter) allowN(key string, n float64, now time.Time) bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.max {
			l.evict(now)
		}
		b = &ipBucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	return takeTokens(&b.tokens, &b.last, n, l.rate, l.burst, now)
}

// takeTokens refills a token bucket to now and takes n tokens from it if
// it holds them, or holds its whole burst (see allowN).
func takeTokens(tokens *float64, last *time.Time, n, rate, burst float64, now time.Time) bool {
	*tokens = min(burst, *tokens+now.Sub(*last).Seconds()*rate)
	*last = now
	if *tokens < min(n, burst) {
		return false
	}
	*tokens -= n
	return true
}

// evict makes room for one bucket; called with mu held.
func (l *ipLimiter) evict(now time.Time) {
	for ip, b := range l.buckets {
		full := time.Duration((l.burst - b.tokens) / l.rate * float64(time.Second))
		if age := now.Sub(b.last); age >= full || age >= ipLimiterMaxAge {
			delete(l.buckets, ip)
		}
	}
	for ip := range l.buckets {
		if len(l.buckets) < l.max {
			break
		}
		delete(l.buckets, ip)
	}
}

// charge takes n more tokens from ip's bucket, into debt if need be: the
// cost of a request known only once it is served. A nil limiter and an
// untracked IP are not charged.
func (l *ipLimiter) charge(ip string, n float64) {
	if l == nil || n <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.buckets[ip]; b != nil {
		b.tokens -= n
	}
}

func (l *ipLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// ipCounter counts what each client IP holds open at once (WebSocket
// connections and HTTP API requests in progress) and refuses more than
// max. Its map holds only IPs with something open.
type ipCounter struct {
	max int

	mu   sync.Mutex
	open map[string]int // guarded by mu: no zero entries
}

func newIPCounter(max int) *ipCounter {
	if max <= 0 {
		return nil
	}
	return &ipCounter{max: max, open: make(map[string]int)}
}

// acquire counts one more for ip, or reports false at the cap. A nil
// counter allows everything.
func (c *ipCounter) acquire(ip string) bool {
	if c == nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[ip] >= c.max {
		return false
	}
	c.open[ip]++
	return true
}

// add counts one more for ip even past the cap.
func (c *ipCounter) add(ip string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.open[ip]++
}

// release undoes one acquire or add.
func (c *ipCounter) release(ip string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open[ip] <= 1 {
		delete(c.open, ip)
		return
	}
	c.open[ip]--
}

// clientIP is the address the request came from: the connection's peer, or
// with TrustProxy the last X-Forwarded-For entry (the one the proxy added).
func (s *Server) clientIP(r *http.Request) string {
	if s.opts.TrustProxy {
		if ip := net.ParseIP(lastForwarded(r, "X-Forwarded-For")); ip != nil {
			return ip.String()
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitHit counts one refusal by a limit.
func (s *Server) limitHit(limit string) { s.metrics.limits.WithLabelValues(limit).Inc() }

// advertisedLimits are the sizes welcome advertises: what a submit must
// stay within to be accepted, from the options, the op decoder's limits
// and the store's record size.
func advertisedLimits(store storage.Store, opts Options) *wire.Limits {
	l := &wire.Limits{
		Frame:      opts.MaxFrame,
		Doc:        opts.MaxDocSize,
		Op:         ot.DefaultLimits.MaxInsertBytes,
		Components: ot.DefaultLimits.MaxComponents,
	}
	if s, ok := store.(storage.OpSizer); ok {
		l.Op = min(l.Op, s.MaxOpBytes())
	}
	return l
}
