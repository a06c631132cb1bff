//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package collab

import "syscall"

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
