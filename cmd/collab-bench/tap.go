package main

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
	"time"
)

// sendLog records when each submit left the client: the time its WebSocket
// frame was written to the socket. A resubmission after a reconnect keeps
// the first time, so its latency includes the reconnection.
type sendLog struct {
	mu   sync.Mutex           // guards sent
	sent map[uint64]time.Time // seq → first write
}

func newSendLog() *sendLog { return &sendLog{sent: make(map[uint64]time.Time)} }

func (l *sendLog) note(seq uint64, t time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.sent[seq]; !ok {
		l.sent[seq] = t
	}
}

// take returns and forgets the send time of seq.
func (l *sendLog) take(seq uint64) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.sent[seq]
	delete(l.sent, seq)
	return t, ok
}

// tapDial returns a dial function whose connections report every submit
// written through them to log.
func tapDial(log *sendLog) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &tapConn{Conn: c, p: frameTap{log: log}}, nil
	}
}

// tapConn watches the bytes a WebSocket client writes.
type tapConn struct {
	net.Conn
	p frameTap // owned by the writer: gorilla writes from one goroutine at a time
}

func (c *tapConn) Write(b []byte) (int, error) {
	c.p.feed(b, time.Now())
	return c.Conn.Write(b)
}

// prefixLen is how much of a text frame is unmasked to find a submit's
// seq; the wire encoding puts type, doc, rev and seq before the op.
const prefixLen = 192

// frameTap parses the client-to-server WebSocket frame stream (RFC 6455
// §5.2; client frames are masked) incrementally, whatever the write
// boundaries, and notes the seq of every submit message.
type frameTap struct {
	log *sendLog

	upgraded bool   // the HTTP upgrade request has been written
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

var submitPrefix = []byte(`{"type":"submit"`)

func (p *frameTap) endFrame(now time.Time) {
	p.inBody = false
	if !p.text || !bytes.HasPrefix(p.prefix, submitPrefix) {
		return
	}
	i := bytes.Index(p.prefix, []byte(`"seq":`))
	if i < 0 {
		return
	}
	digits := p.prefix[i+6:]
	j := 0
	for j < len(digits) && digits[j] >= '0' && digits[j] <= '9' {
		j++
	}
	if j == len(digits) { // cut off by prefixLen: cannot tell
		return
	}
	if seq, err := strconv.ParseUint(string(digits[:j]), 10, 64); err == nil {
		p.log.note(seq, now)
	}
}
