package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/collabd/collab/internal/bench/procstat"
)

// clusterSystem is several collabd nodes sharing their documents (cluster
// mode). Editor ed of every document is on node ed mod n, so each
// document has editors on several nodes; a reconnecting editor redials
// its own node.
type clusterSystem struct {
	urls  []string
	nodes []*clientSystem
	byDoc bool // every editor of a document on one node (-spread documents)
}

func newClusterSystem(urls []string, maxRate float64, conns int, src *addrPool) *clusterSystem {
	c := &clusterSystem{urls: urls}
	for _, u := range urls {
		c.nodes = append(c.nodes, newClientSystem(u, maxRate, conns, src))
	}
	return c
}

// nodeOf returns the node of editor ed of document doc.
func (c *clusterSystem) nodeOf(doc, ed int) int {
	if c.byDoc {
		return doc % len(c.nodes)
	}
	return ed % len(c.nodes)
}

// open connects to the first node: it serves the one typist of a trace.
func (c *clusterSystem) open(ctx context.Context, doc, id string) (session, error) {
	return c.nodes[0].open(ctx, doc, id)
}

// text reads the document from every node and fails unless all of them
// hold the same text.
func (c *clusterSystem) text(ctx context.Context, doc string) (string, bool, error) {
	texts := make([]string, len(c.nodes))
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { texts[i], _, errs[i] = n.text(ctx, doc) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return "", true, fmt.Errorf("node %s: %w", c.urls[i], err)
		}
	}
	for i := 1; i < len(texts); i++ {
		if texts[i] != texts[0] {
			return texts[0], true, fmt.Errorf("node %s has %d code points, node %s %d",
				c.urls[0], runeCount(texts[0]), c.urls[i], runeCount(texts[i]))
		}
	}
	return texts[0], true, nil
}

func (c *clusterSystem) close() {
	for _, n := range c.nodes {
		n.close()
	}
}

// collabdOf returns the collabd system sys drives (the first node of a
// cluster), or false if sys is not collabd.
func collabdOf(sys system) (*clientSystem, bool) {
	switch s := sys.(type) {
	case *clientSystem:
		return s, true
	case *clusterSystem:
		return s.nodes[0], true
	}
	return nil, false
}

// nodeStats counts what the editors of one node did.
type nodeStats struct {
	url     string
	editors int // set while connecting, before the editors start
	acks    atomic.Int64
	delivs  atomic.Int64
	reconns atomic.Int64
}

// nodeReport is one node's share of a cluster run.
type nodeReport struct {
	URL        string            `json:"url"`
	Editors    int               `json:"editors"`
	Acks       int64             `json:"acks"`
	Deliveries int64             `json:"deliveries"`
	Reconnects int64             `json:"reconnects"`
	Server     *procstat.Summary `json:"server,omitempty"` // when -server-pid gives one pid per node
}

// splitServers parses -server: one value, or several comma-separated
// http(s) URLs of the nodes of a cluster.
func splitServers(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) == 1 {
		return parts, nil
	}
	seen := map[string]bool{}
	var urls []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if !strings.HasPrefix(p, "http://") && !strings.HasPrefix(p, "https://") {
			return nil, fmt.Errorf("-server: %q: the nodes of a cluster are http:// URLs", p)
		}
		if seen[p] {
			return nil, fmt.Errorf("-server: %s named twice", p)
		}
		seen[p] = true
		urls = append(urls, p)
	}
	return urls, nil
}

// parsePIDs parses -server-pid: comma-separated process ids.
func parsePIDs(s string) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	var pids []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-server-pid: %q is not a process id", p)
		}
		pids = append(pids, n)
	}
	return pids, nil
}

// sumUsage adds up the summaries of several processes: CPU, the largest
// RSS each had (not necessarily at the same moment) and file descriptors.
func sumUsage(sums []procstat.Summary) procstat.Summary {
	var t procstat.Summary
	for i, s := range sums {
		t.CPUPercent += s.CPUPercent
		t.RSSMaxMB += s.RSSMaxMB
		t.PeakMB += s.PeakMB
		t.FDsMax += s.FDsMax
		if i == 0 || s.Samples < t.Samples {
			t.Samples = s.Samples
		}
	}
	return t
}

// nodeStats returns the counters of the node of editor ed of document
// doc, nil for one server, and counts the editor.
func (e *engine) nodeStats(doc, ed int) *nodeStats {
	cs, ok := e.sys.(*clusterSystem)
	if len(e.nodes) == 0 || !ok {
		return nil
	}
	n := e.nodes[cs.nodeOf(doc, ed)]
	n.editors++
	return n
}

// nodeReports returns each node's share; srv is every server process's
// usage, given to the nodes when there is one per node.
func (e *engine) nodeReports(srv []procstat.Summary) []nodeReport {
	var out []nodeReport
	for i, n := range e.nodes {
		r := nodeReport{URL: n.url, Editors: n.editors, Acks: n.acks.Load(), Deliveries: n.delivs.Load(), Reconnects: n.reconns.Load()}
		if len(srv) == len(e.nodes) {
			r.Server = &srv[i]
		}
		out = append(out, r)
	}
	return out
}
