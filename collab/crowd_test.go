package collab

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// TestJoinCrowdedDocument: a newcomer to a document with more editors than
// its outbound queue holds gets the joined message, every editor present
// and their carets, and can edit: the welcome is not taken for a backlog.
func TestJoinCrowdedDocument(t *testing.T) {
	const present = 12 // each brings an arrival and a caret: 6× the queue
	_, ts := startServer(t, newTestStore(t), Options{QueueLen: 4})
	var crowd []*tclient
	for i := range present {
		c := connect(t, ts, fmt.Sprintf("e%d", i))
		c.join("crowd", nil)
		c.send(wire.Presence{Type: wire.TypePresence, Doc: "crowd", Rev: 0, Anchor: 0, Head: 0})
		crowd = append(crowd, c)
		// Those present read the arrival and the caret before the next
		// editor comes, as browsers would: a burst of arrivals larger than
		// their own small queues would have them cut as too slow.
		for _, p := range crowd[:i] {
			for {
				typ, data := p.next()
				if typ != wire.TypePresence {
					continue
				}
				var pr wire.Presence
				decodeInto(t, data, &pr)
				if pr.Name == "name-"+c.id {
					break
				}
			}
		}
	}
	n := connect(t, ts, "newcomer")
	n.send(wire.Join{Type: wire.TypeJoin, Doc: "crowd"})
	if typ, data := n.next(); typ != wire.TypeJoined {
		t.Fatalf("first message %s, want joined", data)
	}
	editors, carets := map[string]bool{}, 0
	for len(editors) < present || carets < present {
		typ, data := n.next()
		switch typ {
		case wire.TypeEditor:
			var e wire.Editor
			decodeInto(t, data, &e)
			editors[e.Client] = true
		case wire.TypePresence:
			carets++
		default:
			t.Fatalf("got %s before every editor and caret", data)
		}
	}
	n.submit("crowd", 0, 1, insertAt(0, 0, "hi"))
	if a := n.ack(1); a.Rev != 1 {
		t.Errorf("ack rev %d, want 1", a.Rev)
	}
}

func decodeInto(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
}
