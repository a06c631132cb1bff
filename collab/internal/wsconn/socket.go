package wsconn

import (
	"bufio"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Sizes of the writer's coalescing buffer: a batch goes out in one write
// unless it grows past flushAt; buffers up to poolMax go back to the pool.
const (
	flushAt = 32 << 10
	poolMax = 64 << 10
)

var errCloseSent = errors.New("wsconn: close frame already sent")

// bufPool holds the writers' coalescing buffers between batches, so an
// idle connection holds none.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// socket is the net.Conn under a Conn's websocket.Conn. While the
// connection's writer is corked (writing the messages it found queued)
// frames gather in one buffer and go out in one write(2) when it uncorks,
// its queue empty, or when the buffer passes flushAt. Uncorked, a write
// goes out at once. Like the derp server's writer, this turns a burst of
// messages to one peer into one syscall.
//
// Gorilla writes through it too: the writer's pings and close frames,
// and from the reader its pongs and close replies. Each of gorilla's
// WriteControl calls is one whole frame in one Write (this package never
// uses gorilla's NextWriter or WriteMessage, which may split one;
// TestGorillaWritesControlFramesWhole), so a frame's first byte says
// whether it is a close; no data frame follows a close.
type socket struct {
	net.Conn
	br   *bufio.Reader   // gorilla's read buffer (owned by the reader)
	raw  syscall.RawConn // nil: not a socket (TLS); waitReadable does not wait
	peek [1]byte         // owned by the reader

	mu        sync.Mutex
	buf       *[]byte   // guarded by mu: frames not yet written; nil when empty
	corked    bool      // guarded by mu
	deadline  time.Time // guarded by mu: deadline of the next write(2)
	frames    bool      // guarded by mu: the handshake is written; writes are frames
	closeSent bool      // guarded by mu
	hdr       [10]byte  // guarded by mu: the header text is framing
	err       error     // guarded by mu: the first write error, returned ever after
}

// SetWriteDeadline sets the deadline of the next write(2). While corked the
// writer's deadline holds: a pong's shorter one must not cut a batch short.
func (w *socket) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	if !w.corked {
		w.deadline = t
	}
	w.mu.Unlock()
	return nil
}

// Write takes one whole frame from gorilla.
func (w *socket) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.frames && len(p) > 0 && p[0]&0x0f == websocket.CloseMessage {
		w.closeSent = true
	}
	if err := w.putLocked(p, nil); err != nil {
		return 0, err
	}
	return len(p), nil
}

// text writes payload as one unmasked text frame (RFC 6455 section 5.2).
// The header is built in w, not on the stack: a direct write hands it to
// writev, which would make a stack header escape, one allocation per frame.
func (w *socket) text(payload []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closeSent {
		return errCloseSent
	}
	h := append(w.hdr[:0], 0x80|websocket.TextMessage) // FIN
	switch n := len(payload); {
	case n < 126:
		h = append(h, byte(n))
	case n <= 0xffff:
		h = append(h, 126)
		h = binary.BigEndian.AppendUint16(h, uint16(n))
	default:
		h = append(h, 127)
		h = binary.BigEndian.AppendUint64(h, uint64(n))
	}
	return w.putLocked(h, payload)
}

// putLocked buffers a frame (a, then b) while corked, else writes it.
func (w *socket) putLocked(a, b []byte) error {
	n := len(a) + len(b)
	if !w.corked || n >= flushAt {
		if err := w.flushLocked(); err != nil {
			return err
		}
		if len(b) == 0 {
			return w.writeLocked(a)
		}
		return w.writeLocked(a, b)
	}
	if w.buf != nil && len(*w.buf)+n > flushAt {
		if err := w.flushLocked(); err != nil {
			return err
		}
	}
	if w.buf == nil {
		w.buf = bufPool.Get().(*[]byte)
	}
	*w.buf = append(append(*w.buf, a...), b...)
	return nil
}

// handshakeDone says that every write from now on is a frame.
func (w *socket) handshakeDone() {
	w.mu.Lock()
	w.frames = true
	w.mu.Unlock()
}

// cork starts a batch that must be written by deadline.
func (w *socket) cork(deadline time.Time) {
	w.mu.Lock()
	w.corked, w.deadline = true, deadline
	w.mu.Unlock()
}

// uncork ends a batch: what it gathered goes out now.
func (w *socket) uncork() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.corked = false
	return w.flushLocked()
}

func (w *socket) flushLocked() error {
	if w.buf == nil {
		return w.err
	}
	err := w.writeLocked(*w.buf)
	if cap(*w.buf) <= poolMax {
		*w.buf = (*w.buf)[:0]
		bufPool.Put(w.buf)
	}
	w.buf = nil
	return err
}

// writeLocked does the write(2): one buffer, or two as one writev.
func (w *socket) writeLocked(bufs ...[]byte) error {
	if w.err != nil {
		return w.err
	}
	w.Conn.SetWriteDeadline(w.deadline)
	var err error
	if len(bufs) == 1 {
		_, err = w.Conn.Write(bufs[0])
	} else {
		nb := net.Buffers(bufs)
		_, err = nb.WriteTo(w.Conn)
	}
	if err != nil {
		w.err = err
	}
	return err
}

// hijacker hands gorilla's Upgrader the hijacked connection wrapped in a
// socket, and a read buffer of readBufferSize over it that gorilla keeps
// as its own (it does with Upgrader.ReadBufferSize 0 and a buffer over
// 256 bytes; TestGorillaReadsOurBuffer), so that the reader can tell when
// it is empty and serve pings and pongs from it.
type hijacker struct {
	http.ResponseWriter
	wc *socket // set by Hijack
}

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.wc = &socket{Conn: nc}
	if rw.Reader.Buffered() > 0 {
		return h.wc, rw, nil // gorilla refuses data sent before its answer
	}
	if sc, ok := nc.(syscall.Conn); ok {
		h.wc.raw, _ = sc.SyscallConn()
	}
	h.wc.br = bufio.NewReaderSize(h.wc, readBufferSize)
	return h.wc, bufio.NewReadWriter(h.wc.br, rw.Writer), nil
}

// controls serves the pings and pongs at the head of gorilla's read
// buffer, reading the socket first if the buffer is empty (waitReadable
// found it readable; after a rare wake with nothing to read, this read
// waits), and reports whether nothing is left. Gorilla would serve them
// inside ReadMessage and then wait there for the next data frame, deep in
// its read path, with the stack that grew to get there; an idle editor's
// only traffic is pings and pongs. Whatever else comes (a data or close
// frame, a part of a frame, an invalid frame) is left to gorilla. It runs
// on the reader, between messages.
func (w *socket) controls(pong func()) (empty bool) {
	if w.raw == nil || w.br == nil {
		return false
	}
	if _, err := w.br.Peek(1); err != nil {
		return false // gorilla reads the error
	}
	for {
		b, _ := w.br.Peek(w.br.Buffered())
		op, payload, n := clientControl(b)
		if n == 0 {
			return len(b) == 0
		}
		if op == websocket.PingMessage {
			w.pong(payload)
		} else {
			pong()
		}
		w.br.Discard(n)
	}
}

// clientControl parses a whole masked ping or pong (RFC 6455 section 5.5)
// at the head of b and unmasks its payload in place; n is 0 if b does not
// start with one.
func clientControl(b []byte) (op int, payload []byte, n int) {
	if len(b) < 6 || b[1]&0x80 == 0 || b[1]&0x7f > 125 {
		return 0, nil, 0
	}
	op = int(b[0] & 0x0f)
	if b[0]&0xf0 != 0x80 || op != websocket.PingMessage && op != websocket.PongMessage {
		return 0, nil, 0 // fragmented, reserved bits, or not a ping or pong
	}
	n = 6 + int(b[1]&0x7f)
	if len(b) < n {
		return 0, nil, 0
	}
	mask, payload := b[2:6], b[6:n]
	for i := range payload {
		payload[i] ^= mask[i&3]
	}
	return op, payload, n
}

// pong answers a ping with its payload, as gorilla's default ping
// handler does: within a second, not after a close frame, errors ignored
// (the writer or the reader meets them).
func (w *socket) pong(payload []byte) {
	frame := append([]byte{0x80 | websocket.PongMessage, byte(len(payload))}, payload...)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil || w.closeSent {
		return
	}
	if !w.corked {
		w.deadline = time.Now().Add(time.Second)
	}
	w.putLocked(frame, nil)
}
