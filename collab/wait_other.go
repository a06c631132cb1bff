//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package collab

// waitReadable does not wait here: gorilla's read does.
func (w *wconn) waitReadable() {}

// empty cannot tell here: the reader waits in gorilla's read.
func (w *wconn) empty() bool { return false }
