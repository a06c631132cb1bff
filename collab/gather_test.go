package collab

import (
	"fmt"
	"testing"
	"time"
)

// TestGatherOneEntryPerCommit: the messages a commit gathers for an
// editor (its ops, an ack, a broadcast after them) take one place in the
// editor's queue, in order, and go out in one write.
func TestGatherOneEntryPerCommit(t *testing.T) {
	c, cc, client := writerPair(t)
	other, _, _ := writerPair(t)
	d := &document{id: "d", editors: map[*conn]*editor{c: {c: c}, other: {c: other}}}
	msg := func(i int) string { return fmt.Sprintf(`{"type":"op","rev":%d}`, i+1) }
	for i := range 3 {
		d.gather(d.editors[c], []byte(msg(i)))
	}
	if got := queued(c); got != 0 {
		t.Fatalf("%d entries queued before flushOut, want 0", got)
	}
	d.broadcast([]byte(msg(3)), other) // flushes what was gathered first
	if got := queued(c); got != 1 {
		t.Fatalf("%d entries queued, want 1 for the whole commit", got)
	}
	if got := queued(other); got != 0 {
		t.Fatalf("the skipped connection has %d entries queued", got)
	}
	if len(d.outq) != 0 {
		t.Fatalf("%d editors still hold gathered messages", len(d.outq))
	}
	before := cc.count()
	if err := writeQueued(c, time.Now().Add(testWait)); err != nil {
		t.Fatal(err)
	}
	readAll(t, client, 4, msg)
	if w := cc.count() - before; w != 1 {
		t.Errorf("4 messages took %d writes, want 1", w)
	}

	// One message alone is queued as it is.
	d.gather(d.editors[c], []byte(msg(0)))
	d.flushOut()
	c.qmu.Lock()
	m := c.queue[0]
	c.qmu.Unlock()
	if string(m.data) != msg(0) || m.frames != nil {
		t.Errorf("a single gathered message queued as %+v", m)
	}
}

func queued(c *conn) int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.queue)
}
