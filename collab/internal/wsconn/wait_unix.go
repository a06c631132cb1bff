//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package wsconn

import "syscall"

// waitReadable returns when the socket has data, EOF or an error, or its
// read deadline passed, unless gorilla's buffer holds data already. An idle
// reader waits here, a few frames deep, instead of inside gorilla's read
// path. It peeks once, as the poller requires before it waits; woken, it
// does not peek again: gorilla's read finds what woke it (on the rare
// wake with nothing to read, that read waits instead, on a deeper stack).
func (w *socket) waitReadable() {
	if !w.empty() {
		return
	}
	peeked := false
	w.raw.Read(func(fd uintptr) bool {
		if peeked {
			return true
		}
		peeked = true
		_, _, err := syscall.Recvfrom(int(fd), w.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN // else wait until readable
	})
}

// empty reports whether gorilla's buffer is empty, so that the reader may
// hand the connection to a goroutine that waits in waitReadable. False when
// it cannot tell.
func (w *socket) empty() bool {
	return w.raw != nil && w.br != nil && w.br.Buffered() == 0
}
