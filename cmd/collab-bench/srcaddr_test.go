package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

func TestParseSourceAddrs(t *testing.T) {
	tests := []struct {
		in   string
		want []string // nil: no pool
		bad  bool
	}{
		{in: ""},
		{in: "127.0.0.2", want: []string{"127.0.0.2"}},
		{in: "127.0.0.2-127.0.0.4", want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		{in: "127.0.0.9, 127.0.1.1-127.0.1.2", want: []string{"127.0.0.9", "127.0.1.1", "127.0.1.2"}},
		{in: "127.0.0.255-127.0.1.0", want: []string{"127.0.0.255", "127.0.1.0"}},
		{in: "3", want: []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}},
		{in: "::1", want: []string{"::1"}},
		{in: "0", bad: true},
		{in: "300", bad: true},
		{in: "10.0.0.1", bad: true}, // not loopback
		{in: "127.0.0.5-127.0.0.2", bad: true},
		{in: "127.0.0.1-127.1.0.0", bad: true}, // too many
		{in: "localhost", bad: true},
		{in: "127.0.0.1-", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := parseSourceAddrs(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("parseSourceAddrs(%q) = %v, want an error", tt.in, p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if p != nil {
				for _, a := range p.addrs {
					got = append(got, a.String())
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("parseSourceAddrs(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestSourceAddrsReachServer opens editors through the client system with
// a pool of two source addresses and checks the server saw them
// round-robin.
func TestSourceAddrsReachServer(t *testing.T) {
	srv := collab.NewServer(memory.New(), collab.Options{Logger: slog.New(slog.DiscardHandler)})
	var (
		mu   sync.Mutex
		seen []string
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			host, _, _ := net.SplitHostPort(r.RemoteAddr)
			mu.Lock()
			seen = append(seen, host)
			mu.Unlock()
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()

	pool, err := parseSourceAddrs("127.0.0.2-127.0.0.3")
	if err != nil {
		t.Fatal(err)
	}
	sys := newClientSystem(ts.URL, -1, 1, pool)
	defer sys.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 4 {
		s, err := sys.open(ctx, "src", fmt.Sprintf("c%d", i))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"}; !slices.Equal(seen, want) {
		t.Errorf("server saw connections from %v, want %v", seen, want)
	}
}
