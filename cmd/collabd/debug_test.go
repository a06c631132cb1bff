package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestDebugHandler(t *testing.T) {
	ts := httptest.NewServer(debugHandler())
	defer ts.Close()
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile",
		"/debug/pprof/heap?debug=1":      "heap profile",
	} {
		res, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d %.80q, want 200 with %q", path, res.StatusCode, body, want)
		}
	}
}

// TestRunDebugAddr: with -debug-addr the profiles are served there and
// not at the editors' address, and the server still stops cleanly.
func TestRunDebugAddr(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := filepath.Join(t.TempDir(), "collab.db")
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-debug-addr", "127.0.0.1:0", "-log-level", "error", "-data", data}, nil)
	res, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(body), "goroutine profile") {
		t.Errorf("the editors' address serves the profiles")
	}
	cancel()
	wait()
}
