package wsconn

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// countConn counts the writes that reach the socket.
type countConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
}

func (c *countConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *countConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// testWait bounds every wait of these tests; reaching it fails them.
const testWait = 10 * time.Second

// testOptions are small limits for tests.
func testOptions() Options {
	return Options{
		MaxMessage:  1 << 20,
		PongWait:    time.Minute,
		PingPeriod:  time.Minute,
		WriteWait:   testWait,
		QueueLen:    1024,
		TooSlowCode: 4002,
		Readers:     new(sync.WaitGroup),
	}
}

// nopHandler serves nothing.
type nopHandler struct{}

func (nopHandler) Message([]byte, bool) {}
func (nopHandler) Refused(error)        {}
func (nopHandler) Ended()               {}

// pair upgrades one connection with opts and returns the server side and
// the client side; serve runs on the server side's handler goroutine
// before it returns (nil: nothing).
func pair(t *testing.T, opts Options, serve func(*Conn)) (*Conn, *websocket.Conn) {
	t.Helper()
	return pairWith(t, NewUpgrader(func(*http.Request) bool { return true }), opts, serve)
}

func pairWith(t *testing.T, up *Upgrader, opts Options, serve func(*Conn)) (*Conn, *websocket.Conn) {
	t.Helper()
	got := make(chan *Conn, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, opts)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			close(got)
			return
		}
		if serve != nil {
			serve(c)
		}
		got <- c
	}))
	t.Cleanup(ts.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c := <-got
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.wc.Close() })
	return c, client
}

// writerPair is a pair whose writer the test runs (writeQueued), with the
// socket writes under it counted.
func writerPair(t *testing.T) (*Conn, *countConn, *websocket.Conn) {
	t.Helper()
	var cc *countConn
	c, client := pair(t, testOptions(), func(c *Conn) {
		c.h = nopHandler{}
		cc = &countConn{Conn: c.wc.Conn}
		c.wc.Conn = cc
		c.writing = true // the test writes, with writeQueued
	})
	return c, cc, client
}

// writeQueued does what the writer does with what is queued.
func writeQueued(c *Conn, deadline time.Time) error {
	batch, ping, _ := c.next(nil)
	c.qmu.Lock()
	c.writing = true // still the test
	c.qmu.Unlock()
	return c.writeBatch(batch, ping, deadline)
}

// readAll reads n text messages and checks them against want(i).
func readAll(t *testing.T, client *websocket.Conn, n int, want func(i int) string) {
	t.Helper()
	client.SetReadDeadline(time.Now().Add(testWait))
	for i := range n {
		typ, data, err := client.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != websocket.TextMessage || string(data) != want(i) {
			t.Fatalf("message %d = %d %.60q, want text %.60q", i, typ, data, want(i))
		}
	}
}

// TestWriterCoalesces: what the writer finds queued goes out in one write
// (not one per message), in order; a batch past flushAt is split near it;
// one message larger than flushAt is written as it is.
func TestWriterCoalesces(t *testing.T) {
	msg := func(i, size int) string {
		s := fmt.Sprintf(`{"type":"ack","seq":%d,"pad":"`, i)
		return s + strings.Repeat("x", max(0, size-len(s)-2)) + `"}`
	}
	for _, tc := range []struct {
		name       string
		n, size    int
		minW, maxW int
	}{
		{name: "small", n: 200, size: 60, minW: 1, maxW: 1},
		{name: "sizes", n: 3, size: 200, minW: 1, maxW: 1},
		{name: "past flushAt", n: 10, size: 10 << 10, minW: 4, maxW: 5},
		{name: "one huge", n: 1, size: 100 << 10, minW: 1, maxW: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cc, client := writerPair(t)
			for i := range tc.n {
				data := []byte(msg(i, tc.size))
				c.Send(data)
			}
			before := cc.count()
			if err := writeQueued(c, time.Now().Add(testWait)); err != nil {
				t.Fatalf("writeQueued: %v", err)
			}
			if w := cc.count() - before; w < tc.minW || w > tc.maxW {
				t.Errorf("%d messages of %d bytes took %d writes, want %d to %d", tc.n, tc.size, w, tc.minW, tc.maxW)
			}
			readAll(t, client, tc.n, func(i int) string { return msg(i, tc.size) })
		})
	}
}

// TestWriterUncorkedWritesAtOnce: a write outside a batch (a ping, a pong
// from the reader) is not held back.
func TestWriterUncorkedWritesAtOnce(t *testing.T) {
	c, cc, client := writerPair(t)
	before := cc.count()
	if err := c.ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(testWait)); err != nil {
		t.Fatal(err)
	}
	if w := cc.count() - before; w != 1 {
		t.Fatalf("ping took %d writes, want 1", w)
	}
	pinged := make(chan string, 1)
	client.SetPingHandler(func(s string) error { pinged <- s; return nil })
	client.SetReadDeadline(time.Now().Add(testWait))
	go client.ReadMessage() // runs the ping handler
	select {
	case s := <-pinged:
		if s != "p" {
			t.Fatalf("ping payload %q, want p", s)
		}
	case <-time.After(testWait):
		t.Fatal("no ping")
	}
}

// TestWriterPongKeepsBatchDeadline: a pong's short deadline, set from the
// reader while a batch is corked, does not become the batch's deadline.
func TestWriterPongKeepsBatchDeadline(t *testing.T) {
	c, _, client := writerPair(t)
	c.wc.cork(time.Now().Add(testWait))
	if err := c.wc.text([]byte(`{"type":"ack"}`)); err != nil {
		t.Fatal(err)
	}
	// As gorilla's WriteControl does for a pong, with a deadline passed
	// by the time the batch goes out.
	c.wc.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.wc.Write([]byte{0x80 | websocket.PongMessage, 0}); err != nil {
		t.Fatal(err)
	}
	if err := c.wc.uncork(); err != nil {
		t.Fatalf("uncork: %v, want the batch written", err)
	}
	readAll(t, client, 1, func(int) string { return `{"type":"ack"}` })
}

// TestWriterNoDataAfterClose: once a close frame went out (gorilla answers
// the peer's close from the reader), no data frame follows it.
func TestWriterNoDataAfterClose(t *testing.T) {
	c, _, client := writerPair(t)
	c.Send([]byte(`{"type":"ack","doc":"d","seq":1,"rev":1}`))
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(testWait)); err != nil {
		t.Fatal(err)
	}
	if err := writeQueued(c, time.Now().Add(testWait)); err == nil {
		t.Fatal("writeQueued after a close frame: no error, want one")
	}
	client.SetReadDeadline(time.Now().Add(testWait))
	_, data, err := client.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("read = %q, %v; want the close 1000 and nothing before it", data, err)
	}
}

// TestSharedWriteAllocates: writing a message shared by many connections
// frames it into the batch buffer without allocating.
func TestSharedWriteAllocates(t *testing.T) {
	c, _, _ := writerPair(t)
	const n = 200
	msgs := make([][]byte, n+1) // AllocsPerRun runs once more to warm up
	for i := range msgs {
		msgs[i] = []byte(fmt.Sprintf(`{"type":"op","rev":%d}`, i))
	}
	c.wc.cork(time.Now().Add(testWait))
	defer c.wc.uncork()
	i := 0
	allocs := testing.AllocsPerRun(n, func() {
		if err := c.write(entry{data: msgs[i]}); err != nil {
			t.Fatal(err)
		}
		i++
	})
	if allocs >= 1 {
		t.Errorf("%.1f allocations per shared write, want none but the batch buffer's growth", allocs)
	}
}

// TestClientControl: only a whole, final, masked ping or pong is parsed;
// anything else is left to gorilla.
func TestClientControl(t *testing.T) {
	ping := maskedControl(websocket.PingMessage, "hi")
	unmasked := []byte{0x89, 0x02, 'h', 'i', 0, 0}
	fragment := append([]byte{}, ping...)
	fragment[0] &^= 0x80
	reserved := append([]byte{}, ping...)
	reserved[0] |= 0x40
	long := []byte{0x89, 0x80 | 126, 0, 200, 0, 0, 0, 0}
	for _, tt := range []struct {
		name    string
		b       []byte
		op, n   int
		payload string
	}{
		{"ping", ping, websocket.PingMessage, 8, "hi"},
		{"ping then more", append(append([]byte{}, ping...), 0x81), websocket.PingMessage, 8, "hi"},
		{"pong", maskedControl(websocket.PongMessage, ""), websocket.PongMessage, 6, ""},
		{"part of a ping", ping[:7], 0, 0, ""},
		{"text", maskedText([]byte("hi")), 0, 0, ""},
		{"close", maskedControl(websocket.CloseMessage, ""), 0, 0, ""},
		{"unmasked", unmasked, 0, 0, ""},
		{"not final", fragment, 0, 0, ""},
		{"reserved bits", reserved, 0, 0, ""},
		{"extended length", long, 0, 0, ""},
		{"empty", nil, 0, 0, ""},
	} {
		op, payload, n := clientControl(tt.b)
		if op != tt.op || n != tt.n || string(payload) != tt.payload {
			t.Errorf("%s: clientControl = %d, %q, %d; want %d, %q, %d", tt.name, op, payload, n, tt.op, tt.payload, tt.n)
		}
	}
}

// maskedControl is a client's control frame, masked with a key that
// changes the payload.
func maskedControl(op int, payload string) []byte {
	mask := []byte{0x5a, 0xa5, 0x0f, 0xf0}
	b := append([]byte{0x80 | byte(op), 0x80 | byte(len(payload))}, mask...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i&3])
	}
	return b
}

// maskedText is a client's text frame with a zero mask key (XOR with zero
// leaves the payload as it is).
func maskedText(payload []byte) []byte {
	b := []byte{0x81, 0x80 | byte(len(payload)), 0, 0, 0, 0} // under 126 bytes
	return append(b, payload...)
}
