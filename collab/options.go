package collab

import (
	"log/slog"
	"time"
)

// Options configure a Server. The zero value of each field selects the
// default given in its comment.
type Options struct {
	// AllowedOrigins are the origins (scheme://host[:port], exact match) of
	// pages on other sites allowed to open a WebSocket. Same-origin pages
	// and clients that send no Origin are always allowed.
	AllowedOrigins []string

	// AuthSecret, when set, turns authentication on: every WebSocket join
	// and every /api request needs a token signed with it (see Claims,
	// MintToken and docs/security.md). Without it every document is open
	// to anyone who can reach the server.
	AuthSecret []byte

	// AuthAudience and AuthIssuer, when set, must be a token's aud (or
	// one of them) and its iss: set them when the secret also signs
	// tokens for other services, or when several applications mint tokens.
	AuthAudience string
	AuthIssuer   string

	// Authenticator, when set, turns authentication on and checks
	// credentials with the application's rules, for WebSocket upgrades,
	// hello and join, and /api requests alike; tokens it does not know are
	// checked against AuthSecret, if set (see Authenticator).
	Authenticator Authenticator

	// AllowedHosts are the host names (or addresses) requests may carry in
	// Host, besides localhost, its subdomains and loopback addresses, which
	// are always allowed; the port is not compared. "*" allows any host.
	// Other requests are answered 421 host_not_allowed: a page whose name
	// an attacker re-points at the server (DNS rebinding) must not reach
	// it. Behind a trusted proxy the host is X-Forwarded-Host's. /healthz
	// answers any host.
	AllowedHosts []string

	// TrustProxy makes the server believe X-Forwarded-Proto,
	// X-Forwarded-Host and X-Forwarded-For: set it only behind a reverse
	// proxy that sets them (and strips what clients send).
	TrustProxy bool

	// ConnRate is the number of new WebSocket connections per second
	// allowed from one IP, in bursts of ConnBurst (default 100); beyond it
	// the upgrade is answered 429. Zero: no per-IP limit.
	ConnRate  float64
	ConnBurst int

	// MaxConnsPerIP bounds what one IP holds open at once: WebSocket
	// connections plus HTTP API requests in progress; beyond it the
	// upgrade or request is answered 429 rate_limited. With
	// Server.ConnState as the http.Server's hook it also bounds the HTTP
	// connections of one peer address. Default 1000; negative: no limit.
	MaxConnsPerIP int

	// APIRate is the number of HTTP API requests per second allowed from
	// one IP, in bursts of APIBurst (default 100); beyond it requests are
	// answered 429 rate_limited. Each 64 KiB a request reads or writes
	// (backups aside) costs one request more, after the fact, so that large
	// texts and replays weigh by their size. Default 20; negative: no
	// limit.
	APIRate  float64
	APIBurst int

	// RequestTimeout bounds the time to read an API request's body and to
	// write its answer (a backup's answer is not bounded); default 60s.
	RequestTimeout time.Duration

	// HelloWait is the time a new connection has to send hello before it
	// is closed with 1008; default 10s.
	HelloWait time.Duration

	MaxFrame   int64   // largest accepted WebSocket frame in bytes; default 1 MiB
	MaxDocSize int     // largest document in UTF-8 bytes; default 16 MiB
	Rate       float64 // messages per second per connection; default 200
	Burst      int     // token bucket size; default 400
	QueueLen   int     // outbound messages queued per connection; default 256
	MaxCatchUp uint64  // most ops sent to a resuming client before a reset; default 1000
	Window     int     // recent ops kept in memory per loaded document; default 256
	MaxDocs    int     // documents one connection may join; default 64
	MaxEditors int     // editors per document; default 1000
	// MaxLoaded is the most documents in memory at once; a join (or HTTP
	// write) of another first unloads the one idle longest, or when every
	// loaded document has editors fails with ErrTooManyLoaded. Default 10000.
	MaxLoaded int
	Grace     time.Duration // a document unloads this long after its last editor leaves; default 30s

	// Limits by bytes. An op's bytes are its ot.Op.Size: its text plus
	// about 24 bytes per component, what it holds in memory.

	// WindowBytes bounds the recent ops kept in memory per loaded
	// document, with Window; default 4 MiB.
	WindowBytes int
	// MaxCatchUpBytes bounds the ops of one joined catch-up (beyond it a
	// resuming client gets the text, reset) and of one page of
	// GET /api/docs/{id}/ops (beyond it, next); default 4 MiB. A submit
	// whose ops since its rev exceed it is refused rev_too_old.
	MaxCatchUpBytes int
	// WriteRate is the bytes of ops per second one connection may submit,
	// in bursts of WriteBurst (default 4 MiB; an op larger than the burst
	// passes when the bucket is full); beyond it a submit is refused
	// rate_limited. Default 1 MiB/s; negative: no limit.
	WriteRate  float64
	WriteBurst int
	// DocGrowth is the bytes of ops one document accepts per
	// DocGrowthWindow (default 1h), from all its writers together, as a
	// token bucket refilled evenly over the window; beyond it a submit or
	// PUT is refused quota_exceeded. Default 256 MiB: 16 rewrites of a
	// document of the largest size; negative: no limit.
	DocGrowth       int
	DocGrowthWindow time.Duration
	// MaxTransform bounds the transform work of one submit: the op's
	// components times the ops it is transformed over, plus those ops'
	// components. One editor may spend as much per second. Beyond it the
	// submit is refused rev_too_old (the client rejoins and rebases its
	// edits itself). Default 100,000.
	MaxTransform int

	// A peer that sends no pong for PongWait is dropped, and its
	// documents' other editors see it leave: a half-dead connection costs
	// them a stale caret for that long. A ping every PingPeriod asks live
	// peers for a pong; the difference is how long a live peer's pong may
	// wait behind what it reads first. Defaults 15s and 30s.
	PingPeriod   time.Duration
	PongWait     time.Duration
	WriteWait    time.Duration // deadline of one write; default 10s
	StoreTimeout time.Duration // deadline of one store call; default 10s

	// Changes, when set, is called with every change this server commits:
	// ops, deletions and named versions, in commit order per document,
	// from one goroutine of the server's (see Change). It never holds up
	// editing: changes wait for it in a queue of ChangeQueue (default
	// 4096); when that is full a document's changes are dropped and
	// Changes later gets one Missed change saying from which revision to
	// read them from the store. Shutdown waits for it to return. With a
	// shared store (cluster mode) each server reports its own commits,
	// except one whose acknowledgement from the store was lost (the
	// server learns it from the log like another server's): none reports
	// that one.
	Changes     func(Change)
	ChangeQueue int

	// Logger receives the server's logs; default slog.Default().
	Logger *slog.Logger

	clock func() time.Time // tests: the time tokens are checked at; nil: time.Now
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.MaxFrame <= 0 {
		o.MaxFrame = 1 << 20
	}
	def(&o.MaxDocSize, 16<<20)
	if o.Rate <= 0 {
		o.Rate = 200
	}
	def(&o.Burst, 400)
	def(&o.QueueLen, 256)
	if o.MaxCatchUp == 0 {
		o.MaxCatchUp = 1000
	}
	def(&o.Window, 256)
	def(&o.WindowBytes, 4<<20)
	def(&o.MaxCatchUpBytes, 4<<20)
	if o.WriteRate == 0 {
		o.WriteRate = 1 << 20
	}
	def(&o.WriteBurst, 4<<20)
	if o.DocGrowth == 0 {
		o.DocGrowth = 256 << 20
	}
	defDur(&o.DocGrowthWindow, time.Hour)
	def(&o.MaxTransform, 100_000)
	def(&o.ChangeQueue, 4096)
	def(&o.MaxDocs, 64)
	def(&o.MaxEditors, 1000)
	def(&o.MaxLoaded, 10000)
	defDur(&o.Grace, 30*time.Second)
	def(&o.ConnBurst, 100)
	if o.MaxConnsPerIP == 0 {
		o.MaxConnsPerIP = 1000
	}
	if o.APIRate == 0 {
		o.APIRate = 20
	}
	def(&o.APIBurst, 100)
	defDur(&o.RequestTimeout, time.Minute)
	defDur(&o.HelloWait, 10*time.Second)
	defDur(&o.PingPeriod, 15*time.Second)
	defDur(&o.PongWait, 30*time.Second)
	defDur(&o.WriteWait, 10*time.Second)
	defDur(&o.StoreTimeout, 10*time.Second)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}
