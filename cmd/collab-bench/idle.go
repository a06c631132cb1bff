package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/collabd/collab/internal/bench/procstat"
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

	metricsURL        string // the server's /metrics, for its Go runtime's own account
	goBefore, goAtEnd goMem
	// inprocess: the server is this process, whose garbage collector runs
	// before each reading of goMem, so that a collection shrinking some
	// goroutine's stack between the two readings does not make the
	// connections' stacks look smaller than nothing.
	inprocess bool
}

// goMem is the Go runtime's account of a server's memory, from the
// go_* series of its /metrics (the Prometheus Go collector).
type goMem struct {
	ok                     bool
	goroutines             float64
	stack, heapInuse, heap float64 // bytes: stacks in use, heap spans in use, live and not yet collected objects
}

func readGoMem(ctx context.Context, c *http.Client, url string) goMem {
	var m goMem
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return m
	}
	resp, err := c.Do(req)
	if err != nil {
		return m
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return m
	}
	fields := map[string]*float64{
		"go_goroutines":                 &m.goroutines,
		"go_memstats_stack_inuse_bytes": &m.stack,
		"go_memstats_heap_inuse_bytes":  &m.heapInuse,
		"go_memstats_heap_alloc_bytes":  &m.heap,
	}
	found := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if p := fields[name]; ok && p != nil {
			if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
				*p = v
				found++
			}
		}
	}
	m.ok = found == len(fields)
	return m
}

// startIdle reads the server's and this process's memory before any
// connection is opened.
func startIdle(ctx context.Context, tgt *target, o *options) (*idleProbe, error) {
	if len(tgt.pids) != 1 {
		return nil, fmt.Errorf("-idle measures the server's memory: give its process id with -server-pid")
	}
	p := &idleProbe{pid: tgt.pids[0], baseRSS: int64(o.baseRSSMB * (1 << 20)), baseConns: o.baseConns, inprocess: tgt.inprocess}
	var err error
	if p.before, err = procstat.Read(p.pid); err != nil {
		return nil, err
	}
	p.benchBefore, _ = procstat.Read(os.Getpid())
	if cs, ok := tgt.sys.(*clientSystem); ok {
		p.metricsURL = cs.httpURL + "/metrics"
		p.goBefore = p.readGoMem(ctx, cs.http)
	}
	return p, nil
}

func (p *idleProbe) markConnected() error {
	var err error
	p.connected, err = procstat.Read(p.pid)
	return err
}

func (p *idleProbe) readGoMem(ctx context.Context, c *http.Client) goMem {
	if p.inprocess {
		runtime.GC()
	}
	return readGoMem(ctx, c, p.metricsURL)
}

func (p *idleProbe) markEnd(ctx context.Context, c *http.Client) {
	p.end, p.err = procstat.Read(p.pid)
	p.benchAt, _ = procstat.Read(os.Getpid())
	if p.metricsURL != "" {
		p.goAtEnd = p.readGoMem(ctx, c)
	}
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
	// The server's Go runtime's account of the growth (from its /metrics;
	// absent if it has none), per connection: goroutines, their stacks,
	// heap objects (live and not yet collected) and heap spans in use.
	Runtime *runtimeGrowth `json:"server_runtime_per_connection,omitempty"`
}

type runtimeGrowth struct {
	Goroutines  float64 `json:"goroutines"`
	StackKB     float64 `json:"stack_kb"`
	HeapKB      float64 `json:"heap_alloc_kb"`
	HeapInuseKB float64 `json:"heap_inuse_kb"`
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
	if a, b := p.goBefore, p.goAtEnd; a.ok && b.ok {
		n := float64(max(conns, 1))
		s.Runtime = &runtimeGrowth{
			Goroutines:  round1((b.goroutines - a.goroutines) / n),
			StackKB:     round1((b.stack - a.stack) / 1024 / n),
			HeapKB:      round1((b.heap - a.heap) / 1024 / n),
			HeapInuseKB: round1((b.heapInuse - a.heapInuse) / 1024 / n),
		}
	}
	if p.baseConns > 0 {
		s.AllConns = p.baseConns + conns
		s.AllPerConnKB = kb(p.end.RSS-p.baseRSS, s.AllConns)
	}
	return s
}
