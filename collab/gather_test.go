package collab

import (
	"fmt"
	"slices"
	"sync"
	"testing"
)

// sentLog records what a connection's documents send, entry by entry.
type sentLog struct {
	mu      sync.Mutex
	entries [][]string
}

func (l *sentLog) Send(data []byte) { l.SendFrames([][]byte{data}) }

func (l *sentLog) SendFrames(frames [][]byte) {
	var e []string
	for _, f := range frames {
		e = append(e, string(f))
	}
	l.mu.Lock()
	l.entries = append(l.entries, e)
	l.mu.Unlock()
}

func (l *sentLog) sent() [][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

// loggedConn is a connection whose sends are recorded, not written.
func loggedConn() (*conn, *sentLog) {
	l := new(sentLog)
	return &conn{out: l}, l
}

// TestGatherOneEntryPerCommit: the messages a commit gathers for an
// editor (its ops, an ack, a broadcast after them) take one place in the
// editor's queue, in order (the transport writes an entry in one write:
// TestWriterCoalesces in wsconn).
func TestGatherOneEntryPerCommit(t *testing.T) {
	c, log := loggedConn()
	other, otherLog := loggedConn()
	d := &document{id: "d", editors: map[*conn]*editor{c: {c: c}, other: {c: other}}}
	msg := func(i int) string { return fmt.Sprintf(`{"type":"op","rev":%d}`, i+1) }
	for i := range 3 {
		d.gather(d.editors[c], []byte(msg(i)))
	}
	if got := log.sent(); len(got) != 0 {
		t.Fatalf("%d entries sent before flushOut, want 0", len(got))
	}
	d.broadcast([]byte(msg(3)), other) // flushes what was gathered first
	want := [][]string{{msg(0), msg(1), msg(2), msg(3)}}
	if got := log.sent(); !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("sent %q, want %q: one entry for the whole commit", got, want)
	}
	if got := otherLog.sent(); len(got) != 0 {
		t.Fatalf("the skipped connection was sent %q", got)
	}
	if len(d.outq) != 0 {
		t.Fatalf("%d editors still hold gathered messages", len(d.outq))
	}

	// One message alone is sent as it is.
	d.gather(d.editors[c], []byte(msg(0)))
	d.flushOut()
	if got := log.sent(); len(got) != 2 || !slices.Equal(got[1], []string{msg(0)}) {
		t.Errorf("a single gathered message sent as %q", got[1:])
	}
}
