//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package collab

// waitReadable does not wait here: gorilla's read does.
func (w *wconn) waitReadable() {}
