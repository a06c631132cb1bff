package cluster_test

import (
	"errors"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// TestWatchRevocationsAfterOutage: a node's watch hears the revocations
// other nodes put after NATS was killed and came back, as before.
func TestWatchRevocationsAfterOutage(t *testing.T) {
	ns := natstest.RunProcess(t)
	a := open(t, []string{ns.URL()}, cluster.Options{Timeout: 500 * time.Millisecond})
	b := open(t, []string{ns.URL()}, cluster.Options{Timeout: 500 * time.Millisecond})
	ctx := ctxT(t)
	heard := make(chan storage.Revocation, 16)
	if err := b.WatchRevocations(ctx, func(r storage.Revocation) { heard <- r }); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour).Unix()
	hear := func(id string) {
		t.Helper()
		for {
			select {
			case r := <-heard:
				if r.ID == id {
					return
				}
			case <-ctx.Done():
				t.Fatalf("node b did not hear revocation %s", id)
			}
		}
	}
	put := func(id string) error {
		err := a.PutRevocation(ctx, storage.Revocation{ID: id, At: time.Now().Unix(), Until: until})
		if err != nil && !errors.Is(err, storage.ErrUnavailable) {
			t.Fatalf("PutRevocation %s: %v", id, err)
		}
		return err
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}
	hear("before")
	ns.Kill()
	ns.Start()
	waitFor(t, "a revocation put after NATS is back", func() bool { return put("after") == nil })
	hear("after")
}
