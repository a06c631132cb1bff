package collab

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

const testWait = 10 * time.Second

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startServer runs a Server over store behind an httptest server; both are
// shut down at the end of the test.
func startServer(t testing.TB, store storage.Store, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	srv := NewServer(store, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return srv, ts
}

func wsURL(ts *httptest.Server) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws" }

// tclient is a raw protocol client (internal/rawclient) under the names
// this package's tests use. Tests may build one from t, ws and id alone.
type tclient struct {
	t   *testing.T
	ws  *websocket.Conn
	id  string
	raw *rawclient.T // made on first use
}

func (c *tclient) r() *rawclient.T {
	if c.raw == nil {
		c.raw = rawclient.WrapT(c.t, &rawclient.Conn{WS: c.ws, Wait: testWait}, c.id)
	}
	return c.raw
}

func dialRaw(t *testing.T, ts *httptest.Server, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testWait}
	return d.Dial(wsURL(ts), hdr)
}

// connect dials and says hello as client id.
func connect(t *testing.T, ts *httptest.Server, id string) *tclient {
	t.Helper()
	ws, _, err := dialRaw(t, ts, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return hello(t, ws, id)
}

// connectSmallBuffer connects with a tiny socket receive buffer, so that a
// client that does not read stalls the server's writes quickly.
func connectSmallBuffer(t *testing.T, ts *httptest.Server, id string) *tclient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testWait, ReadBufferSize: 1024, NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	ws, _, err := d.Dial(wsURL(ts), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return hello(t, ws, id)
}

func hello(t *testing.T, ws *websocket.Conn, id string) *tclient {
	t.Helper()
	rc := rawclient.NewT(t, &rawclient.Conn{WS: ws, Wait: testWait}, id)
	return &tclient{t: t, ws: ws, id: id, raw: rc}
}

func (c *tclient) send(v any)                         { c.t.Helper(); c.r().Send(v) }
func (c *tclient) sendRaw(data []byte)                { c.t.Helper(); c.r().SendRaw(data) }
func (c *tclient) next() (string, []byte)             { c.t.Helper(); return c.r().Next() }
func (c *tclient) expect(typ string, v any)           { c.t.Helper(); c.r().Expect(typ, v) }
func (c *tclient) expectError(code string) wire.Error { c.t.Helper(); return c.r().ExpectError(code) }
func (c *tclient) join(doc string, rev *uint64) wire.Joined {
	c.t.Helper()
	return c.r().Join(doc, rev)
}
func (c *tclient) submit(doc string, rev, seq uint64, op ot.Op) {
	c.t.Helper()
	c.r().Submit(doc, rev, seq, op)
}
func (c *tclient) ack(seq uint64) wire.Ack { c.t.Helper(); return c.r().Ack(seq) }
func (c *tclient) closeCode() int          { c.t.Helper(); return c.r().CloseCode() }

// insertAt builds the op inserting s at pos in a document of n code points.
func insertAt(n, pos int, s string) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Insert(s).Retain(n - pos).Op()
}

func deleteAt(n, pos, k int) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Delete(k).Retain(n - pos - k).Op()
}

func ptr[T any](v T) *T { return &v }

// waitFor polls cond until it holds or the deadline passes; only for state
// that nothing signals (unloading after a grace period).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func storeText(t *testing.T, st storage.Store, id string) (string, uint64) {
	t.Helper()
	doc, err := st.Load(context.Background(), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return doc.Text, doc.Rev
}

// replay rebuilds a document from its stored op log.
func replay(t *testing.T, st storage.Store, id string) string {
	t.Helper()
	recs, err := st.Ops(context.Background(), id, 0, ^uint64(0))
	if err != nil {
		t.Fatalf("Ops: %v", err)
	}
	b := ot.NewBuffer("")
	for i, r := range recs {
		if r.Rev != uint64(i+1) {
			t.Fatalf("record %d has rev %d", i, r.Rev)
		}
		if err := b.Apply(r.Op); err != nil {
			t.Fatalf("replay rev %d: %v", r.Rev, err)
		}
	}
	return b.String()
}

// testutilCounter reads a metric's value from the server's registry,
// summed over its labels.
func testutilCounter(t testing.TB, srv *Server, name string) float64 {
	t.Helper()
	return metricValue(t, srv, name, "", "")
}

// metricValue sums a counter or gauge over the series whose label has
// value; an empty label matches every series.
func metricValue(t testing.TB, srv *Server, name, label, value string) float64 {
	t.Helper()
	mfs, err := srv.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetName() == label && lp.GetValue() == value
			}
			if !match {
				continue
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

// byHand is a WebSocket opened on a bare TCP connection, for tests that
// write frames as they like (several in one segment); got is everything
// read so far, handshake answer included.
type byHand struct {
	t   *testing.T
	nc  net.Conn
	got []byte
}

// dialByHand upgrades a TCP connection to ts's /ws and reads the answer.
func dialByHand(t *testing.T, ts *httptest.Server) *byHand {
	t.Helper()
	addr := strings.TrimPrefix(ts.URL, "http://")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(testWait))
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c := &byHand{t: t, nc: nc}
	c.readUntil("\r\n\r\n")
	return c
}

// readUntil reads until got holds s.
func (c *byHand) readUntil(s string) {
	c.t.Helper()
	buf := make([]byte, 512)
	for !bytes.Contains(c.got, []byte(s)) {
		n, err := c.nc.Read(buf)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v (read %q)", s, err, c.got)
		}
		c.got = append(c.got, buf[:n]...)
	}
}
