package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Network is an in-memory network between the simulated clients and the
// server. Nothing moves by itself: bytes written to a link wait until the
// World delivers them, one unit at a time (an HTTP head, a WebSocket frame,
// or the end of the stream), so that the order of deliveries across links
// is the seed's while each link keeps TCP's order. Units, not writes, are
// delivered so that how a writer happened to batch its frames changes
// nothing.
//
// Readers and writers wait on one sync.Cond, which testing/synctest counts
// as durably blocked.
type Network struct {
	mu     sync.Mutex
	cond   *sync.Cond
	links  []*Link         // guarded by mu; sorted by (client, dial)
	dials  map[string]int  // guarded by mu; dials made by each client
	refuse map[string]bool // guarded by mu; clients cut off from the server
	ln     *Listener       // guarded by mu; the server's, nil while it is down
	events map[string]int  // guarded by mu; counts of what happened to links
	tap    bool            // keep what clients write or try to (Link.sent), for transcripts; set before any dial
}

// Default and small send windows: bytes written and not yet read before a
// write waits. The small one makes a held link's writer stall quickly.
const (
	bigWindow   = 256 << 10
	smallWindow = 256
)

var (
	errRefused = &net.OpError{Op: "dial", Net: "sim", Err: syscall.ECONNREFUSED}
	errReset   = &net.OpError{Op: "read", Net: "sim", Err: syscall.ECONNRESET}
)

func newNetwork() *Network {
	n := &Network{dials: make(map[string]int), refuse: make(map[string]bool), events: make(map[string]int)}
	n.cond = sync.NewCond(&n.mu)
	return n
}

// Link is one TCP connection, from a client (C) to the server (S).
type Link struct {
	Client string // the dialling client
	order  int    // the client's index, for sorting
	N      int    // the client's dial number, from 1
	up     *pipe  // client to server
	down   *pipe  // server to client
	C, S   *End
	sent   []byte // guarded by Network.mu; every byte the client wrote or tried to, with Network.tap
}

func (l *Link) String() string { return fmt.Sprintf("%s#%d", l.Client, l.N) }

// pipe is one direction of a link.
type pipe struct {
	buf    []byte // written, not yet delivered
	read   []byte // delivered, not yet read
	fin    bool   // the writer closed: EOF follows buf
	eof    bool   // EOF delivered
	broken bool   // reset: reads and writes fail, nothing is delivered
	closed bool   // the reading end closed: writes fail
	drop   bool   // writes vanish: the reader is gone, the writer does not know
	window int
	held   int  // steps during which nothing is delivered
	masked bool // client frames
	head   bool // the HTTP head is still to come
	raw    bool // after a head other than 101: no frames follow
	frames int  // frames delivered
}

func newPipe(masked bool) *pipe { return &pipe{window: bigWindow, masked: masked, head: true} }

// unit is the length of the next deliverable unit of buf; eof reports the
// end of the stream instead.
func (p *pipe) unit() (n int, eof bool) {
	if p.broken || p.held > 0 {
		return 0, false
	}
	if len(p.buf) == 0 {
		return 0, p.fin && !p.eof
	}
	switch {
	case p.raw:
		n = len(p.buf)
	case p.head:
		if i := bytes.Index(p.buf, []byte("\r\n\r\n")); i >= 0 {
			n = i + 4
		}
	default:
		n = frameLen(p.buf)
	}
	if n == 0 && p.fin {
		n = len(p.buf) // a torn frame before the end
	}
	return n, false
}

// frameLen is the length of the WebSocket frame at the head of b, or 0 if
// b does not hold all of it (RFC 6455 section 5.2).
func frameLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	n, l := 2, uint64(b[1]&0x7f)
	switch l {
	case 126:
		if len(b) < 4 {
			return 0
		}
		n, l = 4, uint64(b[2])<<8|uint64(b[3])
	case 127:
		if len(b) < 10 {
			return 0
		}
		n, l = 10, 0
		for _, c := range b[2:10] {
			l = l<<8 | uint64(c)
		}
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	if uint64(len(b)-n) < l {
		return 0
	}
	return n + int(l)
}

// Dial connects client to the server, or fails as a refused TCP connection
// when the server is down or the client is cut off. It is the client's
// websocket.Dialer.NetDialContext.
func (n *Network) Dial(client string, order int) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.ln == nil || n.refuse[client] {
			return nil, errRefused
		}
		n.dials[client]++
		l := &Link{Client: client, order: order, N: n.dials[client], up: newPipe(true), down: newPipe(false)}
		l.C = &End{n: n, l: l, in: l.down, out: l.up, local: addr(l.String()), remote: addr("server")}
		l.S = &End{n: n, l: l, in: l.up, out: l.down, local: addr("server"), remote: addr(l.String())}
		select {
		case n.ln.ch <- l.S:
		default:
			return nil, errRefused // backlog full
		}
		i, _ := slices.BinarySearchFunc(n.links, l, func(a, b *Link) int {
			if a.order != b.order {
				return a.order - b.order
			}
			return a.N - b.N
		})
		n.links = slices.Insert(n.links, i, l)
		return l.C, nil
	}
}

// wake wakes every waiting reader and writer to look again.
func (n *Network) wake() {
	n.mu.Lock()
	n.cond.Broadcast()
	n.mu.Unlock()
}

type addr string

func (a addr) Network() string { return "sim" }
func (a addr) String() string  { return string(a) + ":1" }

// End is one end of a link, a net.Conn.
type End struct {
	n             *Network
	l             *Link
	in, out       *pipe
	local, remote addr

	closed   bool        // guarded by n.mu
	reset    bool        // guarded by n.mu; cut from under this end
	rdl, wdl time.Time   // guarded by n.mu
	rt, wt   *time.Timer // guarded by n.mu; wake the waiters at the deadlines
}

func expired(t time.Time) bool { return !t.IsZero() && !time.Now().Before(t) }

func (e *End) Read(b []byte) (int, error) {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	for {
		switch {
		case e.closed:
			return 0, net.ErrClosed
		case e.reset || e.in.broken:
			return 0, errReset
		case len(e.in.read) > 0:
			k := copy(b, e.in.read)
			e.in.read = e.in.read[k:]
			e.n.cond.Broadcast() // the window has room
			return k, nil
		case e.in.eof:
			return 0, io.EOF
		case expired(e.rdl):
			return 0, os.ErrDeadlineExceeded
		}
		e.n.cond.Wait()
	}
}

func (e *End) Write(b []byte) (int, error) {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	for {
		switch {
		case e.closed:
			return 0, net.ErrClosed
		case e.reset || e.out.broken || e.out.closed:
			e.tapLocked(b)
			return 0, errReset
		case expired(e.wdl):
			e.tapLocked(b)
			return 0, os.ErrDeadlineExceeded
		case e.out.drop:
			return len(b), nil
		case len(e.out.buf)+len(e.out.read) < e.out.window:
			e.out.buf = append(e.out.buf, b...)
			e.tapLocked(b)
			return len(b), nil
		}
		e.n.cond.Wait()
	}
}

// tapLocked keeps what the client tried to write, with Network.tap: a
// message the client sent on a connection it did not know was gone is
// still what it sent.
func (e *End) tapLocked(b []byte) {
	if e.n.tap && e == e.l.C {
		e.l.sent = append(e.l.sent, b...)
	}
}

// Close ends this end: the peer reads what was written, then EOF; its
// writes fail from now on.
func (e *End) Close() error {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	if e.closed {
		return net.ErrClosed
	}
	e.closed = true
	e.out.fin = !e.reset // a cut end sends nothing more
	switch {
	case e == e.l.S && e.l.C.reset && !e.reset:
		e.n.events["server closed a half-open link"]++
	case e == e.l.S && e.out.held > 0:
		e.n.events["server closed a held link"]++
	}
	e.in.closed, e.in.buf, e.in.read = true, nil, nil
	e.stopTimers()
	e.n.cond.Broadcast()
	return nil
}

func (e *End) stopTimers() {
	for _, t := range []*time.Timer{e.rt, e.wt} {
		if t != nil {
			t.Stop()
		}
	}
}

func (e *End) LocalAddr() net.Addr  { return e.local }
func (e *End) RemoteAddr() net.Addr { return e.remote }

func (e *End) SetDeadline(t time.Time) error {
	e.SetReadDeadline(t)
	return e.SetWriteDeadline(t)
}

func (e *End) SetReadDeadline(t time.Time) error {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	e.rdl, e.rt = t, e.deadlineTimer(e.rt, t)
	return nil
}

func (e *End) SetWriteDeadline(t time.Time) error {
	e.n.mu.Lock()
	defer e.n.mu.Unlock()
	e.wdl, e.wt = t, e.deadlineTimer(e.wt, t)
	return nil
}

// deadlineTimer replaces old with a timer that wakes the waiters at t, and
// wakes them now for a deadline already passed.
func (e *End) deadlineTimer(old *time.Timer, t time.Time) *time.Timer {
	if old != nil {
		old.Stop()
	}
	e.n.cond.Broadcast()
	if d := time.Until(t); !t.IsZero() && d > 0 {
		return time.AfterFunc(d, e.n.wake)
	}
	return nil
}

// Listener hands the server the server ends of the links dialled to it.
type Listener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *Listener) Addr() net.Addr { return addr("server") }

// listen makes a new listener the server's.
func (n *Network) listen() *Listener {
	l := &Listener{ch: make(chan net.Conn, 64), done: make(chan struct{})}
	n.mu.Lock()
	n.ln = l
	n.mu.Unlock()
	return l
}

// crash takes the server down: the listener goes and every link is reset.
func (n *Network) crash() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ln != nil {
		n.ln.Close()
		n.ln = nil
	}
	for _, l := range n.links {
		n.resetLocked(l)
	}
}

func (n *Network) resetLocked(l *Link) {
	for _, p := range []*pipe{l.up, l.down} {
		p.broken, p.buf, p.read = true, nil, nil
	}
	l.C.reset, l.S.reset = true, true
	n.cond.Broadcast()
}

// halfOpenLocked cuts l under its client only: the client's reads and
// writes fail, what it wrote still reaches the server, and the server's
// writes vanish until it notices (a ping timeout, or the client's next
// connection replacing this one).
func (n *Network) halfOpenLocked(l *Link) {
	l.C.reset = true
	l.down.drop, l.down.buf, l.down.read = true, nil, nil
	n.cond.Broadcast()
}

// live reports whether l is worth cutting or holding: its client end was
// not cut, and it is not closed at both ends.
func (l *Link) live() bool {
	return !l.up.broken && !(l.C.closed && l.S.closed) && !l.C.reset
}

// pruneLocked forgets links that can carry nothing more.
func (n *Network) pruneLocked() {
	n.links = slices.DeleteFunc(n.links, func(l *Link) bool {
		done := func(p *pipe) bool { return p.broken || p.eof || p.closed }
		return done(l.up) && done(l.down)
	})
}

// Dir is a direction of a link.
type Dir int

const (
	Up   Dir = iota // client to server
	Down            // server to client
)

func (d Dir) String() string { return [...]string{"↑", "↓"}[d] }

func (l *Link) pipe(d Dir) *pipe {
	if d == Up {
		return l.up
	}
	return l.down
}

// Unit names a deliverable unit: the next one of direction D of link L.
type Unit struct {
	L *Link
	D Dir
}

// ready lists what can be delivered now, in the links' order.
func (n *Network) ready() []Unit {
	n.mu.Lock()
	defer n.mu.Unlock()
	var us []Unit
	for _, l := range n.links {
		for _, d := range []Dir{Up, Down} {
			if k, eof := l.pipe(d).unit(); k > 0 || eof {
				us = append(us, Unit{l, d})
			}
		}
	}
	return us
}

// deliver hands u's reader its next unit and returns it; eof reports the
// end of the stream instead. isHead reports an HTTP head.
func (n *Network) deliver(u Unit) (data []byte, isHead, eof bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := u.L.pipe(u.D)
	k, eof := p.unit()
	if eof {
		p.eof = true
		n.cond.Broadcast()
		return nil, false, true
	}
	if k == 0 {
		panic("sim: deliver without a unit")
	}
	data = slices.Clone(p.buf[:k])
	p.buf = p.buf[k:]
	p.read = append(p.read, data...)
	isHead = p.head
	if !p.head {
		p.frames++
	}
	if p.head {
		p.head = false
		p.raw = u.D == Down && !bytes.HasPrefix(data, []byte("HTTP/1.1 101"))
	}
	n.cond.Broadcast()
	return data, isHead, false
}

// hold stops deliveries on u's direction for steps steps and shrinks its
// window, so that its writer soon waits: a reader too slow to follow.
func (n *Network) hold(u Unit, steps int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := u.L.pipe(u.D)
	p.held, p.window = steps, smallWindow
}

// step counts a step down on every held direction and releases those
// whose time is up (all of them if all).
func (n *Network) step(all bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.links {
		for _, p := range []*pipe{l.up, l.down} {
			if p.held > 0 {
				p.held--
				if all {
					p.held = 0
				}
				if p.held == 0 {
					p.window = bigWindow
					n.cond.Broadcast()
				}
			}
		}
	}
	n.pruneLocked()
}

// liveLinks are the links whose client end still works, in order; with
// helloed, only those whose first frame (the client's hello) reached the
// server.
func (n *Network) liveLinks(helloed bool) []*Link {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ls []*Link
	for _, l := range n.links {
		if l.live() && (!helloed || l.up.frames > 0) {
			ls = append(ls, l)
		}
	}
	return ls
}

// cut resets l (both ends see an error; what was in flight is lost), or
// cuts it under its client only (see halfOpenLocked).
func (n *Network) cut(l *Link, half bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if half {
		n.halfOpenLocked(l)
	} else {
		n.resetLocked(l)
	}
}

// partition refuses (or, with off false, allows again) client's dials.
func (n *Network) partition(client string, off bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if off {
		n.refuse[client] = true
	} else {
		delete(n.refuse, client)
	}
}

// heal lets every client dial again and releases every held direction.
func (n *Network) heal() {
	n.mu.Lock()
	clear(n.refuse)
	n.mu.Unlock()
	n.step(true)
}

// up reports whether the server is listening.
func (n *Network) up() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ln != nil
}
