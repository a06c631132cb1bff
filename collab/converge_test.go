package collab_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

var alphabet = []string{"a", "b", "é", "汉", "字", "😀", "👋🏽", " ", "\n", "ß"}

func startCollab(t *testing.T, st storage.Store) (*collab.Server, *httptest.Server) {
	t.Helper()
	// No API rate limit: the tests read the API at every revision
	// (TestAPIRate tests the limit).
	srv := collab.NewServer(st, collab.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), APIRate: 1e9, APIBurst: 1e9})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, ts
}

func wsURL(addr string) string { return "ws://" + addr + "/ws" }

func dialClient(t *testing.T, ctx context.Context, addr, id string, reconnect bool) *client.Conn {
	t.Helper()
	c, err := client.Dial(ctx, wsURL(addr), client.Options{
		ClientID: id, Name: id, Reconnect: reconnect, MinDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("Dial %s: %v", id, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// randomEdit inserts or deletes at a random place of d.
func randomEdit(r *rand.Rand, d *client.Doc) error {
	n := d.Len()
	if n > 0 && r.IntN(3) == 0 {
		pos := r.IntN(n)
		return d.Delete(pos, 1+r.IntN(min(3, n-pos)))
	}
	var sb strings.Builder
	for range 1 + r.IntN(3) {
		sb.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return d.Insert(r.IntN(n+1), sb.String())
}

// checkConverged waits until every doc holds the server's head and checks
// that the texts equal the stored text and a replay of the stored op log.
func checkConverged(t *testing.T, ctx context.Context, st storage.Store, id string, docs []*client.Doc) {
	t.Helper()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("WaitSynced: %v", err)
		}
	}
	stored, err := st.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		if err := d.WaitRev(ctx, stored.Rev); err != nil {
			t.Fatalf("WaitRev(%d): %v", stored.Rev, err)
		}
		if got := d.Text(); got != stored.Text {
			t.Fatalf("%s editor %d: text %q, server %q", id, i, got, stored.Text)
		}
	}
	recs, err := st.Ops(ctx, id, 0, stored.Rev)
	if err != nil {
		t.Fatal(err)
	}
	b := ot.NewBuffer("")
	for _, r := range recs {
		if err := b.Apply(r.Op); err != nil {
			t.Fatalf("replay rev %d: %v", r.Rev, err)
		}
	}
	if b.String() != stored.Text {
		t.Fatalf("%s: replay of the op log %q, stored text %q", id, b.String(), stored.Text)
	}
}

// TestConvergence: several editors on several documents make random
// concurrent edits (emoji, CJK); every editor ends with the server's text,
// which is the replay of the stored op log.
func TestConvergence(t *testing.T) {
	const editors, docs, edits = 4, 3, 40
	st := collab.NewTestStore(t)
	_, ts := startCollab(t, st)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	all := make(map[string][]*client.Doc)
	var wg sync.WaitGroup
	errs := make(chan error, editors*docs)
	for e := range editors {
		c := dialClient(t, ctx, ts.Listener.Addr().String(), fmt.Sprintf("ed-%d", e), false)
		for k := range docs {
			id := fmt.Sprintf("doc-%d", k)
			d, err := c.Join(ctx, id)
			if err != nil {
				t.Fatalf("Join: %v", err)
			}
			all[id] = append(all[id], d)
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 7))
				for range edits {
					if err := randomEdit(r, d); err != nil {
						errs <- err
						return
					}
					if r.IntN(4) == 0 {
						d.SetPresence(r.IntN(d.Len()+1), r.IntN(d.Len()+1))
					}
				}
			}(uint64(e*100 + k))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("edit: %v", err)
	}
	for id, ds := range all {
		checkConverged(t, ctx, st, id, ds)
	}
}

// proxy forwards TCP connections to a backend and can cut them all, or
// swallow what the server sends (lost acks).
type proxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	conns   []net.Conn // guarded by mu
	mute    bool       // guarded by mu: drop server → client bytes
	wg      sync.WaitGroup
}

func newProxy(t *testing.T, backend string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backend}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		b, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, b)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(b, c); b.Close() }()
		go func() { defer p.wg.Done(); p.down(c, b); c.Close() }()
	}
}

func (p *proxy) down(c, b net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := b.Read(buf)
		p.mu.Lock()
		mute := p.mute
		p.mu.Unlock()
		if n > 0 && !mute {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *proxy) setMute(m bool) {
	p.mu.Lock()
	p.mute = m
	p.mu.Unlock()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestReconnectPending: edits whose acks are lost, and edits made while
// disconnected, are all applied exactly once after the client reconnects.
func TestReconnectPending(t *testing.T) {
	st := collab.NewTestStore(t)
	_, ts := startCollab(t, st)
	p := newProxy(t, ts.Listener.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	other := dialClient(t, ctx, ts.Listener.Addr().String(), "other", false)
	od, err := other.Join(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	c := dialClient(t, ctx, p.ln.Addr().String(), "flaky", true)
	d, err := c.Join(ctx, "doc")
	if err != nil {
		t.Fatal(err)
	}
	d.Insert(0, "A")
	if err := d.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	// Acks lost: the server applies "B" but the client never hears.
	p.setMute(true)
	d.Insert(1, "B")
	if err := od.WaitRev(ctx, 2); err != nil {
		t.Fatal(err)
	}
	p.cut()
	p.setMute(false)
	// Typed while reconnecting.
	d.Insert(2, "C😀")
	od.Insert(0, "x")
	if err := d.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	checkConverged(t, ctx, st, "doc", []*client.Doc{d, od})
	if got := d.Text(); got != "xABC😀" {
		t.Fatalf("text %q, want %q (every edit exactly once)", got, "xABC😀")
	}
}

// TestOnClusterConverge runs the convergence tests again over a cluster
// store.
func TestOnClusterConverge(t *testing.T) {
	collab.RunOnCluster(t,
		collab.OnClusterTest{Name: "TestConvergence", Test: TestConvergence},
		collab.OnClusterTest{Name: "TestReconnectPending", Test: TestReconnectPending})
}
