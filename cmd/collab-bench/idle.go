package main

import (
	"fmt"
	"os"
	"time"

	"github.com/collabd/collab/bench/procstat"
)

// idleProbe measures what idle connections cost: the server's resident
// memory before any connection of this run, right after they are all
// joined, and at the end of the hold, read from /proc/<pid>; the same for
// this process, the clients' side.
type idleProbe struct {
	pid                  int
	before, connected    procstat.Usage
	end                  procstat.Usage
	benchBefore, benchAt procstat.Usage
	baseRSS              int64 // -base-rss-mb: the server's RSS before an earlier run's connections
	baseConns            int   // -base-conns: that run's connections, still open
	err                  error // reading the server at the end
}

// startIdle reads the server's and this process's memory before any
// connection is opened.
func startIdle(tgt *target, o *options) (*idleProbe, error) {
	if tgt.pid <= 0 {
		return nil, fmt.Errorf("-idle measures the server's memory: give its process id with -server-pid")
	}
	p := &idleProbe{pid: tgt.pid, baseRSS: int64(o.baseRSSMB * (1 << 20)), baseConns: o.baseConns}
	var err error
	if p.before, err = procstat.Read(p.pid); err != nil {
		return nil, err
	}
	p.benchBefore, _ = procstat.Read(os.Getpid())
	return p, nil
}

func (p *idleProbe) markConnected() error {
	var err error
	p.connected, err = procstat.Read(p.pid)
	return err
}

func (p *idleProbe) markEnd() {
	p.end, p.err = procstat.Read(p.pid)
	p.benchAt, _ = procstat.Read(os.Getpid())
}

// idleSummary is the memory of idle connections. Per-connection figures
// divide the growth of resident memory by the connections: the server's
// goroutines, buffers and per-editor state, plus whatever garbage the Go
// runtime had not returned to the kernel when it was read (socket buffers
// are kernel memory, outside RSS).
type idleSummary struct {
	Connections       int     `json:"connections"`
	HoldS             float64 `json:"hold_s"`
	ServerBeforeMB    float64 `json:"server_rss_before_mb"`
	ServerConnectedMB float64 `json:"server_rss_connected_mb"`
	ServerEndMB       float64 `json:"server_rss_end_mb"`
	ServerFDs         int     `json:"server_fds"`
	// PerConnKB is (end − before) / connections; AtConnectKB the same
	// right after connecting.
	PerConnKB   float64 `json:"server_kb_per_connection"`
	AtConnectKB float64 `json:"server_kb_per_connection_at_connect"`
	// With -base-rss-mb and -base-conns: (end − base) / (base conns +
	// connections), both runs' connections together.
	AllConns     int     `json:"all_connections,omitempty"`
	AllPerConnKB float64 `json:"server_kb_per_connection_all,omitempty"`
	// ClientPerConnKB is this process's growth per connection: the Go
	// client's side.
	ClientPerConnKB float64 `json:"client_kb_per_connection"`
}

func (p *idleProbe) summary(conns int, hold time.Duration) *idleSummary {
	mb := func(b int64) float64 { return round1(float64(b) / (1 << 20)) }
	kb := func(b int64, n int) float64 { return round1(float64(b) / 1024 / float64(max(n, 1))) }
	s := &idleSummary{
		Connections:       conns,
		HoldS:             round1(hold.Seconds()),
		ServerBeforeMB:    mb(p.before.RSS),
		ServerConnectedMB: mb(p.connected.RSS),
		ServerEndMB:       mb(p.end.RSS),
		ServerFDs:         p.end.FDs,
		PerConnKB:         kb(p.end.RSS-p.before.RSS, conns),
		AtConnectKB:       kb(p.connected.RSS-p.before.RSS, conns),
		ClientPerConnKB:   kb(p.benchAt.RSS-p.benchBefore.RSS, conns),
	}
	if p.baseConns > 0 {
		s.AllConns = p.baseConns + conns
		s.AllPerConnKB = kb(p.end.RSS-p.baseRSS, s.AllConns)
	}
	return s
}
