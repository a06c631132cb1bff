package main

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab/webhook"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/internal/webhooktest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// hookNode is one node of TestClusterWebhook: its store and its sender.
type hookNode struct {
	store *cluster.Store
	hook  *clusterWebhook
}

func startHookNode(t *testing.T, url, name string, opts webhook.Options) *hookNode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)
	st, err := cluster.Open(ctx, cluster.Options{URLs: []string{url}, Name: name, LeaseTTL: time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h, err := startClusterWebhook(st, opts, quiet)
	if err != nil {
		t.Fatal(err)
	}
	n := &hookNode{store: st, hook: h}
	t.Cleanup(n.close)
	return n
}

// close stops the node's sender (which releases the lease), then its store.
func (n *hookNode) close() {
	n.hook.Close()
	n.store.Close()
}

// appendText commits n one-letter inserts to doc after rev from.
func appendText(t *testing.T, st *cluster.Store, doc string, from uint64, n int) {
	t.Helper()
	for i := range n {
		rev := from + uint64(i) + 1
		op := new(ot.Builder).Retain(int(rev - 1)).Insert("x").Op()
		r := storage.Record{Rev: rev, Op: op, Client: "c-" + doc, Seq: rev, Author: st.Node()}
		if err := st.Append(context.Background(), doc, []storage.Record{r}); err != nil {
			t.Fatalf("append %s rev %d: %v", doc, rev, err)
		}
	}
}

// TestClusterWebhook runs two nodes sharing one NATS server, each with a
// webhook sender: the receiver gets each document's revisions exactly
// covered once per cluster, whichever node committed them, and when the
// sending node is closed while the receiver is down, the other takes the
// lease and delivers the rest from the cursors in JetStream, copies of an
// event keeping its id; then a version named and a document deleted on
// that node are announced too.
func TestClusterWebhook(t *testing.T) {
	url := natstest.Run(t).URL()
	secret := []byte("0123456789abcdef")
	rcv := webhooktest.New(t, secret)
	opts := webhook.Options{URL: rcv.URL, Secret: secret, Window: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Timeout: 5 * time.Second}
	n1 := startHookNode(t, url, "n1", opts)
	n2 := startHookNode(t, url, "n2", opts)
	awaitLeader(t, n1, n2)

	appendText(t, n1.store, "a", 0, 3)
	appendText(t, n2.store, "b", 0, 2)
	rcv.Await("a to rev 3, b to rev 2", func(s webhooktest.State) bool {
		return s.Covered("a") == 3 && s.Covered("b") == 2
	})

	rcv.SetMode(webhooktest.Down)
	appendText(t, n2.store, "a", 3, 3)
	appendText(t, n1.store, "b", 2, 2)
	rcv.Await("a refused delivery", func(s webhooktest.State) bool { return s.Refused > 0 })
	leader, other := awaitLeader(t, n1, n2)
	if p := pending(t, leader); p == 0 {
		t.Errorf("sending node: %v events pending, want some", p)
	}
	if p := pending(t, other); p != 0 {
		t.Errorf("node without the lease: %v events pending, want 0", p)
	}
	leader.close() // mid-delivery: its events are committed and undelivered
	awaitLeader(t, other)
	rcv.SetMode(webhooktest.Up)
	appendText(t, other.store, "a", 6, 1)
	s := rcv.Await("a to rev 7, b to rev 4", func(s webhooktest.State) bool {
		return s.Covered("a") == 7 && s.Covered("b") == 4
	})
	for _, e := range s.Events {
		if e.Type != webhook.TypeChanged {
			t.Errorf("unexpected event %+v", e)
		}
	}

	// Named versions and deletions, which reach the sender by other paths.
	n := len(s.Events)
	ctx := context.Background()
	if err := other.store.PutVersion(ctx, "b", storage.Version{Rev: 4, Name: "v1", Created: time.Now(), Author: "ada"}); err != nil {
		t.Fatal(err)
	}
	if err := other.store.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	s = rcv.Await("version.created of b, doc.deleted of a", func(s webhooktest.State) bool { return len(s.Events) >= n+2 })
	got := map[string]string{}
	for _, e := range s.Events[n:] {
		got[e.Doc] = e.Type
	}
	if got["a"] != webhook.TypeDeleted || got["b"] != webhook.TypeVersionCreated || len(s.Events) != n+2 {
		t.Errorf("events after the last doc.changed: %+v", s.Events[n:])
	}
}

// awaitLeader waits until one of the nodes sends the webhooks and no
// other does, and returns it and another.
func awaitLeader(t *testing.T, nodes ...*hookNode) (leader, other *hookNode) {
	t.Helper()
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(time.After(30 * time.Second))}}
	for _, n := range nodes {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(n.hook.moved)})
	}
	for {
		var leaders []*hookNode
		for _, n := range nodes {
			if n.hook.leading() {
				leaders = append(leaders, n)
			} else {
				other = n
			}
		}
		if len(leaders) == 1 {
			return leaders[0], other
		}
		if len(leaders) > 1 {
			t.Fatalf("%d nodes send the webhooks at once", len(leaders))
		}
		if i, _, _ := reflect.Select(cases); i == 0 {
			t.Fatal("no node took the webhook lease")
		}
	}
}

// pending is the node's collab_webhook_events_pending.
func pending(t *testing.T, n *hookNode) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(n.hook.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "collab_webhook_events_pending" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no collab_webhook_events_pending")
	return 0
}
