//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package collab

import (
	"syscall"
	"time"
)

// waitReadable returns when the socket has data, EOF or an error, or its
// read deadline passed, unless gorilla's buffer holds data already. An idle
// reader waits here, a few frames deep, instead of inside gorilla's read
// path. It only peeks: gorilla reads.
func (w *wconn) waitReadable() {
	if w.raw == nil || w.br == nil || w.br.Buffered() > 0 {
		return
	}
	w.raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), w.peek[:], syscall.MSG_PEEK)
		return err != syscall.EAGAIN // else wait until readable
	})
}

// drained reports whether gorilla's buffer is empty and the socket has
// nothing to read now, so that the next read would wait. False when it
// cannot tell.
func (w *wconn) drained() bool {
	if w.raw == nil || w.br == nil || w.br.Buffered() > 0 {
		return false
	}
	var err error
	w.raw.Read(func(fd uintptr) bool {
		_, _, err = syscall.Recvfrom(int(fd), w.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	})
	return err == syscall.EAGAIN
}

// waitReadableFor waits like waitReadable, but for at most d: false means
// d passed with nothing to read. The read deadline set by others (a pong's,
// a close's) stays in force, and is what it was afterwards unless someone
// set another meanwhile.
func (w *wconn) waitReadableFor(d time.Duration) bool {
	if w.raw == nil || w.br == nil || w.br.Buffered() > 0 {
		return true
	}
	until := time.Now().Add(d).UnixNano()
	w.rmu.Lock()
	keep := w.rdl
	if keep != 0 && keep <= until {
		w.rmu.Unlock()
		w.waitReadable() // the deadline in force comes first
		return true
	}
	w.Conn.SetReadDeadline(time.Unix(0, until))
	w.rmu.Unlock()
	readable := true
	err := w.raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), w.peek[:], syscall.MSG_PEEK)
		return err != syscall.EAGAIN
	})
	w.rmu.Lock()
	if w.rdl == keep { // nobody set another while we waited
		var t time.Time
		if keep != 0 {
			t = time.Unix(0, keep)
		}
		w.Conn.SetReadDeadline(t)
		readable = err == nil
	}
	w.rmu.Unlock()
	return readable
}
