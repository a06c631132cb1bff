package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"time"
)

// wireLog records when messages crossed the socket: when each submit's
// frame was written, and when each ack and op frame was read. A
// resubmission after a reconnect keeps the first write time, so its
// latency includes the reconnection. Entries are taken once.
type wireLog struct {
	mu    sync.Mutex           // guards the maps
	sent  map[uint64]time.Time // submit seq → first write
	acked map[uint64]time.Time // ack seq → read
	ops   map[uint64]time.Time // op rev → read
}

func newWireLog() *wireLog {
	return &wireLog{sent: make(map[uint64]time.Time), acked: make(map[uint64]time.Time), ops: make(map[uint64]time.Time)}
}

func (l *wireLog) note(m map[uint64]time.Time, k uint64, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := m[k]; !ok {
		m[k] = t
	}
}

func (l *wireLog) take(m map[uint64]time.Time, k uint64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := m[k]
	delete(m, k)
	return t, ok
}

// SentAt returns when submit seq was first written.
func (l *wireLog) SentAt(seq uint64) (time.Time, bool) { return l.take(l.sent, seq) }

// AckAt returns when the ack of seq was read.
func (l *wireLog) AckAt(seq uint64) (time.Time, bool) { return l.take(l.acked, seq) }

// OpAt returns when the op of revision rev was read.
func (l *wireLog) OpAt(rev uint64) (time.Time, bool) { return l.take(l.ops, rev) }

// tapDial returns a dial function whose connections log the submits
// written and the acks and ops read through them.
// Each connection (a reconnection too) takes the next source address of
// src, if any.
func tapDial(log *wireLog, src *addrPool) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := src.dialer().DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tapConn{Conn: c, out: frameTap{log: log}, in: frameTap{log: log, incoming: true}}, nil
	}
}

// tapConn watches the bytes a WebSocket client writes and reads.
type tapConn struct {
	net.Conn
	out frameTap // owned by the writer: gorilla writes from one goroutine at a time
	in  frameTap // owned by the reader
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.out.feed(b, time.Now())
	return c.Conn.Write(b)
}

func (c *tapConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.in.feed(b[:n], time.Now())
	}
	return n, err
}

// prefixLen is how much of a text frame is kept to find a seq or rev; the
// wire encoding puts type, doc, seq and rev before the op.
const prefixLen = 192

// frameTap parses one direction of a WebSocket connection (RFC 6455 §5.2:
// the HTTP upgrade, then frames, masked from the client) incrementally,
// whatever the read or write boundaries, and logs the seq of every submit
// written, or the seq of every ack and the rev of every op read.
type frameTap struct {
	log      *wireLog
	incoming bool

	upgraded bool   // the HTTP upgrade request or response has passed
	tail     []byte // its last bytes, to find "\r\n\r\n" across writes

	hdr    [14]byte
	hdrN   int
	inBody bool
	left   uint64 // payload bytes still to come
	offset uint64 // payload bytes seen
	mask   [4]byte
	text   bool // a text frame that starts a message
	prefix []byte
}

func (p *frameTap) feed(b []byte, now time.Time) {
	if !p.upgraded {
		b = p.skipRequest(b)
	}
	for len(b) > 0 {
		if !p.inBody {
			b = p.header(b)
			if p.inBody && p.left == 0 {
				p.endFrame(now)
			}
			continue
		}
		k := min(uint64(len(b)), p.left)
		if p.text && len(p.prefix) < prefixLen {
			for i := uint64(0); i < k && len(p.prefix) < prefixLen; i++ {
				p.prefix = append(p.prefix, b[i]^p.mask[(p.offset+i)%4])
			}
		}
		p.offset += k
		p.left -= k
		b = b[k:]
		if p.left == 0 {
			p.endFrame(now)
		}
	}
}

// skipRequest consumes the HTTP upgrade request, which ends with an empty
// line; frames follow it.
func (p *frameTap) skipRequest(b []byte) []byte {
	buf := append(p.tail, b...)
	if i := bytes.Index(buf, []byte("\r\n\r\n")); i >= 0 {
		p.upgraded, p.tail = true, nil
		return buf[i+4:]
	}
	p.tail = append(p.tail[:0], buf[max(0, len(buf)-3):]...)
	return nil
}

// header consumes header bytes, one at a time (there are 2 to 14); when
// the header is complete it sets up the payload.
func (p *frameTap) header(b []byte) []byte {
	for len(b) > 0 {
		p.hdr[p.hdrN] = b[0]
		p.hdrN++
		b = b[1:]
		if p.hdrN >= 2 && p.hdrN == headerLen(p.hdr[1]) {
			p.startBody()
			break
		}
	}
	return b
}

func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

func (p *frameTap) startBody() {
	n := uint64(p.hdr[1] & 0x7f)
	i := 2
	switch n {
	case 126:
		n = uint64(p.hdr[2])<<8 | uint64(p.hdr[3])
		i = 4
	case 127:
		n = 0
		for _, c := range p.hdr[2:10] {
			n = n<<8 | uint64(c)
		}
		i = 10
	}
	p.mask = [4]byte{}
	if p.hdr[1]&0x80 != 0 {
		copy(p.mask[:], p.hdr[i:i+4])
	}
	p.text = p.hdr[0]&0x0f == 1 // a text frame starts a message; continuations (0) don't
	p.prefix = p.prefix[:0]
	p.inBody, p.left, p.offset, p.hdrN = true, n, 0, 0
}

var (
	submitPrefix = []byte(`{"type":"submit"`)
	ackPrefix    = []byte(`{"type":"ack"`)
	opPrefix     = []byte(`{"type":"op"`)
)

func (p *frameTap) endFrame(now time.Time) {
	p.inBody = false
	if !p.text {
		return
	}
	l := p.log
	switch {
	case !p.incoming && bytes.HasPrefix(p.prefix, submitPrefix):
		if seq, ok := field(p.prefix, `"seq":`); ok {
			l.note(l.sent, seq, now)
		}
	case p.incoming && bytes.HasPrefix(p.prefix, ackPrefix):
		if seq, ok := field(p.prefix, `"seq":`); ok {
			l.note(l.acked, seq, now)
		}
	case p.incoming && bytes.HasPrefix(p.prefix, opPrefix):
		if rev, ok := field(p.prefix, `"rev":`); ok {
			l.note(l.ops, rev, now)
		}
	}
}

// field returns the unsigned integer after the first name in msg.
func field(msg []byte, name string) (uint64, bool) {
	i := bytes.Index(msg, []byte(name))
	if i < 0 {
		return 0, false
	}
	digits := msg[i+len(name):]
	j := 0
	for j < len(digits) && digits[j] >= '0' && digits[j] <= '9' {
		j++
	}
	if j == 0 || j == len(digits) { // none, or cut off by prefixLen
		return 0, false
	}
	n, err := strconv.ParseUint(string(digits[:j]), 10, 64)
	return n, err == nil
}
