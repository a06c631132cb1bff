package collab

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/memory"
)

// TestSilentPeerLeaves: an editor whose connection goes silent without
// closing (a half-dead TCP peer: it answers no ping) is dropped after
// PongWait, and the other editors get its editor leave.
func TestSilentPeerLeaves(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{PingPeriod: 20 * time.Millisecond, PongWait: 100 * time.Millisecond})
	bo := connect(t, ts, "bo")
	bo.join("notes", nil)
	ada := connect(t, ts, "ada") // reads nothing from now on: answers no ping
	ada.join("notes", nil)
	for {
		typ, data := bo.next() // answers the server's pings meanwhile
		if typ != wire.TypeEditor {
			continue
		}
		var e wire.Editor
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatal(err)
		}
		if e.Client == wire.PublicID("ada") && e.Event == wire.EventLeave {
			return
		}
	}
}

// TestPingDefaults: the defaults docs/protocol.md gives, short enough that
// other editors see a vanished editor leave within half a minute.
func TestPingDefaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.PingPeriod != 15*time.Second || o.PongWait != 30*time.Second {
		t.Fatalf("ping every %v, drop after %v; want 15s and 30s", o.PingPeriod, o.PongWait)
	}
}
