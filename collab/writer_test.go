package collab

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/memory"
)

// TestIdleConnectionsHaveNoWriter: an idle connection's only goroutine is
// its reader; the writer runs while there is something to write.
func TestIdleConnectionsHaveNoWriter(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{})
	base := goroutines()
	const n = 20
	for i := range n {
		c := connect(t, ts, fmt.Sprintf("idle-%d", i))
		c.join("crowd", nil)
	}
	want := base + n + 1 // a reader each, and the document's owner
	waitFor(t, fmt.Sprintf("%d goroutines (a reader per connection)", want), func() bool {
		return goroutines() <= want
	})
}

// TestPingsReachIdleConnection: with no writer running, pings still go out
// every PingPeriod.
func TestPingsReachIdleConnection(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{PingPeriod: 5 * time.Millisecond})
	c := connect(t, ts, "pinged")
	pings := make(chan struct{}, 100)
	c.ws.SetPingHandler(func(string) error {
		pings <- struct{}{}
		return nil
	})
	go func() {
		c.ws.SetReadDeadline(time.Now().Add(testWait))
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := range 3 {
		select {
		case <-pings:
		case <-time.After(testWait):
			t.Fatalf("ping %d did not come", i+1)
		}
	}
}

// TestPipelinedMessages: messages that arrive in one segment are all
// served (the reader only waits for the socket when gorilla's buffer is
// empty).
func TestPipelinedMessages(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	ws := dialByHand(t, ts)
	var burst []byte
	for _, m := range []any{
		wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "piped"},
		wire.Join{Type: wire.TypeJoin, Doc: "piped"},
		wire.Submit{Type: wire.TypeSubmit, Doc: "piped", Rev: 0, Seq: 1, Op: insertAt(0, 0, "hi")},
	} {
		data, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		burst = append(burst, maskedText(data)...)
	}
	if _, err := ws.nc.Write(burst); err != nil {
		t.Fatal(err)
	}
	ws.readUntil(`"type":"ack"`)
	for _, typ := range []string{"welcome", "joined"} {
		if !bytes.Contains(ws.got, []byte(`"type":"`+typ+`"`)) {
			t.Errorf("no %s before the ack: %q", typ, ws.got)
		}
	}
}

// TestJoinedDocs: a connection's documents are found by id, and removing
// one keeps the others.
func TestJoinedDocs(t *testing.T) {
	var js joinedDocs
	for _, id := range []string{"a", "b", "c"} {
		js.set(joinedDoc{d: &document{id: id}, readOnly: id == "b"})
	}
	js.remove("a")
	js.remove("zzz")
	if got := js.get("a").d; got != nil {
		t.Errorf("get(a) after remove = %v, want nil", got.id)
	}
	if j := js.get("b"); j.d == nil || j.d.id != "b" || !j.readOnly {
		t.Errorf("get(b) = %+v, want b, read-only", j)
	}
	if j := js.get("c"); j.d == nil || j.d.id != "c" || j.readOnly {
		t.Errorf("get(c) = %+v, want c, writable", j)
	}
	if len(js) != 2 {
		t.Errorf("%d documents left, want 2", len(js))
	}
}
