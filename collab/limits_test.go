package collab

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// limitHits reads collab_limit_hits_total{limit=label}.
func limitHits(t *testing.T, srv *Server, label string) float64 {
	t.Helper()
	return metricValue(t, srv, "collab_limit_hits_total", "limit", label)
}

// upgradeRefused dials ts with hdr and checks the upgrade is refused with
// status and an error body of code.
func upgradeRefused(t *testing.T, ts *httptest.Server, hdr http.Header, status int, code string) {
	t.Helper()
	ws, res, err := dialRaw(t, ts, hdr)
	if err == nil {
		ws.Close()
		t.Fatal("the upgrade was accepted")
	}
	if res == nil || res.StatusCode != status {
		t.Fatalf("upgrade: %v %v, want %d", res, err, status)
	}
	var body wire.ErrorBody
	data, _ := io.ReadAll(res.Body)
	if json.Unmarshal(data, &body); body.Code != code {
		t.Fatalf("body %q, want code %s", data, code)
	}
}

// TestLimits: each abuse limit refuses with its code and counts in
// collab_limit_hits_total, while the editor already at work carries on.
func TestLimits(t *testing.T) {
	tests := []struct {
		name  string
		opts  Options
		limit string
		// trip runs after editor "a" joined "d"; it makes the limit trigger
		// and checks the refusal.
		trip func(t *testing.T, ts *httptest.Server, a *tclient)
	}{
		{
			name:  "connections per IP",
			opts:  Options{ConnRate: 1e-6, ConnBurst: 2}, // two connections, then none
			limit: limitConnRate,
			trip: func(t *testing.T, ts *httptest.Server, a *tclient) {
				connect(t, ts, "b")
				upgradeRefused(t, ts, nil, http.StatusTooManyRequests, wire.CodeRateLimited)
			},
		},
		{
			name:  "editors per document",
			opts:  Options{MaxEditors: 1},
			limit: limitEditors,
			trip: func(t *testing.T, ts *httptest.Server, a *tclient) {
				b := connect(t, ts, "b")
				b.send(wire.Join{Type: wire.TypeJoin, Doc: "d"})
				b.expectError(wire.CodeTooManyEditors)
				b.join("other", nil) // b itself is fine
			},
		},
		{
			name:  "documents per connection",
			opts:  Options{MaxDocs: 1},
			limit: limitDocs,
			trip: func(t *testing.T, ts *httptest.Server, a *tclient) {
				a.send(wire.Join{Type: wire.TypeJoin, Doc: "d2"})
				a.expectError(wire.CodeTooManyDocs)
			},
		},
		{
			name:  "document size",
			opts:  Options{MaxDocSize: 8},
			limit: limitDocSize,
			trip: func(t *testing.T, ts *httptest.Server, a *tclient) {
				a.submit("d", 1, 2, insertAt(1, 1, "too long"))
				if e := a.expectError(wire.CodeDocTooLarge); e.Seq != 2 {
					t.Fatalf("error %+v, want seq 2", e)
				}
			},
		},
		{
			name: "hello timeout",
			// Long enough that editor a's own hello, sent right after its
			// upgrade, beats the timer however loaded the machine is; the
			// silent connection just waits that long.
			opts:  Options{HelloWait: 2 * time.Second},
			limit: limitHandshake,
			trip: func(t *testing.T, ts *httptest.Server, a *tclient) {
				ws, _, err := dialRaw(t, ts, nil)
				if err != nil {
					t.Fatal(err)
				}
				silent := &tclient{t: t, ws: ws, id: "silent"}
				t.Cleanup(func() { ws.Close() })
				if code := silent.closeCode(); code != websocket.ClosePolicyViolation {
					t.Fatalf("silent connection closed with %d, want 1008", code)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, ts := startServer(t, newTestStore(t), tt.opts)
			a := connect(t, ts, "a")
			a.join("d", nil)
			a.submit("d", 0, 1, insertAt(0, 0, "x"))
			a.ack(1)
			tt.trip(t, ts, a)
			a.submit("d", 1, 2, insertAt(1, 1, "y"))
			a.ack(2)
			if got := limitHits(t, srv, tt.limit); got != 1 {
				t.Fatalf("collab_limit_hits_total{limit=%q} = %v, want 1", tt.limit, got)
			}
		})
	}
}

// TestMessageRateLimitCounted: the per-connection message limit closes
// with 1008 and is counted.
func TestMessageRateLimitCounted(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{Rate: 1e-6, Burst: 3})
	c := connect(t, ts, "a") // hello takes one token
	c.join("d", nil)
	for i := 0; i < 2; i++ {
		c.send(wire.Leave{Type: wire.TypeLeave, Doc: "nope" + strconv.Itoa(i)})
	}
	if code := c.closeCode(); code != websocket.ClosePolicyViolation {
		t.Fatalf("close code %d, want 1008", code)
	}
	if got := limitHits(t, srv, limitMsgRate); got != 1 {
		t.Fatalf("msg_rate hits = %v, want 1", got)
	}
}

// TestIPLimiterBounded: the per-IP map never grows past its bound, and a
// refilled bucket is what goes first.
func TestIPLimiterBounded(t *testing.T) {
	l := newIPLimiter(1, 2, 3)
	now := time.Now()
	for i := 0; i < 100; i++ {
		if !l.allow("10.0.0."+strconv.Itoa(i), now) {
			t.Fatalf("first connection of a new IP refused")
		}
		if n := l.size(); n > 3 {
			t.Fatalf("%d buckets, bound 3", n)
		}
	}
	l = newIPLimiter(1, 2, 2)
	l.allow("a", now)
	l.allow("a", now)
	if l.allow("a", now) {
		t.Fatal("third connection within the burst allowed")
	}
	l.allow("b", now.Add(10*time.Second)) // b refills by then
	if !l.allow("c", now.Add(10*time.Second)) || l.size() > 2 {
		t.Fatalf("eviction failed: %d buckets", l.size())
	}
	if !l.allow("a", now.Add(time.Second)) {
		t.Fatal("a's bucket did not refill")
	}
	if newIPLimiter(0, 10, 10).allow("x", now) != true {
		t.Fatal("a zero rate must mean no limit")
	}
}

// TestNoCompression: a client offering permessage-deflate gets no extension.
func TestNoCompression(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	d := websocket.Dialer{HandshakeTimeout: testWait, EnableCompression: true}
	ws, res, err := d.Dial(wsURL(ts), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ext := res.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("server negotiated %q", ext)
	}
}

// TestOriginRules: the allowed list and same-origin match scheme, host and
// port exactly; forwarded headers count only with TrustProxy.
func TestOriginRules(t *testing.T) {
	allowed := []string{"https://app.example:8443", "http://localhost:3000"}
	tests := []struct {
		name, origin, host string
		tls, trust         bool
		fwdProto, fwdHost  string
		fwdLine            string
		want               bool
	}{
		{name: "allowed", origin: "https://app.example:8443", host: "collab.example", want: true},
		{name: "allowed, other port", origin: "https://app.example", host: "collab.example"},
		{name: "allowed, other scheme", origin: "http://app.example:8443", host: "collab.example"},
		{name: "allowed, other host", origin: "https://app.example.evil:8443", host: "collab.example"},
		{name: "allowed, case", origin: "HTTP://LOCALHOST:3000", host: "collab.example", want: true},
		{name: "localhost other port", origin: "http://localhost:3001", host: "collab.example"},
		{name: "same origin", origin: "http://collab.example:8080", host: "collab.example:8080", want: true},
		{name: "same origin default port", origin: "http://collab.example", host: "collab.example:80", want: true},
		{name: "same host other port", origin: "http://collab.example:9090", host: "collab.example:8080"},
		{name: "same host https page, http server", origin: "https://collab.example", host: "collab.example"},
		{name: "same origin over TLS", origin: "https://collab.example", host: "collab.example", tls: true, want: true},
		{name: "http page, TLS server", origin: "http://collab.example", host: "collab.example", tls: true},
		{name: "not a URL", origin: "null", host: "collab.example"},
		{name: "proxy untrusted", origin: "https://collab.example", host: "127.0.0.1:8080", fwdProto: "https", fwdHost: "collab.example"},
		{name: "proxy trusted", origin: "https://collab.example", host: "127.0.0.1:8080", trust: true, fwdProto: "https", fwdHost: "collab.example", want: true},
		{name: "proxy trusted, scheme mismatch", origin: "http://collab.example", host: "127.0.0.1:8080", trust: true, fwdProto: "https", fwdHost: "collab.example"},
		{name: "proxy trusted, evil page", origin: "https://evil.example", host: "127.0.0.1:8080", trust: true, fwdProto: "https", fwdHost: "collab.example"},
		// An appending proxy: the client forged the first entries.
		{name: "proxy trusted, forged first host", origin: "https://evil.example", host: "127.0.0.1:8080", trust: true, fwdProto: "https", fwdHost: "evil.example, collab.example"},
		{name: "proxy trusted, forged first proto", origin: "http://collab.example", host: "127.0.0.1:8080", trust: true, fwdProto: "http, https", fwdHost: "collab.example"},
		{name: "proxy trusted, forged first line", origin: "https://evil.example", host: "127.0.0.1:8080", trust: true, fwdProto: "https", fwdHost: "evil.example", fwdLine: "collab.example"},
		{name: "proxy trusted, appended entries", origin: "https://collab.example", host: "127.0.0.1:8080", trust: true, fwdProto: "http, https", fwdHost: "evil.example, collab.example", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := newOriginChecker(allowed, tt.trust)
			r := httptest.NewRequest("GET", "/ws", nil)
			r.Host = tt.host
			r.Header.Set("Origin", tt.origin)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.fwdProto != "" {
				r.Header.Set("X-Forwarded-Proto", tt.fwdProto)
				r.Header.Set("X-Forwarded-Host", tt.fwdHost)
			}
			if tt.fwdLine != "" { // a second header line, as some proxies append
				r.Header.Add("X-Forwarded-Host", tt.fwdLine)
			}
			if got := oc.check(r); got != tt.want {
				t.Fatalf("check = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTrustProxyClientIP: the per-IP limit keys on X-Forwarded-For only
// with TrustProxy.
func TestTrustProxyClientIP(t *testing.T) {
	r := httptest.NewRequest("GET", "/ws", nil)
	r.RemoteAddr = "127.0.0.1:5555"
	r.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	plain := NewServer(memory.New(), Options{Logger: quietLogger()})
	trusting := NewServer(memory.New(), Options{Logger: quietLogger(), TrustProxy: true})
	if got := plain.clientIP(r); got != "127.0.0.1" {
		t.Errorf("without TrustProxy: %q", got)
	}
	if got := trusting.clientIP(r); got != "198.51.100.7" {
		t.Errorf("with TrustProxy: %q, want the entry the proxy added", got)
	}
}

// opSizedStore is a store whose records hold ops of at most max bytes.
type opSizedStore struct {
	storage.Store
	max int
}

func (s opSizedStore) MaxOpBytes() int { return s.max }

// TestWelcomeAdvertisesLimits: welcome carries the frame and document
// limits, and the op limit is the smaller of the decoder's and the store's.
func TestWelcomeAdvertisesLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store storage.Store
		want  wire.Limits
	}{
		{"bbolt-like", memory.New(), wire.Limits{Frame: 5000, Doc: 7000, Op: 1 << 20, Components: 100_000}},
		{"small records", opSizedStore{memory.New(), 3000}, wire.Limits{Frame: 5000, Doc: 7000, Op: 3000, Components: 100_000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ts := startServer(t, tc.store, Options{MaxFrame: 5000, MaxDocSize: 7000})
			ws, _, err := dialRaw(t, ts, nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c := &tclient{t: t, ws: ws, id: "a"}
			t.Cleanup(func() { ws.Close() })
			c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "a"})
			var w wire.Welcome
			c.expect(wire.TypeWelcome, &w)
			if w.Limits == nil || *w.Limits != tc.want {
				t.Fatalf("welcome limits = %+v, want %+v", w.Limits, tc.want)
			}
		})
	}
}
