package main

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage/memory"
)

// startNodes starts n collab servers over cluster stores sharing one
// in-process NATS server and returns their URLs.
func startNodes(t *testing.T, n int) []string {
	t.Helper()
	ns := natstest.Run(t)
	quiet := slog.New(slog.DiscardHandler)
	var urls []string
	for range n {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		st, err := cluster.Open(ctx, cluster.Options{URLs: []string{ns.URL()}, Logger: quiet})
		cancel()
		if err != nil {
			t.Fatalf("cluster.Open: %v", err)
		}
		srv := collab.NewServer(st, collab.Options{Logger: quiet})
		ts := httptest.NewServer(srv)
		t.Cleanup(func() {
			ts.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(ctx)
			st.Close()
		})
		urls = append(urls, ts.URL)
	}
	return urls
}

// metric reads an unlabelled counter or gauge from a node's /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", base, err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == name {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %s %q: %v", base, name, v, err)
			}
			return f
		}
	}
	t.Fatalf("%s/metrics lacks %s", base, name)
	return 0
}

func TestCluster(t *testing.T) {
	urls := startNodes(t, 3)
	r, _ := runJSON(t, "-server", strings.Join(urls, ","), "-docs", "4", "-editors", "3",
		"-rate", "10", "-duration", "1s", "-drain", "20s")
	if r.Converged == nil || !*r.Converged || !strings.Contains(r.ConvergeNote, "every node's (3 nodes)") {
		t.Fatalf("converged %v (%s), want checked on every node and true", r.Converged, r.ConvergeNote)
	}
	if r.Acks == 0 || r.SubmitToOthers.Count != 2*int(r.Acks) || r.Errors != 0 {
		t.Errorf("acks %d, deliveries measured %d, errors %d; want acks, 2 × acks, 0", r.Acks, r.SubmitToOthers.Count, r.Errors)
	}
	if len(r.Nodes) != 3 {
		t.Fatalf("nodes = %+v, want 3", r.Nodes)
	}
	var acks int64
	for i, n := range r.Nodes {
		// Editor i of each of the 4 documents is on node i.
		if n.URL != urls[i] || n.Editors != 4 || n.Acks == 0 || n.Deliveries == 0 {
			t.Errorf("node %d = %+v, want %s with 4 editors, acks and deliveries", i, n, urls[i])
		}
		acks += n.Acks
		if !strings.Contains(r.System, urls[i]) {
			t.Errorf("system %q does not name node %s", r.System, urls[i])
		}
		// The node itself committed its editors' ops to the stream.
		if c := metric(t, urls[i], "collab_cluster_commits_total"); c == 0 {
			t.Errorf("node %s committed nothing", urls[i])
		}
	}
	if acks != r.Acks {
		t.Errorf("acks per node sum to %d, want %d", acks, r.Acks)
	}
}

// The check reads every node: two servers that do not share their
// documents disagree, and the run fails.
func TestClusterDisagreement(t *testing.T) {
	var urls []string
	for range 2 {
		l, err := startServer(memory.New(), func() {}, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(l.stop)
		urls = append(urls, l.base)
	}
	c := newClusterSystem(urls, 0, 1, nil)
	defer c.close()
	req, _ := http.NewRequest(http.MethodPut, urls[1]+"/api/docs/d", strings.NewReader("only here"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if _, _, err := c.text(context.Background(), "d"); err == nil || !strings.Contains(err.Error(), urls[1]) {
		t.Errorf("text of a document on one node only: err %v, want the nodes' disagreement", err)
	}
	if text, _, err := c.text(context.Background(), "other"); err != nil || text != "" {
		t.Errorf("text of a document on neither: %q, %v; want empty, nil", text, err)
	}
}

func TestClusterFlags(t *testing.T) {
	tests := [][]string{
		{"-server", "http://127.0.0.1:1,inproc"},
		{"-server", "http://127.0.0.1:1,http://127.0.0.1:1"},
		{"-server", "http://127.0.0.1:1", "-server-pid", "1,2"},
		{"-server", "http://127.0.0.1:1,http://127.0.0.1:2", "-server-pid", "x"},
		{"-server", "http://127.0.0.1:1,http://127.0.0.1:2", "-idle", "-server-pid", "1"},
		{"-server", "http://127.0.0.1:1,http://127.0.0.1:2", "-spread", "nodes"},
	}
	for _, args := range tests {
		if err := run(context.Background(), args, env{stdout: &strings.Builder{}, stderr: &strings.Builder{}}); err == nil {
			t.Errorf("run %v succeeded, want an error", args)
		}
	}
}

// TestClusterSpread: by default editor i of every document is on node
// i mod n; with -spread documents every editor of document k is on node
// k mod n.
func TestClusterSpread(t *testing.T) {
	c := &clusterSystem{nodes: make([]*clientSystem, 3)}
	for _, tt := range []struct {
		byDoc        bool
		doc, ed, out int
	}{
		{false, 0, 0, 0}, {false, 0, 4, 1}, {false, 5, 2, 2},
		{true, 0, 4, 0}, {true, 5, 2, 2}, {true, 4, 0, 1},
	} {
		c.byDoc = tt.byDoc
		if got := c.nodeOf(tt.doc, tt.ed); got != tt.out {
			t.Errorf("byDoc %v: nodeOf(%d, %d) = %d, want %d", tt.byDoc, tt.doc, tt.ed, got, tt.out)
		}
	}
}
