package wsconn

import (
	"bytes"
	"net"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// These tests pin the gorilla/websocket behaviour this package relies on
// and gorilla does not document (see the package doc). If one fails after
// a gorilla upgrade, the transport must change with it.

// gorillaField is an unexported field of gorilla's Conn, failing the test
// if gorilla no longer has it.
func gorillaField(t *testing.T, ws *websocket.Conn, name string) reflect.Value {
	t.Helper()
	f := reflect.ValueOf(ws).Elem().FieldByName(name)
	if !f.IsValid() {
		t.Fatalf("gorilla's Conn has no field %q any more: check what this package relies on", name)
	}
	return f
}

// TestGorillaReadsOurBuffer: gorilla reads messages through the
// bufio.Reader the hijacker hands it (readBufferSize bytes, over 256), and
// leaves what follows a message in it, so that the reader can tell when
// it is empty (socket.empty) and serve pings from it (socket.controls).
func TestGorillaReadsOurBuffer(t *testing.T) {
	if readBufferSize <= 256 {
		t.Fatalf("readBufferSize %d: gorilla makes its own buffer at 256 bytes or less", readBufferSize)
	}
	c, client := pair(t, testOptions(), nil)
	if br := gorillaField(t, c.ws, "br"); br.Pointer() != reflect.ValueOf(c.wc.br).Pointer() {
		t.Fatal("gorilla reads through a buffer of its own, not the hijacker's")
	}
	first, second := maskedText([]byte("first")), maskedText([]byte("second"))
	if _, err := client.UnderlyingConn().Write(append(append([]byte{}, first...), second...)); err != nil {
		t.Fatal(err)
	}
	c.wc.SetReadDeadline(time.Now().Add(testWait))
	if _, err := c.wc.br.Peek(len(first) + len(second)); err != nil {
		t.Fatalf("peek both messages: %v", err)
	}
	_, data, err := c.ws.ReadMessage()
	if err != nil || string(data) != "first" {
		t.Fatalf("ReadMessage = %q, %v; want first, from the hijacker's buffer", data, err)
	}
	if n := c.wc.br.Buffered(); n != len(second) {
		t.Fatalf("%d bytes left in the hijacker's buffer, want the second message's %d", n, len(second))
	}
	if _, data, err = c.ws.ReadMessage(); err != nil || string(data) != "second" {
		t.Fatalf("ReadMessage = %q, %v; want second", data, err)
	}
}

// countingPool is a write buffer pool that counts what gorilla takes.
type countingPool struct {
	mu   sync.Mutex
	gets int
}

func (p *countingPool) Get() any {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gets++
	return nil
}

func (p *countingPool) Put(any) {}

// TestGorillaNeedsNoWriteBuffer: with a WriteBufferPool, a connection
// that only writes control frames (the writer frames text messages itself)
// holds no write buffer: gorilla neither takes one from the pool nor makes
// one, nor keeps net/http's.
func TestGorillaNeedsNoWriteBuffer(t *testing.T) {
	up := NewUpgrader(func(*http.Request) bool { return true })
	if _, ok := up.up.WriteBufferPool.(*sync.Pool); !ok || up.up.ReadBufferSize != 0 {
		t.Fatalf("NewUpgrader's gorilla options changed: %+v", up.up)
	}
	pool := new(countingPool)
	up.up.WriteBufferPool = pool
	c2, _ := pairWith(t, up, testOptions(), nil)
	if n := gorillaField(t, c2.ws, "writeBuf").Len(); n != 0 {
		t.Fatalf("gorilla holds a %d-byte write buffer per connection", n)
	}
	for _, op := range []int{websocket.PingMessage, websocket.PongMessage, websocket.CloseMessage} {
		if err := c2.ws.WriteControl(op, nil, time.Now().Add(testWait)); err != nil {
			t.Fatal(err)
		}
	}
	if n := gorillaField(t, c2.ws, "writeBuf").Len(); n != 0 || pool.gets != 0 {
		t.Fatalf("after control frames gorilla holds %d bytes of write buffer and took %d from the pool", n, pool.gets)
	}
}

// TestGorillaWritesControlFramesWhole: each WriteControl reaches the
// socket as one Write of one whole frame, so that socket.Write can tell a
// close frame by its first byte.
func TestGorillaWritesControlFramesWhole(t *testing.T) {
	c, _ := pair(t, testOptions(), nil)
	rec := &recordConn{Conn: c.wc.Conn}
	c.wc.Conn = rec
	for _, tc := range []struct {
		op      int
		payload []byte
	}{
		{websocket.PingMessage, []byte("p")},
		{websocket.PongMessage, bytes.Repeat([]byte("x"), 125)},
		{websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "bye")},
	} {
		before := len(rec.writes())
		if err := c.ws.WriteControl(tc.op, tc.payload, time.Now().Add(testWait)); err != nil {
			t.Fatal(err)
		}
		w := rec.writes()[before:]
		want := append([]byte{0x80 | byte(tc.op), byte(len(tc.payload))}, tc.payload...)
		if len(w) != 1 || !bytes.Equal(w[0], want) {
			t.Fatalf("control frame %d took writes %q, want one of %q", tc.op, w, want)
		}
	}
	if !c.wc.closeSent {
		t.Fatal("the close frame was not recognised")
	}
}

// recordConn records the writes that reach the socket.
type recordConn struct {
	net.Conn
	mu  sync.Mutex
	got [][]byte
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.got = append(c.got, bytes.Clone(p))
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordConn) writes() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got
}
