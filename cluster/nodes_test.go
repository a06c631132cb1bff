package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// node is one collabd node: a Server over its own Store, behind httptest.
type node struct {
	t     *testing.T
	store *cluster.Store
	srv   *collab.Server
	ts    *httptest.Server
	once  sync.Once
}

func startNode(t *testing.T, urls []string, opts cluster.Options) *node {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = time.Second
	}
	st := open(t, urls, opts)
	srv := collab.NewServer(st, collab.Options{Logger: quietLogger(), Grace: time.Minute})
	n := &node{t: t, store: st, srv: srv, ts: httptest.NewServer(srv)}
	t.Cleanup(n.stop)
	return n
}

func (n *node) addr() string { return n.ts.Listener.Addr().String() }

// stop shuts the node down gracefully: pending commits finish.
func (n *node) stop() {
	n.once.Do(func() {
		n.ts.CloseClientConnections()
		n.ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		if err := n.srv.Shutdown(ctx); err != nil {
			n.t.Errorf("Shutdown: %v", err)
		}
		n.store.Close()
	})
}

// kill ends the node as a crash would: its clients' connections drop
// without a close frame and its NATS connection goes, with whatever it
// had in flight; the Server's goroutines are then reaped.
func (n *node) kill() {
	n.once.Do(func() {
		n.ts.CloseClientConnections()
		n.store.Close()
		n.ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), testWait)
		defer cancel()
		if err := n.srv.Shutdown(ctx); err != nil {
			n.t.Errorf("Shutdown after kill: %v", err)
		}
	})
}

// balancer is a TCP load balancer: each new connection goes to the next
// live backend, round robin. No sticky sessions.
type balancer struct {
	ln   net.Listener
	mu   sync.Mutex
	back []string              // guarded by mu; "" is a dead backend
	next int                   // guarded by mu
	open map[string][]net.Conn // guarded by mu: connections per backend
	wg   sync.WaitGroup
}

func newBalancer(t *testing.T, backends ...string) *balancer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &balancer{ln: ln, back: backends, open: make(map[string][]net.Conn)}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for _, cs := range b.open {
			for _, c := range cs {
				c.Close()
			}
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *balancer) url() string { return "ws://" + b.ln.Addr().String() + "/ws" }

func (b *balancer) pick() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range b.back {
		addr := b.back[b.next%len(b.back)]
		b.next++
		if addr != "" {
			return addr
		}
	}
	return ""
}

func (b *balancer) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		addr := b.pick()
		s, err := net.Dial("tcp", addr)
		if err != nil {
			c.Close()
			continue
		}
		b.mu.Lock()
		b.open[addr] = append(b.open[addr], c, s)
		b.mu.Unlock()
		b.wg.Add(2)
		go func() { defer b.wg.Done(); io.Copy(s, c); s.Close() }()
		go func() { defer b.wg.Done(); io.Copy(c, s); c.Close() }()
	}
}

// remove stops routing to addr and cuts its connections; it returns how
// many client connections it cut.
func (b *balancer) remove(addr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, a := range b.back {
		if a == addr {
			b.back[i] = ""
		}
	}
	n := len(b.open[addr]) / 2
	for _, c := range b.open[addr] {
		c.Close()
	}
	delete(b.open, addr)
	return n
}

func dial(t *testing.T, ctx context.Context, url, id string) *client.Conn {
	t.Helper()
	c, err := client.Dial(ctx, url, client.Options{ClientID: id, Name: id, Reconnect: true,
		MinDelay: 10 * time.Millisecond, MaxDelay: 200 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Dial %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

var alphabet = []string{"a", "b", "é", "汉", "😀", "👋🏽", " ", "\n"}

func randomEdit(r *rand.Rand, d *client.Doc) error {
	n := d.Len()
	if n > 0 && r.IntN(3) == 0 {
		pos := r.IntN(n)
		return d.Delete(pos, 1+r.IntN(min(3, n-pos)))
	}
	return d.Insert(r.IntN(n+1), alphabet[r.IntN(len(alphabet))])
}

// editAll makes each doc do edits random edits at once, calling during
// (if not nil) once half of them are done.
func editAll(t *testing.T, docs []*client.Doc, edits int, during func()) {
	t.Helper()
	var wg sync.WaitGroup
	var half sync.WaitGroup
	half.Add(len(docs))
	errs := make(chan error, len(docs))
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 3))
			for k := range edits {
				if k == edits/2 {
					half.Done()
				}
				if err := randomEdit(r, d); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if during != nil {
		half.Wait()
		during()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("edit: %v", err)
	}
}

// converged waits until every editor is acknowledged and holds the stored
// head, and checks that the stored text is the replay of the log and that
// each client's ops are in the log once each, in seq order.
func converged(t *testing.T, ctx context.Context, st storage.Store, id string, docs []*client.Doc) string {
	t.Helper()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("%s: WaitSynced: %v", id, err)
		}
	}
	// A node reconnecting to NATS refuses reads at once (unavailable)
	// rather than queue them: ask again until it is back.
	var stored storage.Doc
	var err error
	waitFor(t, "the store to answer", func() bool {
		stored, err = st.Load(ctx, id)
		return !errors.Is(err, storage.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		if err := d.WaitRev(ctx, stored.Rev); err != nil {
			t.Fatalf("%s: WaitRev(%d): %v", id, stored.Rev, err)
		}
		if got := d.Text(); got != stored.Text {
			t.Fatalf("%s editor %d: %q, stored %q", id, i, got, stored.Text)
		}
	}
	var recs []storage.Record
	waitFor(t, "the store to answer", func() bool {
		recs, err = st.Ops(ctx, id, 0, stored.Rev)
		return !errors.Is(err, storage.ErrUnavailable)
	})
	if err != nil {
		t.Fatal(err)
	}
	b := ot.NewBuffer("")
	last := make(map[string]uint64)
	for _, r := range recs {
		if err := b.Apply(r.Op); err != nil {
			t.Fatalf("%s: replay rev %d: %v", id, r.Rev, err)
		}
		if r.Client != "" && r.Seq != last[r.Client]+1 {
			t.Fatalf("%s: client %s seq %d after %d: each op exactly once", id, r.Client, r.Seq, last[r.Client])
		}
		last[r.Client] = r.Seq
	}
	if b.String() != stored.Text {
		t.Fatalf("%s: replay %q, stored %q", id, b.String(), stored.Text)
	}
	return stored.Text
}

// TestNodesConverge: editors spread over three collabd nodes sharing one
// NATS server make random concurrent edits to two documents; every editor
// ends with the stored text, every op once.
func TestNodesConverge(t *testing.T) {
	ns := natstest.Run(t)
	urls := []string{ns.URL()}
	nodes := []*node{startNode(t, urls, cluster.Options{}), startNode(t, urls, cluster.Options{}), startNode(t, urls, cluster.Options{})}
	ctx := ctxT(t)
	byDoc := make(map[string][]*client.Doc)
	var docs []*client.Doc
	for e := range 6 {
		c := dial(t, ctx, "ws://"+nodes[e%3].addr()+"/ws", fmt.Sprintf("ed-%d", e))
		for k := range 2 {
			id := fmt.Sprintf("doc.%d", k)
			d, err := c.Join(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			byDoc[id] = append(byDoc[id], d)
			docs = append(docs, d)
		}
	}
	editAll(t, docs, 30, nil)
	for id, ds := range byDoc {
		converged(t, ctx, nodes[0].store, id, ds)
	}
	var conflicts float64
	for _, n := range nodes {
		conflicts += counter(t, n.store, "collab_cluster_commit_conflicts_total")
	}
	t.Logf("%v commits refused and retried", conflicts)
}

// counter reads a counter or gauge of a Store's metrics.
func counter(t *testing.T, st *cluster.Store, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(st)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return sum
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestNodeKilled: a collabd node dies in the middle of concurrent editing
// (its connections drop, what it had in flight may or may not be in the
// log); its editors reconnect through the load balancer to the other nodes
// and resubmit, and every edit is in the log exactly once.
func TestNodeKilled(t *testing.T) {
	ns := natstest.Run(t)
	urls := []string{ns.URL()}
	nodes := []*node{startNode(t, urls, cluster.Options{}), startNode(t, urls, cluster.Options{}), startNode(t, urls, cluster.Options{})}
	lb := newBalancer(t, nodes[0].addr(), nodes[1].addr(), nodes[2].addr())
	ctx := ctxT(t)
	var docs []*client.Doc
	for e := range 6 {
		c := dial(t, ctx, lb.url(), fmt.Sprintf("ed-%d", e))
		d, err := c.Join(ctx, "doc")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	editAll(t, docs, 40, func() {
		waitFor(t, "editing under way", func() bool {
			doc, err := nodes[0].store.Load(ctx, "doc")
			return err == nil && doc.Rev >= 5
		})
		if cut := lb.remove(nodes[1].addr()); cut == 0 {
			t.Error("no editor was on the killed node")
		}
		nodes[1].kill()
	})
	converged(t, ctx, nodes[0].store, "doc", docs)
}

// twoNodes starts a NATS server and two nodes on it.
func twoNodes(t *testing.T) (ns *natstest.Server, a, b *node) {
	t.Helper()
	ns = natstest.Run(t)
	urls := []string{ns.URL()}
	return ns, startNode(t, urls, cluster.Options{}), startNode(t, urls, cluster.Options{})
}
