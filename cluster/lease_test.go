package cluster_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
)

// leader runs one node's Lead of a lease in the background.
type leader struct {
	cancel context.CancelFunc
	took   chan struct{} // a value each time fn starts
	done   chan struct{} // closed when Lead returned
}

// lead runs st.Lead(name) until the test ends or stop; running counts the
// fns running at once across leaders.
func lead(t *testing.T, st *cluster.Store, name string, running *atomic.Int32) *leader {
	ctx, cancel := context.WithCancel(context.Background())
	l := &leader{cancel: cancel, took: make(chan struct{}, 16), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		st.Lead(ctx, name, func(ctx context.Context) {
			if n := running.Add(1); n > 1 {
				t.Errorf("%d holders of lease %s at once", n, name)
			}
			l.took <- struct{}{}
			<-ctx.Done()
			running.Add(-1)
		})
	}()
	t.Cleanup(l.stop)
	return l
}

func (l *leader) stop() {
	l.cancel()
	<-l.done
}

// TestLead: of two nodes leading one lease, one holds it; when it stops,
// the other takes it. A lease whose holder died without giving it up
// (written here and never renewed) is taken once it expires.
func TestLead(t *testing.T) {
	srv := natstest.Run(t)
	urls := []string{srv.URL()}
	opts := cluster.Options{LeaseTTL: 500 * time.Millisecond}
	a, b := open(t, urls, opts), open(t, urls, opts)
	var running atomic.Int32
	la, lb := lead(t, a, "job", &running), lead(t, b, "job", &running)
	first, second := la, lb
	select {
	case <-la.took:
	case <-lb.took:
		first, second = lb, la
	case <-time.After(testWait):
		t.Fatal("nobody took the lease")
	}
	first.stop()
	select {
	case <-second.took:
	case <-time.After(testWait):
		t.Fatal("the other node did not take the lease given up")
	}
	second.stop()

	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctxT(t), "collab_leases")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctxT(t), "dead", []byte("a node that died")); err != nil {
		t.Fatal(err)
	}
	var alone atomic.Int32
	l := lead(t, a, "dead", &alone)
	select {
	case <-l.took:
	case <-time.After(testWait):
		t.Fatal("the lease of a dead holder was not taken after it expired")
	}
}
