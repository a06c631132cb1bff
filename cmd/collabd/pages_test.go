package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestPageHeaders: over plain HTTP no HSTS is sent; /embed pages may be
// framed by collabd's own pages and the -allowed-origins by default, by
// -frame-ancestors (COLLAB_FRAME_ANCESTORS) when set; an invalid entry
// stops collabd at start.
func TestPageHeaders(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args, env []string
		want      string // the /embed page's frame-ancestors
	}{
		{"default", nil, nil, "frame-ancestors 'self'"},
		{"allowed origins", []string{"-allowed-origins", "https://app.example/, https://b.example:8443"}, nil,
			"frame-ancestors 'self' https://app.example https://b.example:8443"},
		{"flag", []string{"-allowed-origins", "https://app.example", "-frame-ancestors", "https://cms.example, https://*.intranet.example"}, nil,
			"frame-ancestors https://cms.example https://*.intranet.example"},
		{"variable", nil, []string{"COLLAB_FRAME_ANCESTORS=*"}, "frame-ancestors *"},
		{"unquoted keywords", []string{"-frame-ancestors", "self,https://app.example"}, nil, "frame-ancestors 'self' https://app.example"},
		{"none", []string{"-frame-ancestors", "none"}, nil, "frame-ancestors 'none'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			args := append([]string{"-addr", "127.0.0.1:0", "-log-level", "error", "-data", filepath.Join(t.TempDir(), "collab.db")}, tt.args...)
			addr, wait := startRun(t, ctx, args, tt.env)
			res, err := http.Get("http://" + addr + "/embed/notes")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if csp := res.Header.Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; "+tt.want) {
				t.Errorf("Content-Security-Policy %q, want it to end with %q", csp, tt.want)
			}
			if hsts := res.Header.Get("Strict-Transport-Security"); hsts != "" {
				t.Errorf("Strict-Transport-Security %q over plain HTTP", hsts)
			}
			cancel()
			wait()
		})
	}
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-data", filepath.Join(t.TempDir(), "x.db"), "-frame-ancestors", "https://a.example;script-src"}, nil)
	if err == nil || !strings.Contains(err.Error(), "-frame-ancestors") {
		t.Errorf("run with an invalid -frame-ancestors: %v", err)
	}
}
