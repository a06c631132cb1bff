//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package wsconn

// waitReadable does not wait here: gorilla's read does.
func (w *socket) waitReadable() {}

// empty cannot tell here: the reader waits in gorilla's read.
func (w *socket) empty() bool { return false }
