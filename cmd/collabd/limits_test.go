package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
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

// TestLimitFlagsZero: -max-conns-per-ip 0, -api-rate 0, -write-rate 0 and
// -doc-growth 0 turn those limits off, as -conn-rate 0 does; their
// defaults keep them on.
func TestLimitFlagsZero(t *testing.T) {
	for _, tt := range []struct {
		args                      []string
		conns, api, write, growth float64
	}{
		{nil, 1000, 20, 1 << 20, 256 << 20},
		{[]string{"-max-conns-per-ip", "0", "-api-rate", "0", "-write-rate", "0", "-doc-growth", "0"}, -1, -1, -1, -1},
	} {
		fs := flag.NewFlagSet("collabd", flag.ContinueOnError)
		c := serveFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		zeroMeansNoLimit(&c.opts)
		if float64(c.opts.MaxConnsPerIP) != tt.conns || c.opts.APIRate != tt.api {
			t.Errorf("%v: MaxConnsPerIP %d, APIRate %v; want %v, %v", tt.args, c.opts.MaxConnsPerIP, c.opts.APIRate, tt.conns, tt.api)
		}
		if c.opts.WriteRate != tt.write || float64(c.opts.DocGrowth) != tt.growth {
			t.Errorf("%v: WriteRate %v, DocGrowth %d; want %v, %v", tt.args, c.opts.WriteRate, c.opts.DocGrowth, tt.write, tt.growth)
		}
	}
}

// TestSnapshotRatioFlag: -snapshot-ratio defaults to 4, 0 turns the byte
// rule off (the store's negative) and a negative value is refused.
func TestSnapshotRatioFlag(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    int
		wantErr string
	}{
		{nil, 4, ""},
		{[]string{"-snapshot-ratio", "0"}, -1, ""},
		{[]string{"-snapshot-ratio", "-2"}, 0, "-snapshot-ratio: 0 or more"},
	} {
		fs := flag.NewFlagSet("collabd", flag.ContinueOnError)
		c := serveFlags(fs)
		if err := fs.Parse(tt.args); err != nil {
			t.Fatal(err)
		}
		opts, err := boltOptions(c.store)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || opts.SnapshotRatio != tt.want {
			t.Errorf("%v: SnapshotRatio %d, %v; want %d", tt.args, opts.SnapshotRatio, err, tt.want)
		}
	}
}
