package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDefaultAddr: without a secret collabd listens on loopback only.
func TestDefaultAddr(t *testing.T) {
	if got := defaultAddr(""); got != "127.0.0.1:8080" {
		t.Errorf("open mode listens on %q, want loopback", got)
	}
	if got := defaultAddr("0123456789abcdef"); got != ":8080" {
		t.Errorf("with a secret collabd listens on %q, want every interface", got)
	}
	if got := openURL(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false); got != "http://localhost:8080/" {
		t.Errorf("open mode shows %q, want the README's http://localhost:8080/", got)
	}
}

// TestOwnHosts: a wildcard listener answers to the machine's name and
// addresses; a specific one to the address and name given.
func TestOwnHosts(t *testing.T) {
	any := ownHosts(":0", &net.TCPAddr{IP: net.IPv6unspecified, Port: 1})
	if name, err := os.Hostname(); err == nil && !slices.Contains(any, name) {
		t.Errorf("wildcard: %v lacks the host name %q", any, name)
	}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && !slices.Contains(any, ipn.IP.String()) {
			t.Errorf("wildcard: %v lacks the interface address %s", any, ipn.IP)
		}
	}
	one := ownHosts("box.lan:8080", &net.TCPAddr{IP: net.IPv4(10, 0, 0, 5), Port: 8080})
	if !slices.Equal(one, []string{"box.lan", "10.0.0.5"}) {
		t.Errorf("specific: %v, want box.lan and 10.0.0.5", one)
	}
}

// TestRunHosts: collabd refuses a rebound Host (421), on the API and the
// pages alike, and answers the names of -allowed-hosts
// (COLLAB_ALLOWED_HOSTS).
func TestRunHosts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-data", filepath.Join(t.TempDir(), "c.db")},
		[]string{"COLLAB_ALLOWED_HOSTS=collab.example, other.example"})
	get := func(host, path string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for host, want := range map[string]int{
		addr:               http.StatusOK,
		"localhost":        http.StatusOK,
		"collab.example":   http.StatusOK,
		"other.example":    http.StatusOK,
		"rebind.evil.test": http.StatusMisdirectedRequest,
	} {
		for _, path := range []string{"/api/docs", "/", "/collab.js"} {
			if got := get(host, path); got != want {
				t.Errorf("Host %q, %s: %d, want %d", host, path, got, want)
			}
		}
	}
	cancel()
	wait()
}

// TestExposeHint: an open server on loopback says how to serve others;
// one with a secret, or listening further, says nothing.
func TestExposeHint(t *testing.T) {
	lo := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	if h := exposeHint("", lo); !strings.Contains(h, "-auth-secret") || !strings.Contains(h, "-addr :8080") {
		t.Errorf("open on loopback: %q, want how to expose it", h)
	}
	if h := exposeHint("0123456789abcdef", lo); h != "" {
		t.Errorf("with a secret: %q", h)
	}
	if h := exposeHint("", &net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}); h != "" {
		t.Errorf("open on every interface: %q", h)
	}
}
