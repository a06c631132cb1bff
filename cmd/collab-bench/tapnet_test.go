package main

import (
	"bytes"
	"net"
)

type netConn = net.Conn

// recordConn copies what is written to it into w.
type recordConn struct {
	netConn
	w *bytes.Buffer
}

func (c *recordConn) Write(b []byte) (int, error) {
	c.w.Write(b)
	return c.netConn.Write(b)
}
