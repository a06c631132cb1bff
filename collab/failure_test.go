package collab

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// flakyStore fails Append while fail is set.
type flakyStore struct {
	storage.Store
	fail atomic.Bool
}

func (f *flakyStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.Store.Append(ctx, id, recs)
}

// TestCommitFailure: an op whose commit fails is refused (unavailable),
// neither acknowledged nor broadcast; memory does not run ahead of disk and
// the same submit succeeds once the store recovers.
func TestCommitFailure(t *testing.T) {
	st := &flakyStore{Store: memory.New()}
	_, ts := startServer(t, st, Options{})
	a := connect(t, ts, "a")
	a.join("doc", nil)
	b := connect(t, ts, "b")
	b.join("doc", nil)
	a.submit("doc", 0, 1, insertAt(0, 0, "one "))
	a.ack(1)
	b.expect(wire.TypeOp, nil)

	st.fail.Store(true)
	a.submit("doc", 1, 2, insertAt(4, 4, "two "))
	if e := a.expectError(wire.CodeUnavailable); e.Seq != 2 || e.Doc != "doc" {
		t.Fatalf("error = %+v, want seq 2 on doc", e)
	}
	if text, rev := storeText(t, st, "doc"); text != "one " || rev != 1 {
		t.Fatalf("stored %q@%d", text, rev)
	}
	st.fail.Store(false)
	a.submit("doc", 1, 2, insertAt(4, 4, "two "))
	if ack := a.ack(2); ack.Rev != 2 {
		t.Fatalf("ack rev %d, want 2: the failed op must not have taken revision 2", ack.Rev)
	}
	var op wire.Op
	b.expect(wire.TypeOp, &op)
	if op.Rev != 2 || op.Seq != 2 {
		t.Fatalf("b got %+v, want only the committed op", op)
	}
	if text, _ := storeText(t, st, "doc"); text != "one two " {
		t.Fatalf("stored %q", text)
	}
}

// gatedStore holds each Append until the test lets it through.
type gatedStore struct {
	storage.Store
	entered chan int           // number of records of each Append that started
	release chan chan struct{} // the test sends a channel, closed when the Append returns
}

func (g *gatedStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	select {
	case g.entered <- len(recs):
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case done := <-g.release:
		defer close(done)
		return g.Store.Append(ctx, id, recs)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestPipelinedCommits: while one Append is in flight the owner sequences
// further ops and commits them as the next batch; nothing is acknowledged or
// broadcast before its commit, and everything comes in revision order. The
// order of messages shows it: a presence relayed after a step is a marker.
func TestPipelinedCommits(t *testing.T) {
	st := &gatedStore{Store: memory.New(), entered: make(chan int), release: make(chan chan struct{})}
	_, ts := startServer(t, st, Options{})
	a, b, c := connect(t, ts, "a"), connect(t, ts, "b"), connect(t, ts, "c")
	for _, x := range []*tclient{a, b, c} {
		x.join("doc", nil)
	}
	commit := func() {
		done := make(chan struct{})
		st.release <- done
		<-done
	}
	next := func(x *tclient) (string, []byte) { // skips editor events
		for {
			if typ, data := x.next(); typ != wire.TypeEditor {
				return typ, data
			}
		}
	}
	want := func(x *tclient, typ, contains string) {
		t.Helper()
		got, data := next(x)
		if got != typ || !strings.Contains(string(data), contains) {
			t.Fatalf("%s got %s, want %s with %s", x.id, data, typ, contains)
		}
	}

	a.submit("doc", 0, 1, insertAt(0, 0, "A"))
	if n := <-st.entered; n != 1 {
		t.Fatalf("first batch of %d", n)
	}
	b.submit("doc", 0, 1, insertAt(0, 0, "B"))
	b.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Rev: 0, Anchor: 0, Head: 0})
	want(c, wire.TypePresence, `"client":"`+wire.PublicID("b")+`"`) // B is sequenced, nothing sent
	c.submit("doc", 0, 1, insertAt(0, 0, "C"))
	c.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Rev: 0, Anchor: 0, Head: 0})
	want(b, wire.TypePresence, `"client":"`+wire.PublicID("c")+`"`) // C too

	commit() // A is on disk; B and C go to the store as the next batch
	if n := <-st.entered; n != 2 {
		t.Fatalf("second batch of %d, want the 2 ops sequenced meanwhile", n)
	}
	a.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Rev: 1, Anchor: 1, Head: 1})
	want(b, wire.TypeOp, `"rev":1`)
	want(b, wire.TypePresence, `"client":"`+wire.PublicID("a")+`"`) // no ack for B before its commit
	want(a, wire.TypePresence, `"client":"`+wire.PublicID("b")+`"`)
	want(a, wire.TypePresence, `"client":"`+wire.PublicID("c")+`"`)
	want(a, wire.TypeAck, `"rev":1`)

	commit()
	want(b, wire.TypeAck, `"rev":2`)
	want(b, wire.TypeOp, `"rev":3`)
	want(c, wire.TypeOp, `"rev":1`)
	want(c, wire.TypePresence, `"client":"`+wire.PublicID("a")+`"`)
	want(c, wire.TypeOp, `"rev":2`)
	want(c, wire.TypeAck, `"rev":3`)
	if text, rev := storeText(t, st, "doc"); text != "ABC" || rev != 3 {
		t.Fatalf("stored %q@%d, want ABC@3 (earlier commits first at a tie)", text, rev)
	}
}

// slowLoadStore holds every Load until loaded is closed.
type slowLoadStore struct {
	storage.Store
	loading chan struct{} // receives once per Load call
	loaded  chan struct{}
}

func (s *slowLoadStore) Load(ctx context.Context, id string) (storage.Doc, error) {
	s.loading <- struct{}{}
	<-s.loaded
	return s.Store.Load(ctx, id)
}

// TestLoadBeforeServe: editors joining while a document loads wait for it
// and get its stored text, never an empty document; it is loaded once.
func TestLoadBeforeServe(t *testing.T) {
	mem := memory.New()
	if err := mem.Append(context.Background(), "doc", []storage.Record{{Rev: 1, Op: insertAt(0, 0, "stored")}}); err != nil {
		t.Fatal(err)
	}
	st := &slowLoadStore{Store: mem, loading: make(chan struct{}, 4), loaded: make(chan struct{})}
	_, ts := startServer(t, st, Options{})
	a, b := connect(t, ts, "a"), connect(t, ts, "b")
	a.send(wire.Join{Type: wire.TypeJoin, Doc: "doc"})
	<-st.loading
	b.send(wire.Join{Type: wire.TypeJoin, Doc: "doc"})
	close(st.loaded)
	for _, c := range []*tclient{a, b} {
		var j wire.Joined
		c.expect(wire.TypeJoined, &j)
		if j.Rev != 1 || j.Text == nil || *j.Text != "stored" {
			t.Fatalf("%s joined %+v, want the stored text", c.id, j)
		}
	}
	if n := len(st.loading); n != 0 {
		t.Fatalf("%d extra loads", n)
	}
}
