package main

import (
	"net"
	"os"
)

// Default listen addresses: without a secret collabd serves this machine
// only, since anyone who reaches it may read, write and delete everything.
const (
	openAddr   = "127.0.0.1:8080"
	closedAddr = ":8080"
)

// defaultAddr is the listen address when -addr is not given.
func defaultAddr(secret string) string {
	if secret == "" {
		return openAddr
	}
	return closedAddr
}

// ownHosts are the names the server answers to by default besides the
// loopback ones: the host of -addr as given and the address listened on,
// or for a wildcard listener the machine's name and every interface's
// address (a name an attacker controls can point at those too, but not
// become them).
func ownHosts(addr string, ln net.Addr) []string {
	var out []string
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
		out = append(out, h)
	}
	tcp, ok := ln.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		if ok {
			out = append(out, tcp.IP.String())
		}
		return out
	}
	if name, err := os.Hostname(); err == nil {
		out = append(out, name)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

// exposeHint is what an open server listening on loopback logs: how to
// serve other machines. Empty otherwise.
func exposeHint(secret string, ln net.Addr) string {
	tcp, ok := ln.(*net.TCPAddr)
	if secret != "" || !ok || !tcp.IP.IsLoopback() {
		return ""
	}
	return "collabd: without -auth-secret it serves this machine only; to serve others set -auth-secret (it then listens on " + closedAddr + "), or -addr " + closedAddr + " to let anyone who can reach it read, write and delete every document"
}
