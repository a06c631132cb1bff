//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package collab

import (
	"bufio"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// tcpWconn returns a wconn over one end of a loopback TCP connection and
// the other end.
func tcpWconn(t *testing.T) (*wconn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close(); nc.Close() })
	w := &wconn{Conn: nc}
	w.raw, _ = nc.(syscall.Conn).SyscallConn()
	w.br = bufio.NewReader(w)
	return w, peer
}

// TestWaitReadableFor: the reader's short wait reports data, gives up
// after its time, and leaves the read deadline as others set it.
func TestWaitReadableFor(t *testing.T) {
	t.Run("gives up", func(t *testing.T) {
		w, _ := tcpWconn(t)
		if w.waitReadableFor(20 * time.Millisecond) {
			t.Fatal("readable with nothing sent")
		}
		// No deadline was set before: none is left, a read waits for data.
		done := make(chan error, 1)
		go func() { _, err := w.br.ReadByte(); done <- err }()
		select {
		case err := <-done:
			t.Fatalf("read ended with %v: the wait's deadline was left in force", err)
		case <-time.After(100 * time.Millisecond): // a read that waits is the point
		}
		w.Conn.Close()
		<-done
	})
	t.Run("data", func(t *testing.T) {
		w, peer := tcpWconn(t)
		peer.Write([]byte("x"))
		if !w.waitReadableFor(testWait) {
			t.Fatal("not readable with data sent")
		}
	})
	t.Run("keeps the deadline", func(t *testing.T) {
		w, _ := tcpWconn(t)
		w.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		w.waitReadableFor(10 * time.Millisecond)
		if _, err := w.br.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read after the wait: %v, want the earlier deadline to end it", err)
		}
	})
	t.Run("an earlier deadline ends it", func(t *testing.T) {
		w, _ := tcpWconn(t)
		w.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if !w.waitReadableFor(testWait) {
			t.Fatal("gave up before its time: the earlier deadline must make the read fail instead")
		}
	})
}
