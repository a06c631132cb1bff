package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/natstest"
)

// streamLeader returns the NATS server leading the op stream.
func streamLeader(t *testing.T, urls []string, servers []*natstest.Server) *natstest.Server {
	t.Helper()
	js, done := jetStream(t, strings.Join(urls, ","))
	defer done()
	var leader string
	waitFor(t, "a stream leader", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st, err := js.Stream(ctx, "COLLAB_OPS")
		if err != nil {
			return false
		}
		info, err := st.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		leader = info.Cluster.Leader
		return leader != ""
	})
	for i, s := range servers {
		if fmt.Sprintf("n%d", i+1) == leader {
			return s
		}
	}
	t.Fatalf("leader %q is not one of the servers", leader)
	return nil
}

// TestNATSServerKilled: with three NATS servers and the stream replicated
// three times, the server leading the stream dies in the middle of
// concurrent editing on three collabd nodes; editing goes on (a new leader
// is elected, nodes reconnect), the dead server comes back, and every edit
// is in the log once. Then everything restarts, NATS and collabd, and the
// documents are intact.
func TestNATSServerKilled(t *testing.T) {
	ns := natstest.RunCluster(t, 3)
	urls := natstest.URLs(ns)
	opts := cluster.Options{Replicas: 3}
	nodes := []*node{startNode(t, urls, opts), startNode(t, urls, opts), startNode(t, urls, opts)}
	lb := newBalancer(t, nodes[0].addr(), nodes[1].addr(), nodes[2].addr())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var docs []*client.Doc
	for e := range 6 {
		c := dial(t, ctx, lb.url(), fmt.Sprintf("ed-%d", e))
		d, err := c.Join(ctx, "doc")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	t0 := time.Now()
	leader := streamLeader(t, urls, ns)
	editAll(t, docs, 30, func() {
		waitFor(t, "editing under way", func() bool {
			doc, err := nodes[0].store.Load(ctx, "doc")
			return err == nil && doc.Rev >= 5
		})
		leader.Stop()
	})
	converged(t, ctx, nodes[0].store, "doc", docs)
	t.Log("converged", time.Since(t0))
	if streamLeader(t, urls, ns) == leader {
		t.Fatal("the stopped server still leads the stream")
	}
	leader.Start()
	editAll(t, docs, 10, nil)
	text := converged(t, ctx, nodes[1].store, "doc", docs)
	t.Log("converged again", time.Since(t0))

	// Everything restarts.
	for _, c := range docs {
		c.Leave(ctx)
	}
	for _, n := range nodes {
		n.stop()
	}
	t.Log("nodes stopped", time.Since(t0))
	for _, s := range ns {
		s.Stop()
	}
	natstest.StartAll(t, ns)
	t.Log("restarted", time.Since(t0))
	streamLeader(t, urls, ns)
	t.Log("stream leader", time.Since(t0))
	n := startNode(t, urls, opts)
	x := wsDial(t, n.addr(), "reader")
	if j := x.join("doc", nil); j.Text == nil || *j.Text != text {
		t.Fatalf("after the restart the document is %v, want %q", j.Text, text)
	}
	converged(t, ctx, n.store, "doc", nil)
}

// TestNATSDown: with NATS unreachable, a submit is answered "unavailable"
// and nothing changes; editors keep typing offline; when NATS is back
// the resubmission (same seq) is acknowledged and the buffered edits go
// through, every acknowledged op in the log once.
func TestNATSDown(t *testing.T) {
	ns, a, b := twoNodes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	x := wsDial(t, a.addr(), "cx")
	x.join("d", nil)
	x.submit("d", 0, 1, insert(0, 0, "a"))
	x.ack(1, 1)
	ed := dial(t, ctx, "ws://"+b.addr()+"/ws", "editor")
	d, err := ed.Join(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WaitRev(ctx, 1); err != nil {
		t.Fatal(err)
	}

	ns.Stop()
	x.submit("d", 1, 2, insert(1, 1, "b"))
	var e wire.Error
	x.expect(wire.TypeError, &e)
	if e.Code != wire.CodeUnavailable || e.Seq != 2 {
		t.Fatalf("submit with NATS down: %+v, want unavailable for seq 2", e)
	}
	for i := range 5 {
		if err := d.Insert(0, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}

	ns.Start()
	waitFor(t, "node a reconnected", func() bool {
		_, err := a.store.Load(ctx, "d")
		return err == nil
	})
	x.submit("d", 1, 2, insert(1, 1, "b"))
	for {
		typ, data := x.next() // the offline edits may commit first
		if typ == wire.TypeAck {
			var ack wire.Ack
			if err := json.Unmarshal(data, &ack); err != nil || ack.Seq != 2 {
				t.Fatalf("ack %s, want seq 2", data)
			}
			break
		}
		if typ == wire.TypeError {
			t.Fatalf("resubmission after NATS came back: %s", data)
		}
	}
	text := converged(t, ctx, b.store, "d", []*client.Doc{d})
	if !strings.Contains(text, "ab") || len([]rune(text)) != 7 {
		t.Fatalf("text %q, want a, b and the 5 offline edits once", text)
	}
}

// jetStream connects a JetStream client of its own to the NATS servers at
// url (comma-separated); done closes it.
func jetStream(t *testing.T, url string) (js jetstream.JetStream, done func()) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err = jetstream.New(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return js, nc.Close
}

// TestContentionR3: editors on three nodes type into one document whose
// stream is replicated on three NATS servers. JetStream refuses a commit
// while another node's message for the document is still being
// replicated, before the head shows it; such refusals are waited out,
// so no editor is told unavailable, and every edit is in the log once.
func TestContentionR3(t *testing.T) {
	ns := natstest.RunCluster(t, 3)
	urls := natstest.URLs(ns)
	opts := cluster.Options{Replicas: 3}
	nodes := []*node{startNode(t, urls, opts), startNode(t, urls, opts), startNode(t, urls, opts)}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var docs []*client.Doc
	for e := range 6 {
		c := dial(t, ctx, "ws://"+nodes[e%3].addr()+"/ws", fmt.Sprintf("ed-%d", e))
		d, err := c.Join(ctx, "doc")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	editAll(t, docs, 60, nil)
	converged(t, ctx, nodes[0].store, "doc", docs)
	var conflicts float64
	for i, n := range nodes {
		conflicts += counter(t, n.store, "collab_cluster_commit_conflicts_total")
		_, body := call(t, "GET", "http://"+n.addr()+"/metrics", "")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, `collab_errors_total{code="unavailable"}`) {
				t.Errorf("node %d told its editors unavailable: %s", i, line)
			}
		}
	}
	t.Logf("%v commits refused and retried", conflicts)
}
