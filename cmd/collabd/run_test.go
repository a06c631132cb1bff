package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/storage/bolt"
)

// TestRun starts collabd on a free port with a temporary database, uses it,
// takes a hot backup through the running server, stops it by cancelling
// ctx, and then compacts and backs up the file offline.
// startRun runs collabd with args and env until ctx ends and returns the
// address it listens on. wait, called after ctx ended, checks that run
// returned without an error.
func startRun(t *testing.T, ctx context.Context, args, env []string) (addr string, wait func()) {
	t.Helper()
	addrc := make(chan string, 1)
	listening = func(addr string) { addrc <- addr }
	t.Cleanup(func() { listening = nil })
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env) }()
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("collabd did not start listening")
	}
	return addr, func() {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("run did not return after cancel")
		}
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "collab.db")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error"}, []string{"COLLAB_DATA=" + data, "OTHER=x"})
	base := "http://" + addr

	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/api/docs/hello", strings.NewReader("hi 👋"))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("PUT: %v %v", res, err)
	}
	res.Body.Close()
	if code, _ := get("/"); code != 200 {
		t.Fatalf("/ = %d, want the web page", code)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "collab_ops_applied_total 1") {
		t.Fatalf("/metrics = %d, lacks one applied op", code)
	}
	hot := filepath.Join(dir, "hot.db")
	if err := run(ctx, []string{"backup", "-url", base, "-out", hot}, nil); err != nil {
		t.Fatalf("backup -url: %v", err)
	}

	cancel()
	wait()

	compacted := filepath.Join(dir, "compact.db")
	if err := run(context.Background(), []string{"compact", "-data", data, "-out", compacted}, nil); err != nil {
		t.Fatalf("compact: %v", err)
	}
	cold := filepath.Join(dir, "cold.db")
	if err := run(context.Background(), []string{"backup", "-data", data, "-out", cold}, nil); err != nil {
		t.Fatalf("backup -data: %v", err)
	}
	for _, p := range []string{data, hot, compacted, cold} {
		db, err := bolt.Open(p, bolt.Options{})
		if err != nil {
			t.Fatalf("open %s: %v", p, err)
		}
		doc, err := db.Load(context.Background(), "hello")
		db.Close()
		if err != nil || doc.Text != "hi 👋" {
			t.Fatalf("%s: %q, %v", filepath.Base(p), doc.Text, err)
		}
	}
	if err := run(context.Background(), []string{"backup", "-out", filepath.Join(dir, "x")}, nil); err == nil {
		t.Fatal("backup without a source succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Fatal("failed backup left a file")
	}
}

// TestBadAllowedOrigins: an -allowed-origins entry that is not an origin
// (no scheme, or "*") stops collabd before it serves, with the accepted
// form in the message.
func TestBadAllowedOrigins(t *testing.T) {
	for bad, want := range map[string]string{
		"localhost:8099":                      "http://localhost:8099",
		"*":                                   "scheme://host[:port]",
		"https://ok.example, app.example.com": "http://app.example.com",
	} {
		data := filepath.Join(t.TempDir(), "c.db")
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // were it to start, it stops at once
		err := run(ctx, []string{"-addr", "127.0.0.1:0", "-data", data, "-allowed-origins", bad}, nil)
		if err == nil || !strings.Contains(err.Error(), "-allowed-origins") || !strings.Contains(err.Error(), "scheme://host[:port]") || !strings.Contains(err.Error(), want) {
			t.Errorf("-allowed-origins %q: %v, want a refusal giving the form and %q", bad, err, want)
		}
	}
}

// TestHelp: collabd -h lists the commands and the server's flags and is
// no error (exit 0); so is -h of a command.
func TestHelp(t *testing.T) {
	var out strings.Builder
	usageOutput = &out
	t.Cleanup(func() { usageOutput = os.Stderr })
	for _, args := range [][]string{{"-h"}, {"--help"}, {"serve", "-h"}, {"token", "-h"}, {"compact", "-h"}, {"backup", "-h"}} {
		out.Reset()
		if err := run(context.Background(), args, nil); err != nil {
			t.Errorf("%v: %v, want no error", args, err)
		}
		if strings.Contains(out.String(), "help requested") || !strings.Contains(out.String(), "-") {
			t.Errorf("%v printed %q", args, out.String())
		}
		if args[0] == "-h" {
			for _, want := range []string{"collabd token", "collabd compact", "collabd backup", "-allowed-origins", "COLLAB_ADDR"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("collabd -h does not mention %q:\n%s", want, out.String())
				}
			}
		}
	}
}
