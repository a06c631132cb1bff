package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEditorsOf(t *testing.T) {
	tests := []struct {
		wl   workload
		want []int
	}{
		{workload{docs: 3, editors: 2}, []int{2, 2, 2}},
		{workload{docs: 3, editors: 2, conns: 10}, []int{4, 3, 3}},
		{workload{docs: 4, editors: 9, conns: 4}, []int{1, 1, 1, 1}},
	}
	for _, tt := range tests {
		sum := 0
		for i, want := range tt.want {
			if got := tt.wl.editorsOf(i); got != want {
				t.Errorf("%+v: editorsOf(%d) = %d, want %d", tt.wl, i, got, want)
			}
			sum += want
		}
		if got := tt.wl.connections(); got != sum {
			t.Errorf("%+v: connections() = %d, want %d", tt.wl, got, sum)
		}
	}
}

func TestIdle(t *testing.T) {
	heap := filepath.Join(t.TempDir(), "heap.prof")
	r, stderr := runJSON(t, "-server", "inproc", "-idle", "-docs", "3", "-conns", "10", "-duration", "300ms",
		"-base-rss-mb", "1", "-base-conns", "5", "-memprofile", heap)
	if !strings.Contains(stderr, "server rss before connecting:") {
		t.Errorf("stderr does not give the RSS before connecting, for another run:\n%s", stderr)
	}
	if fi, err := os.Stat(heap); err != nil || fi.Size() == 0 {
		t.Errorf("heap profile: %v", err)
	}
	s := r.Idle
	if r.Mode != "idle" || s == nil {
		t.Fatalf("mode %q, idle %+v: want an idle report", r.Mode, s)
	}
	if r.Connections != 10 || s.Connections != 10 || s.AllConns != 15 {
		t.Errorf("connections %d (idle %d, all %d), want 10, 10, 15", r.Connections, s.Connections, s.AllConns)
	}
	if r.Edits != 0 || r.Acks != 0 || r.EditorsWhoTyped != 0 {
		t.Errorf("edits %d acks %d typed %d: nobody types in an idle run", r.Edits, r.Acks, r.EditorsWhoTyped)
	}
	if s.ServerBeforeMB <= 0 || s.ServerConnectedMB <= 0 || s.ServerEndMB <= 0 || s.ServerFDs < 20 {
		t.Errorf("server memory %+v: want RSS read before, at connect and at the end, and both ends of 10 sockets", s)
	}
	// The base run's RSS (1 MB) is below this process's: both runs'
	// connections then hold more than this run's growth alone.
	if s.AllPerConnKB <= 0 {
		t.Errorf("per connection with the base run = %v, want > 0", s.AllPerConnKB)
	}
	// In process, the server's /metrics account for the whole process: the
	// server's goroutines and the clients' (several per connection). Stack
	// growth is not checked: with 10 connections, stacks that the
	// collector shrinks elsewhere in the process can outweigh theirs.
	if g := s.Runtime; g == nil || g.Goroutines < 2 {
		t.Errorf("server runtime growth = %+v, want read from /metrics: goroutines per connection", g)
	}
	if r.Converged == nil || !*r.Converged || r.Reconnects != 0 || r.Errors != 0 {
		t.Errorf("converged %v, reconnects %d, errors %d; want true, 0, 0", r.Converged, r.Reconnects, r.Errors)
	}
}
