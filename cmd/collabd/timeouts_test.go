package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIdleTimeout: an idle keep-alive connection is closed after
// -idle-timeout instead of holding a file descriptor for ever.
func TestIdleTimeout(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-idle-timeout", "100ms",
		"-data", filepath.Join(t.TempDir(), "c.db")}, nil)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	io.WriteString(nc, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(nc)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.Close {
		t.Fatal("the server did not keep the connection alive")
	}
	if _, err := br.ReadByte(); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the idle connection is still open after 10 s")
	} else if err != io.EOF {
		t.Fatalf("idle connection: %v, want EOF", err)
	}
	cancel()
	wait()
}
