package collab

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// TestMaxLoadedChurn: joining and leaving many documents never holds more
// than MaxLoaded in memory, however long the unload grace period: each new
// one unloads the one idle longest, whose text is intact when it loads
// again.
func TestMaxLoadedChurn(t *testing.T) {
	const max, docs = 3, 40
	srv, ts := startServer(t, newTestStore(t), Options{MaxLoaded: max, Grace: time.Hour, Rate: 1e6, Burst: 1e6})
	c := connect(t, ts, "churn")
	for i := 0; i < docs; i++ {
		id := fmt.Sprintf("doc-%d", i)
		c.join(id, nil)
		if n := srv.Loaded(); n > max {
			t.Fatalf("%d documents loaded after %d joins, cap %d", n, i+1, max)
		}
		c.submit(id, 0, 1, insertAt(0, 0, "x"))
		c.ack(1)
		c.send(wire.Leave{Type: wire.TypeLeave, Doc: id})
	}
	if j := c.join("doc-0", nil); j.Rev != 1 || *j.Text != "x" {
		t.Fatalf("doc-0 after its eviction: %+v", j)
	}
	if got := testutilCounter(t, srv, "collab_evictions_total"); got != docs+1-max {
		t.Fatalf("collab_evictions_total = %v, want %d", got, docs+1-max)
	}
}

// TestMaxLoadedBusy: when every loaded document has editors, a join of
// another is refused with too_many_loaded (HTTP 503) and counted; the
// editors carry on, and once one leaves the join succeeds.
func TestMaxLoadedBusy(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{MaxLoaded: 1, Grace: time.Hour})
	a := connect(t, ts, "a")
	a.join("d", nil)
	b := connect(t, ts, "b")
	b.send(wire.Join{Type: wire.TypeJoin, Doc: "e"})
	b.expectError(wire.CodeTooManyLoaded)
	if code, body := apiCall(t, "PUT", ts.URL+"/api/docs/e", "", "text"); code != http.StatusServiceUnavailable || body.Code != wire.CodeTooManyLoaded {
		t.Fatalf("PUT of another document: %d %+v, want 503 %s", code, body, wire.CodeTooManyLoaded)
	}
	if got := limitHits(t, srv, limitLoaded); got != 2 {
		t.Fatalf("collab_limit_hits_total{limit=loaded} = %v, want 2", got)
	}
	a.submit("d", 0, 1, insertAt(0, 0, "x"))
	a.ack(1)
	a.send(wire.Leave{Type: wire.TypeLeave, Doc: "d"})
	a.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "a"})
	a.expect(wire.TypeWelcome, nil) // the leave was read, d released
	b.join("e", nil)
	if n := srv.Loaded(); n != 1 {
		t.Fatalf("%d documents loaded, want 1", n)
	}
}
