package cluster_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// wsClient is a raw protocol client (internal/rawclient) under the names
// this package's tests use.
type wsClient struct {
	*rawclient.T
	t  *testing.T
	ws *websocket.Conn
	id string
}

func wsDial(t *testing.T, addr, id string) *wsClient {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: testWait}
	ws, _, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	rc := rawclient.NewT(t, &rawclient.Conn{WS: ws, Wait: testWait}, id)
	return &wsClient{T: rc, t: t, ws: ws, id: id}
}

func (c *wsClient) send(v any)                               { c.t.Helper(); c.Send(v) }
func (c *wsClient) next() (string, []byte)                   { c.t.Helper(); return c.Next() }
func (c *wsClient) expect(typ string, v any)                 { c.t.Helper(); c.Expect(typ, v) }
func (c *wsClient) expectError(code string)                  { c.t.Helper(); c.ExpectError(code) }
func (c *wsClient) join(doc string, rev *uint64) wire.Joined { c.t.Helper(); return c.Join(doc, rev) }
func (c *wsClient) submit(doc string, rev, seq uint64, op ot.Op) {
	c.t.Helper()
	c.Submit(doc, rev, seq, op)
}

// ack reads until the ack of seq, which must be at revision rev.
func (c *wsClient) ack(seq, rev uint64) {
	c.t.Helper()
	if a := c.Ack(seq); a.Rev != rev {
		c.t.Fatalf("%s: ack seq %d rev %d, want rev %d", c.id, a.Seq, a.Rev, rev)
	}
}

func insert(n, pos int, s string) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Insert(s).Retain(n - pos).Op()
}

func ptr[T any](v T) *T { return &v }

// TestResubmitToAnotherNode: a client whose ack was lost with its node
// resumes on another node: the joined ops hold its op (the lost ack), and
// resubmitting the same seq is acknowledged with the same revision, not
// applied again.
func TestResubmitToAnotherNode(t *testing.T) {
	_, a, b := twoNodes(t)
	x := wsDial(t, a.addr(), "cx")
	x.join("d", nil)
	op := insert(0, 0, "héllo 👋")
	x.submit("d", 0, 1, op)
	x.ack(1, 1)
	a.kill()

	x = wsDial(t, b.addr(), "cx")
	j := x.join("d", ptr(uint64(0)))
	if j.Rev != 1 || j.Seq != 1 || len(j.Ops) != 1 || j.Ops[0].Client != wire.PublicID("cx") || j.Ops[0].Seq != 1 {
		t.Fatalf("joined on the other node = %+v, want rev 1 seq 1 with cx's op", j)
	}
	x.submit("d", 0, 1, op)
	x.ack(1, 1)
	doc, err := b.store.Load(ctxT(t), "d")
	if err != nil || doc.Rev != 1 || doc.Text != "héllo 👋" {
		t.Fatalf("stored %q rev %d, %v; want the op once", doc.Text, doc.Rev, err)
	}
}

// setup is a way to run collab: one server on a memory.Store, or nodes on
// cluster Stores. start returns the address of the node that writes and
// of the node that reads (the same, or two nodes).
type setup struct {
	name  string
	start func(t *testing.T) (write, read string)
}

func setups() []setup {
	return []setup{
		{name: "memstore", start: func(t *testing.T) (string, string) {
			srv := collab.NewServer(memory.New(), collab.Options{Logger: quietLogger()})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			addr := ts.Listener.Addr().String()
			return addr, addr
		}},
		{name: "one node", start: func(t *testing.T) (string, string) {
			n := startNode(t, []string{natstest.Run(t).URL()}, cluster.Options{})
			return n.addr(), n.addr()
		}},
		{name: "two nodes", start: func(t *testing.T) (string, string) {
			urls := []string{natstest.Run(t).URL()}
			return startNode(t, urls, cluster.Options{}).addr(), startNode(t, urls, cluster.Options{}).addr()
		}},
	}
}

func call(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

// TestSameBehaviour runs one script of WebSocket and HTTP requests against
// a single server on a memory.Store, one cluster node, and two nodes (writes
// through one, reads through the other): the answers are the same.
func TestSameBehaviour(t *testing.T) {
	for _, s := range setups() {
		t.Run(s.name, func(t *testing.T) {
			w, r := s.start(t)
			api := func(addr, path string) string { return "http://" + addr + "/api/docs" + path }
			steps := []struct {
				method, url, body string
				status            int
				want              string // substring of the body
			}{
				{"GET", api(r, "/d.1"), "", 404, `"code":"not_found"`},
				{"PUT", api(w, "/d.1"), "héllo", 200, `"rev":1`},
				{"GET", api(r, "/d.1"), "", 200, `"text":"héllo"`},
				{"PUT", api(w, "/d.1?base=1"), "héllo 👋", 200, `"rev":2`},
				{"PUT", api(w, "/d.1?base=1"), "hé", 200, `"rev":3`}, // transformed over rev 2
				{"GET", api(r, "/d.1"), "", 200, `"text":"hé 👋"`},
				{"GET", api(r, "/d.1/text?rev=1"), "", 200, `"text":"héllo"`},
				{"GET", api(r, "/d.1/text?rev=9"), "", 409, `"code":"future_rev"`},
				{"GET", api(r, "/d.1/ops?from=1&to=2"), "", 200, `"op":[5," 👋"]`},
				{"PUT", api(w, "/d.1?base=7"), "x", 409, `"code":"future_rev"`},
				{"GET", api(r, ""), "", 200, `"id":"d.1","rev":3,"length":4`},
				{"DELETE", api(w, "/d.1"), "", 204, ""},
				{"GET", api(r, "/d.1"), "", 404, `"code":"not_found"`},
				{"DELETE", api(r, "/d.1"), "", 404, `"code":"not_found"`},
				{"PUT", api(r, "/d.1"), "again", 200, `"rev":1`},
				{"GET", api(w, "/d.1/ops"), "", 200, `"op":["again"]`},
			}
			for i, st := range steps {
				status, body := call(t, st.method, st.url, st.body)
				if status != st.status || !strings.Contains(body, st.want) {
					t.Fatalf("step %d: %s %s: %d %s, want %d with %s", i, st.method, st.url, status, body, st.status, st.want)
				}
			}

			a, b := wsDial(t, w, "ca"), wsDial(t, r, "cb")
			a.join("ws", nil)
			b.join("ws", nil)
			a.submit("ws", 0, 1, insert(0, 0, "ab"))
			a.ack(1, 1)
			var op wire.Op
			b.expect(wire.TypeOp, &op)
			if op.Rev != 1 || op.Client != wire.PublicID("ca") || op.Name != "name-ca" {
				t.Fatalf("b got %+v", op)
			}
			a.submit("ws", 0, 1, insert(0, 0, "ab")) // a duplicate
			a.ack(1, 1)
			a.submit("ws", 5, 2, insert(2, 0, "x"))
			a.expectError(wire.CodeFutureRev)
			a.submit("ws", 1, 2, insert(5, 0, "x"))
			a.expectError(wire.CodeInvalidOp)
			b.submit("ws", 0, 1, insert(0, 0, "Z")) // concurrent with a's rev 1
			b.ack(1, 2)
			a.expect(wire.TypeOp, &op)
			if op.Rev != 2 || op.Op.String() != `[2,"Z"]` {
				t.Fatalf("a got %+v, want rev 2 [2,\"Z\"] (the earlier commit wins the tie)", op)
			}
			if _, body := call(t, "GET", api(r, "/ws"), ""); !strings.Contains(body, `"text":"abZ"`) {
				t.Fatalf("GET after the WebSocket edits: %s", body)
			}
		})
	}
}

// TestMetrics: a node's /metrics serves the cluster figures next to the
// server's: commits refused because another node committed first (each
// retried), consumer lag, followed documents.
func TestMetrics(t *testing.T) {
	_, a, b := twoNodes(t)
	ctx := ctxT(t)
	mustAppend(t, a.store, "m", rec(1, 0, 0, "a", "ca", 1))
	if err := b.store.Append(ctx, "m", []storage.Record{rec(1, 0, 0, "b", "cb", 1)}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("Append: %v, want ErrConflict", err)
	}
	x := wsDial(t, b.addr(), "cx")
	x.join("m", nil)
	_, body := call(t, "GET", "http://"+b.addr()+"/metrics", "")
	for _, want := range []string{
		"collab_cluster_commit_conflicts_total 1",
		"collab_cluster_consumer_lag ",
		"collab_cluster_followed_documents 1",
		"collab_cluster_nats_connected 1",
		"collab_connections 1", // the server's own figures are still there
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
