package collab

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// TestConnsPerIP: one IP holds at most MaxConnsPerIP WebSocket connections
// and API requests at once; beyond, upgrades and requests get 429
// rate_limited. A closed connection frees its place.
func TestConnsPerIP(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{MaxConnsPerIP: 2})
	a := connect(t, ts, "a")
	a.join("d", nil)
	b := connect(t, ts, "b")
	upgradeRefused(t, ts, nil, http.StatusTooManyRequests, wire.CodeRateLimited)
	res, body := doToken(t, "GET", ts.URL+"/api/docs", "", "")
	wantStatus(t, res, body, http.StatusTooManyRequests, wire.CodeRateLimited)
	if got := limitHits(t, srv, limitConnsPerIP); got != 2 {
		t.Fatalf("collab_limit_hits_total{limit=conns_per_ip} = %v, want 2", got)
	}
	a.submit("d", 0, 1, insertAt(0, 0, "x")) // a carries on
	a.ack(1)
	b.ws.Close()
	waitFor(t, "b's connection to end", func() bool { return testutilCounter(t, srv, "collab_connections") == 1 })
	res, body = doToken(t, "GET", ts.URL+"/api/docs", "", "")
	wantStatus(t, res, body, http.StatusOK, "")
	connect(t, ts, "c")
}

// TestIPCounter: counts go back to nothing, and a nil counter allows all.
func TestIPCounter(t *testing.T) {
	c := newIPCounter(2)
	first, second, third := c.acquire("x"), c.acquire("x"), c.acquire("x")
	if !first || !second || third {
		t.Fatal("the cap of 2 did not hold")
	}
	if !c.acquire("y") {
		t.Fatal("another IP was refused")
	}
	c.release("x")
	if !c.acquire("x") {
		t.Fatal("a released place was not reusable")
	}
	c.release("x")
	c.release("x")
	c.release("y")
	if len(c.open) != 0 {
		t.Fatalf("counts left: %v", c.open)
	}
	var none *ipCounter = newIPCounter(-1)
	if !none.acquire("x") {
		t.Fatal("no limit refused")
	}
	none.release("x")
}

// TestAPIRate: API requests per IP are limited, and a request pays for the
// bytes it moved: a 320 KiB PUT costs 5 requests more.
func TestAPIRate(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{APIRate: 1e-6, APIBurst: 10})
	a := connect(t, ts, "a") // WebSocket traffic is not API traffic
	res, body := doToken(t, "PUT", ts.URL+"/api/docs/d", "", strings.Repeat("x", 5*apiByteCost))
	wantStatus(t, res, body, http.StatusOK, "")
	for i := 0; i < 4; i++ { // 10 - 1 - 5 left
		res, body = doToken(t, "GET", ts.URL+"/api/docs", "", "")
		wantStatus(t, res, body, http.StatusOK, "")
	}
	res, body = doToken(t, "GET", ts.URL+"/api/docs", "", "")
	wantStatus(t, res, body, http.StatusTooManyRequests, wire.CodeRateLimited)
	if got := limitHits(t, srv, limitAPIRate); got != 1 {
		t.Fatalf("collab_limit_hits_total{limit=api_rate} = %v, want 1", got)
	}
	a.join("d", nil)
}

// TestSlowBody: a PUT whose body does not arrive within RequestTimeout is
// answered (or dropped) instead of holding its connection, and changes
// nothing.
func TestSlowBody(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{RequestTimeout: 100 * time.Millisecond})
	nc, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "PUT /api/docs/d HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc")
	nc.SetReadDeadline(time.Now().Add(testWait))
	res, err := http.ReadResponse(bufio.NewReader(nc), nil)
	switch {
	case err == nil:
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("slow body answered %d, want 400", res.StatusCode)
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("the server still waits for the body after %v", testWait)
	}
	res, body := doToken(t, "GET", ts.URL+"/api/docs/d", "", "")
	wantStatus(t, res, body, http.StatusNotFound, wire.CodeNotFound)
	if got := limitHits(t, srv, limitRequestTime); got != 1 {
		t.Fatalf("collab_limit_hits_total{limit=request_time} = %v, want 1", got)
	}
}

// TestConnStatePerPeer: with Server.ConnState as the http.Server's hook, a
// peer holding MaxConnsPerIP HTTP connections (idle keep-alive ones too)
// has its next connection closed at once; upgraded WebSockets leave that
// count.
func TestConnStatePerPeer(t *testing.T) {
	srv := NewServer(newTestStore(t), Options{MaxConnsPerIP: 2, Logger: quietLogger()})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ConnState = srv.ConnState
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	connect(t, ts, "a")
	connect(t, ts, "b") // two WebSockets: the per-IP count is full, the per-peer one empty
	for i := 0; i < 3; i++ {
		nc, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(testWait))
		io.WriteString(nc, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		br := bufio.NewReader(nc)
		res, err := http.ReadResponse(br, nil)
		if i < 2 {
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("connection %d: %v %v", i+1, res, err)
			}
			io.Copy(io.Discard, res.Body)
			// kept alive, idle
			continue
		}
		if err == nil {
			t.Fatalf("a third connection was served: %d", res.StatusCode)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("the third connection was neither served nor closed")
		}
	}
	if got := limitHits(t, srv, limitConnsPerIP); got != 1 {
		t.Fatalf("collab_limit_hits_total{limit=conns_per_ip} = %v, want 1", got)
	}
}

// TestHTTPClosesCounted: with Server.ConnState as the http.Server's hook,
// a connection the header timeout closes counts as closed new, one the
// idle timeout closes after a request as closed idle; an upgraded
// WebSocket counts as neither.
func TestHTTPClosesCounted(t *testing.T) {
	srv := NewServer(newTestStore(t), Options{Logger: quietLogger()})
	ts := httptest.NewUnstartedServer(srv)
	ts.Config.ConnState = srv.ConnState
	ts.Config.ReadHeaderTimeout = 50 * time.Millisecond
	ts.Config.IdleTimeout = 50 * time.Millisecond
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	a := connect(t, ts, "a")
	closedBy := func(request string) {
		t.Helper()
		nc, err := net.Dial("tcp", ts.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(testWait))
		io.WriteString(nc, request)
		if _, err := io.Copy(io.Discard, nc); err != nil { // until the server closes
			t.Fatalf("the server did not close the connection: %v", err)
		}
	}
	closedBy("")
	waitFor(t, "a connection closed before a request counted", func() bool {
		return metricValue(t, srv, "collab_http_closed_total", "state", "new") == 1
	})
	closedBy("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	waitFor(t, "a connection closed while idle counted", func() bool {
		return metricValue(t, srv, "collab_http_closed_total", "state", "idle") == 1
	})
	a.join("d", nil) // the WebSocket outlived both timeouts
	if got := metricValue(t, srv, "collab_http_closed_total", "", ""); got != 2 {
		t.Fatalf("collab_http_closed_total = %v, want 2", got)
	}
}
