package client

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/gorilla/websocket"
)

func checkSubmit(t *testing.T, got wire.Submit, seq, rev uint64, op string) {
	t.Helper()
	if got.Seq != seq || got.Rev != rev || got.Op.String() != op {
		t.Fatalf("submit seq %d rev %d op %v, want seq %d rev %d op %s", got.Seq, got.Rev, got.Op, seq, rev, op)
	}
}

func checkText(t *testing.T, d *Doc, want string) {
	t.Helper()
	if got := d.Text(); got != want {
		t.Fatalf("Text() = %q, want %q", got, want)
	}
}

func checkPending(t *testing.T, d *Doc, want int) {
	t.Helper()
	if got := d.Pending(); got != want {
		t.Fatalf("Pending() = %d, want %d", got, want)
	}
}

func waitRev(t *testing.T, d *Doc, rev uint64) {
	t.Helper()
	if err := d.WaitRev(testCtx(t), rev); err != nil {
		t.Fatalf("WaitRev(%d): %v", rev, err)
	}
}

func waitSynced(t *testing.T, d *Doc) {
	t.Helper()
	if err := d.WaitSynced(testCtx(t)); err != nil {
		t.Fatalf("WaitSynced: %v", err)
	}
}

// nextEvent returns the next event of kind k, skipping others.
func nextEvent(t *testing.T, d *Doc, k EventKind) Event {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case e, ok := <-d.Events():
			if !ok {
				t.Fatalf("events closed waiting for %v", k)
			}
			if e.Kind == k {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event", k)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestThreeStates(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 5)
	checkPending(t, d, 0)

	must(t, d.Insert(3, "d")) // synchronised → awaiting ack
	checkPending(t, d, 1)
	checkSubmit(t, fc.expectSubmit(), 1, 5, `[3,"d"]`)

	must(t, d.Insert(4, "e")) // awaiting ack → awaiting ack with buffer
	must(t, d.Insert(0, "X")) // composed into the buffer
	checkPending(t, d, 2)
	checkText(t, d, "Xabcde")

	fc.ack("doc", 1, 6) // the buffer goes out as one op, seq 2
	checkSubmit(t, fc.expectSubmit(), 2, 6, `["X",4,"e"]`)
	checkPending(t, d, 1)
	fc.ack("doc", 2, 7)
	waitSynced(t, d)
	if d.Rev() != 7 {
		t.Fatalf("Rev() = %d, want 7", d.Rev())
	}
	checkText(t, d, "Xabcde")
}

func TestRemoteOpTransformedAgainstPending(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 1)

	must(t, d.Insert(0, "X"))
	checkSubmit(t, fc.expectSubmit(), 1, 1, `["X",3]`)
	must(t, d.Insert(4, "Y")) // buffer, at the end: XabcY

	// Bob inserts in the middle and at the end, where our buffer inserts:
	// his op was sequenced first, so his text goes first.
	fc.op("doc", 2, parseOp(t, `[1,"Z",2,"!"]`), "bob", 9)
	waitRev(t, d, 2)
	checkText(t, d, "XaZbc!Y")
	if e := nextEvent(t, d, EventOp); e.Client != "bob" || e.Rev != 2 || e.Op.String() != `[2,"Z",2,"!",1]` {
		t.Fatalf("op event %+v, want bob's op as applied locally", e)
	}

	fc.ack("doc", 1, 3)
	checkSubmit(t, fc.expectSubmit(), 2, 3, `[6,"Y"]`)
	fc.ack("doc", 2, 4)
	waitSynced(t, d)
	checkText(t, d, "XaZbc!Y")
}

func TestLostAckRecoveredFromJoinedOps(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)

	must(t, d.Insert(3, "d"))
	checkSubmit(t, fc.expectSubmit(), 1, 1, `[3,"d"]`)
	fc.drop() // committed, but the ack is lost

	fc2 := fs.accept()
	if fc2.hello.Client != "me" {
		t.Fatalf("reconnected as %q, want the same client id", fc2.hello.Client)
	}
	j := fc2.expectJoin()
	if j.Rev == nil || *j.Rev != 1 {
		t.Fatalf("rejoin rev = %v, want 1", j.Rev)
	}
	fc2.joinedOps("doc", 3, 1,
		wire.Record{Rev: 2, Op: parseOp(t, `[3,"d"]`), Client: wire.PublicID("me"), Seq: 1},
		wire.Record{Rev: 3, Op: parseOp(t, `["Q",4]`), Client: "bob", Seq: 4})
	waitSynced(t, d)
	checkText(t, d, "Qabcd")
	if d.Rev() != 3 {
		t.Fatalf("Rev() = %d, want 3", d.Rev())
	}
	// Seq 1 is not resubmitted: the next submit is seq 2.
	must(t, d.Insert(0, ">"))
	checkSubmit(t, fc2.expectSubmit(), 2, 3, `[">",5]`)
}

func TestResubmitSameSeq(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)

	must(t, d.Insert(3, "d"))
	sent := fc.expectSubmit()
	checkSubmit(t, sent, 1, 1, `[3,"d"]`)
	must(t, d.Insert(0, "<")) // buffered
	fc.closeWith(1001, "shutting down")

	must(t, d.Insert(0, "[")) // offline edits are kept too
	fc2 := fs.accept()
	fc2.expectJoin()
	// Not committed; meanwhile bob inserted at the front.
	fc2.joinedOps("doc", 2, 0, wire.Record{Rev: 2, Op: parseOp(t, `["Z",3]`), Client: "bob", Seq: 1})
	checkSubmit(t, fc2.expectSubmit(), 1, 2, `[4,"d"]`) // same seq, rebased
	fc2.ack("doc", 1, 3)
	// Bob's insert was sequenced first: it goes first at the tie.
	checkSubmit(t, fc2.expectSubmit(), 2, 3, `[1,"[<",4]`)
	fc2.ack("doc", 1, 3) // a duplicate ack (of a resubmission) changes nothing
	fc2.ack("doc", 2, 4)
	waitSynced(t, d)
	checkText(t, d, "Z[<abcd")
	if d.Rev() != 4 {
		t.Fatalf("Rev() = %d, want 4", d.Rev())
	}
}

func TestAckOfOldConnectionAfterResume(t *testing.T) {
	// The server was still committing seq 1 when we rejoined: joined does
	// not have it, its commit acks us on the new connection, and our
	// resubmission is acked again as a duplicate.
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(3, "d"))
	fc.expectSubmit()
	fc.drop()

	fc2 := fs.accept()
	fc2.expectJoin()
	fc2.joinedOps("doc", 1, 0)
	checkSubmit(t, fc2.expectSubmit(), 1, 1, `[3,"d"]`)
	fc2.ack("doc", 1, 2) // the old connection's commit
	must(t, d.Insert(4, "e"))
	checkSubmit(t, fc2.expectSubmit(), 2, 2, `[4,"e"]`)
	fc2.ack("doc", 1, 2) // the duplicate's ack
	fc2.ack("doc", 2, 3)
	waitSynced(t, d)
	checkText(t, d, "abcde")
}

func TestResetRebasesPending(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64 // last seq the server has
		text string // the server's text
		want []wire.Submit
	}{
		{"in-flight applied", 1, "abc DEF ghi", []wire.Submit{{Seq: 2, Rev: 10, Op: mustParse(`[3,"_",8]`)}}},
		{"in-flight lost", 0, "abc DEF", []wire.Submit{
			{Seq: 1, Rev: 10, Op: mustParse(`[7," ghi"]`)},
			{Seq: 2, Rev: 11, Op: mustParse(`[3,"_",8]`)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFakeServer(t)
			c, fc := dial(t, fs, Options{Reconnect: true})
			d := join(t, c, fc, "doc", "abc def", 3)
			must(t, d.Insert(7, " ghi"))
			checkSubmit(t, fc.expectSubmit(), 1, 3, `[7," ghi"]`)
			must(t, d.Insert(3, "_"))
			fc.drop()

			fc2 := fs.accept()
			fc2.expectJoin()
			fc2.joinedText("doc", tt.text, 10, tt.seq, true)
			for i, w := range tt.want {
				checkSubmit(t, fc2.expectSubmit(), w.Seq, w.Rev, w.Op.String())
				checkText(t, d, "abc_ DEF ghi")
				fc2.ack("doc", w.Seq, w.Rev+1)
				if i == 0 && tt.seq == 0 {
					// Sent before the reset and rebased by it: the client
					// confirms it from the text after its ack.
					fc2.expect(wire.TypeLeave, &wire.Leave{})
					if j := fc2.expectJoin(); j.Rev != nil {
						t.Fatalf("confirming join at rev %d, want one for the text", *j.Rev)
					}
					fc2.joinedText("doc", "abc DEF ghi", 11, 1, false)
				}
			}
			if e := nextEvent(t, d, EventReset); e.Rev != 10 {
				t.Fatalf("reset event rev %d, want 10", e.Rev)
			}
			waitSynced(t, d)
			checkText(t, d, "abc_ DEF ghi")
		})
	}
}

// TestResetUsesOptionsDiff: a reset rebases the pending edits over the op
// Options.Diff returns for the last server text known and the new one.
func TestResetUsesOptionsDiff(t *testing.T) {
	var calls []string
	replaceAll := func(before, after string) ot.Op {
		calls = append(calls, before+"→"+after)
		var b ot.Builder
		return b.Insert(after).Delete(len([]rune(before))).Op()
	}
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true, Diff: replaceAll})
	d := join(t, c, fc, "doc", "abc def", 3)
	must(t, d.Insert(4, "X"))
	checkSubmit(t, fc.expectSubmit(), 1, 3, `[4,"X",3]`)
	fc.drop()

	fc2 := fs.accept()
	fc2.expectJoin()
	fc2.joinedText("doc", "abc DEF", 10, 0, true)
	// ot.Diff would keep "abc " and the insert before "DEF"; the whole
	// replacement puts it after.
	checkSubmit(t, fc2.expectSubmit(), 1, 10, `[7,"X"]`)
	checkText(t, d, "abc DEFX")
	if len(calls) != 1 || calls[0] != "abc def→abc DEF" {
		t.Fatalf("Diff called with %q, want once with the old and new server texts", calls)
	}
}

func TestEmojiPositionsAreCodePoints(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "😀a", 1)
	if d.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", d.Len())
	}
	must(t, d.Insert(1, "é"))
	checkSubmit(t, fc.expectSubmit(), 1, 1, `[1,"é",1]`)
	must(t, d.Delete(0, 1)) // the whole emoji, never half of it
	checkText(t, d, "éa")
	fc.op("doc", 2, parseOp(t, `[2,"👋"]`), "bob", 1) // after "😀a"
	waitRev(t, d, 2)
	checkText(t, d, "éa👋")
	fc.ack("doc", 1, 3)
	checkSubmit(t, fc.expectSubmit(), 2, 3, `[-1,3]`)
	if err := d.Insert(4, "x"); !errors.Is(err, ErrPosition) {
		t.Fatalf("Insert past the end: %v, want ErrPosition", err)
	}
}

func TestRejectedSubmitIsReverted(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(1, "BAD"))
	checkSubmit(t, fc.expectSubmit(), 1, 1, `[1,"BAD",2]`)
	must(t, d.Insert(3, "ok")) // inside the refused insert
	checkText(t, d, "aBAokDbc")

	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeDocTooLarge, Message: "too large", Doc: "doc", Seq: 1})
	e := nextEvent(t, d, EventReject)
	var se *ServerError
	if !errors.As(e.Err, &se) || se.Code != wire.CodeDocTooLarge || e.Seq != 1 {
		t.Fatalf("reject event %+v, want doc_too_large for seq 1", e)
	}
	checkText(t, d, "aokbc")
	checkSubmit(t, fc.expectSubmit(), 2, 1, `[1,"ok",2]`)
	fc.ack("doc", 2, 2)
	waitSynced(t, d)
	checkText(t, d, "aokbc")
}

func TestPresenceTransformed(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abcd", 1)
	must(t, d.Insert(0, "XY")) // in flight
	fc.expectSubmit()
	fc.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Client: "bob", Name: "Bob", Rev: 1, Anchor: 1, Head: 3})
	e := nextEvent(t, d, EventPresence)
	if e.Presence.Anchor != 3 || e.Presence.Head != 5 {
		t.Fatalf("presence %+v, want 3-5 (moved over our pending insert)", e.Presence)
	}
	fc.op("doc", 2, parseOp(t, `[2,"__",2]`), "carol", 1) // inside bob's selection
	waitRev(t, d, 2)
	if p := d.Presence()["bob"]; p.Anchor != 3 || p.Head != 7 || p.Name != "Bob" {
		t.Fatalf("bob's presence %+v, want 3-7", p)
	}
	must(t, d.Delete(0, 4)) // XYab deleted
	if p := d.Presence()["bob"]; p.Anchor != 0 || p.Head != 3 {
		t.Fatalf("bob's presence %+v, want 0-3", p)
	}
	fc.send(wire.Editor{Type: wire.TypeEditor, Doc: "doc", Client: "bob", Event: wire.EventLeave})
	nextEvent(t, d, EventLeave)
	if _, ok := d.Presence()["bob"]; ok {
		t.Fatal("bob's presence kept after he left")
	}
}

func TestOwnPresenceSentWhenSynced(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(0, "X"))
	fc.expectSubmit()
	must(t, d.SetPresence(2, 2)) // held: the server reads positions at a revision
	fc.op("doc", 2, parseOp(t, `["__",3]`), "bob", 1)
	fc.ack("doc", 1, 3)
	var p wire.Presence
	fc.expect(wire.TypePresence, &p)
	if p.Rev != 3 || p.Anchor != 4 || p.Head != 4 {
		t.Fatalf("presence %+v, want 4-4 at rev 3", p)
	}
}

func TestTerminalClose(t *testing.T) {
	for _, code := range []int{wire.CloseReplaced, 1008} {
		fs := newFakeServer(t)
		c, fc := dial(t, fs, Options{Reconnect: true})
		d := join(t, c, fc, "doc", "abc", 1)
		fc.closeWith(code, "bye")
		select {
		case <-c.Done():
		case <-time.After(testTimeout):
			t.Fatalf("close %d: Conn still alive", code)
		}
		var ce *CloseError
		if !errors.As(c.Err(), &ce) || ce.Code != code {
			t.Fatalf("close %d: Err() = %v, want a *CloseError", code, c.Err())
		}
		if !errors.As(d.Err(), &ce) || d.Status() != StatusClosed {
			t.Fatalf("close %d: doc Err() = %v, status %v", code, d.Err(), d.Status())
		}
		if err := d.Insert(0, "x"); !errors.As(err, &ce) {
			t.Fatalf("close %d: Insert after end: %v", code, err)
		}
	}
}

func TestReconnectAfterTooSlow(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)
	if e := nextEvent(t, d, EventStatus); e.Status != StatusOnline {
		t.Fatalf("status %v, want online", e.Status)
	}
	fc.closeWith(wire.CloseTooSlow, "too slow")
	if e := nextEvent(t, d, EventStatus); e.Status != StatusOffline {
		t.Fatalf("status %v, want offline", e.Status)
	}
	fc2 := fs.accept()
	fc2.expectJoin()
	fc2.joinedOps("doc", 1, 0)
	if e := nextEvent(t, d, EventStatus); e.Status != StatusOnline {
		t.Fatalf("status %v, want online", e.Status)
	}
}

// TestSilentServerDropped: a connection on which the server says nothing
// and answers no ping (a dead network that keeps the socket open) is given
// up after two PingIntervals, and the edit made meanwhile is submitted on
// the next connection, not left "saving" for good.
func TestSilentServerDropped(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true, PingInterval: 250 * time.Millisecond})
	d := join(t, c, fc, "doc", "abc", 1)
	// From now on the server is silent: fc is read no more, so nothing
	// answers the client's pings, and the edit gets no ack.
	must(t, d.Insert(0, "x"))
	for nextEvent(t, d, EventStatus).Status != StatusOffline {
	}
	fc2 := fs.accept()
	if j := fc2.expectJoin(); j.Rev == nil || *j.Rev != 1 {
		t.Fatalf("rejoin %+v, want a resume from 1", j)
	}
	fc2.joinedOps("doc", 1, 0)
	if s := fc2.expectSubmit(); s.Seq != 1 || s.Rev != 1 {
		t.Fatalf("submit %+v, want seq 1 at rev 1", s)
	}
}

func TestNoReconnectWithoutOption(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(0, "x"))
	fc.expectSubmit()
	fc.drop()
	<-c.Done()
	if err := d.WaitSynced(testCtx(t)); err == nil || errors.Is(err, ErrClosed) {
		t.Fatalf("WaitSynced with an edit pending on a dead Conn: %v, want the connection's error", err)
	}
}

func TestJoinRefused(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	res := make(chan error, 1)
	go func() {
		_, err := c.Join(testCtx(t), "no spaces!")
		res <- err
	}()
	fc.expectJoin()
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeInvalidDocID, Message: "bad id", Doc: "no spaces!"})
	var se *ServerError
	if err := <-res; !errors.As(err, &se) || se.Code != wire.CodeInvalidDocID {
		t.Fatalf("Join = %v, want invalid_doc_id", err)
	}
	// The id is free again.
	go func() {
		_, err := c.Join(testCtx(t), "no spaces!")
		res <- err
	}()
	fc.expectJoin()
	fc.joinedText("no spaces!", "", 0, 0, false)
	if err := <-res; err != nil {
		t.Fatalf("second Join: %v", err)
	}
}

func TestHelloRefused(t *testing.T) {
	fs := newFakeServer(t)
	fs.srv.Config.Handler = refuseHello{}
	_, err := Dial(testCtx(t), fs.url(), Options{})
	var se *ServerError
	if !errors.As(err, &se) || se.Code != wire.CodeUnauthorized {
		t.Fatalf("Dial = %v, want unauthorized", err)
	}
	if _, err := Dial(testCtx(t), fs.url(), Options{ClientID: "bad id"}); !errors.Is(err, ErrClientID) {
		t.Fatalf("Dial with a bad client id = %v", err)
	}
	if _, err := Dial(testCtx(t), fs.url(), Options{Color: "url(//x.example/)"}); !errors.Is(err, ErrColor) {
		t.Fatalf("Dial with a bad color = %v", err)
	}
}

func TestEventsNeverBlock(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{EventBuffer: 2})
	d := join(t, c, fc, "doc", "", 0) // an online status event
	appendX := func(rev uint64) {
		var b ot.Builder
		fc.op("doc", rev, b.Retain(int(rev)-1).Insert("x").Op(), "bob", rev)
	}
	for rev := uint64(1); rev <= 5; rev++ {
		appendX(rev)
	}
	waitRev(t, d, 5) // nobody reads events, yet the reader went on
	drained := 0
	for len(d.Events()) > 0 {
		<-d.Events()
		drained++
	}
	appendX(6)
	e := nextEvent(t, d, EventOp)
	if e.Rev != 6 || drained+e.Missed != 6 {
		t.Fatalf("event rev %d missed %d after %d drained, want rev 6 and 6 events accounted for", e.Rev, e.Missed, drained)
	}
	checkText(t, d, "xxxxxx")
}

func TestCloseEndsGoroutines(t *testing.T) {
	fs := newFakeServer(t)
	base := runtime.NumGoroutine()
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(0, "x"))
	fc.expectSubmit()
	fc.drop()
	fs.accept().expectJoin() // reconnected: a second session ran
	must(t, c.Close())
	if !errors.Is(c.Err(), ErrClosed) || !errors.Is(d.Err(), ErrClosed) {
		t.Fatalf("after Close: Err() = %v, doc Err() = %v", c.Err(), d.Err())
	}
	if err := d.Insert(0, "y"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Insert after Close: %v", err)
	}
	c.Close() // idempotent
	deadline := time.Now().Add(testTimeout)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// refuseHello answers hello with unauthorized and closes with 1008.
type refuseHello struct{}

func (refuseHello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer ws.Close()
	var h wire.Hello
	ws.ReadJSON(&h)
	ws.WriteJSON(wire.Error{Type: wire.TypeError, Code: wire.CodeUnauthorized, Message: "no token"})
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1008, "unauthorized"), time.Now().Add(time.Second))
}

func TestNotJoinedRejoins(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 4)
	must(t, d.Insert(0, "x"))
	checkSubmit(t, fc.expectSubmit(), 1, 4, `["x",3]`)
	// The server forgot us (e.g. it unloaded the document): rejoin from our
	// revision, without a leave, and resubmit.
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeNotJoined, Message: "not joined", Doc: "doc", Seq: 1})
	j := fc.expectJoin()
	if j.Rev == nil || *j.Rev != 4 {
		t.Fatalf("rejoin rev = %v, want 4", j.Rev)
	}
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeNotJoined, Message: "stale", Doc: "doc"}) // ignored while rejoining
	fc.joinedOps("doc", 4, 0)
	checkSubmit(t, fc.expectSubmit(), 1, 4, `["x",3]`)
	fc.ack("doc", 1, 5)
	waitSynced(t, d)
	checkText(t, d, "xabc")
}

// TestRejoinRefusedEndsDoc: a rejoin on an open connection refused with
// unauthorized (the connection's token expired) ends that Doc, with the
// error, and the client does not try again; the connection and its other
// documents go on.
func TestRejoinRefusedEndsDoc(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 4)
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeNotJoined, Message: "not joined", Doc: "doc"})
	fc.expectJoin()
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeUnauthorized, Message: "collab: unauthorized: token expired", Doc: "doc"})
	e := nextEvent(t, d, EventStatus)
	for e.Status != StatusClosed {
		e = nextEvent(t, d, EventStatus)
	}
	var se *ServerError
	if e.Status != StatusClosed || !errors.As(e.Err, &se) || se.Code != wire.CodeUnauthorized || !errors.As(d.Err(), &se) {
		t.Fatalf("event %v %v, Doc.Err %v; want closed by unauthorized", e.Status, e.Err, d.Err())
	}
	// The next message is the join asked for below, not another rejoin.
	other := join(t, c, fc, "other", "xyz", 1)
	must(t, other.Insert(0, "x"))
	checkSubmit(t, fc.expectSubmit(), 1, 1, `["x",3]`)
	if c.Err() != nil {
		t.Fatalf("Conn ended: %v", c.Err())
	}
}

// TestRevTooOldRejoins: a submit refused rev_too_old (too far behind the
// head for the server to transform) makes the client rejoin for the whole
// text, rebase the edit itself and resubmit it, same seq, at the new head.
func TestRevTooOldRejoins(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 4)
	must(t, d.Insert(0, "x"))
	checkSubmit(t, fc.expectSubmit(), 1, 4, `["x",3]`)
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeRevTooOld, Message: "too far behind", Doc: "doc", Seq: 1})
	var l wire.Leave
	fc.expect(wire.TypeLeave, &l)
	if j := fc.expectJoin(); j.Rev != nil {
		t.Fatalf("rejoin at rev %d, want without a rev (the whole text)", *j.Rev)
	}
	fc.joinedText("doc", "abcQQQ", 900, 0, false)
	checkSubmit(t, fc.expectSubmit(), 1, 900, `["x",6]`)
	fc.ack("doc", 1, 901)
	waitSynced(t, d)
	checkText(t, d, "xabcQQQ")
}

// TestUnavailableRetriesAfterReconnect: a submit refused for now
// (unavailable, or a limit: rate_limited, quota_exceeded) is kept and
// resubmitted unchanged after a reconnect, not dropped.
func TestUnavailableRetriesAfterReconnect(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(0, "x"))
	fc.expectSubmit()
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeUnavailable, Message: "retry", Doc: "doc", Seq: 1})
	fc2 := fs.accept()
	fc2.expectJoin()
	// The server is full: the rejoin is refused for now, the edit kept.
	fc2.send(wire.Error{Type: wire.TypeError, Code: wire.CodeTooManyLoaded, Message: "busy", Doc: "doc"})
	fc3 := fs.accept()
	fc3.expectJoin()
	fc3.joinedOps("doc", 1, 0)
	checkSubmit(t, fc3.expectSubmit(), 1, 1, `["x",3]`)
	fc3.ack("doc", 1, 2)
	waitSynced(t, d)
}

// TestLimitRefusalRetriesAfterReconnect: a submit refused by a limit for
// now (rate_limited, quota_exceeded) is kept and resubmitted unchanged
// after a reconnect, not dropped.
func TestLimitRefusalRetriesAfterReconnect(t *testing.T) {
	for _, code := range []string{wire.CodeRateLimited, wire.CodeQuotaExceeded} {
		t.Run(code, func(t *testing.T) {
			fs := newFakeServer(t)
			c, fc := dial(t, fs, Options{Reconnect: true})
			d := join(t, c, fc, "doc", "abc", 1)
			must(t, d.Insert(0, "x"))
			fc.expectSubmit()
			fc.send(wire.Error{Type: wire.TypeError, Code: code, Message: "retry", Doc: "doc", Seq: 1})
			fc2 := fs.accept()
			fc2.expectJoin()
			fc2.joinedOps("doc", 1, 0)
			checkSubmit(t, fc2.expectSubmit(), 1, 1, `["x",3]`)
			fc2.ack("doc", 1, 2)
			waitSynced(t, d)
		})
	}
}

func TestLeave(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "abc", 1)
	must(t, d.Insert(3, "!"))
	fc.expectSubmit()
	left := make(chan error, 1)
	go func() { left <- d.Leave(testCtx(t)) }()
	fc.ack("doc", 1, 2) // Leave waits for this
	var l wire.Leave
	fc.expect(wire.TypeLeave, &l)
	if err := <-left; err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if !errors.Is(d.Err(), ErrLeft) || d.Status() != StatusClosed {
		t.Fatalf("after Leave: Err() = %v, status %v", d.Err(), d.Status())
	}
	checkText(t, d, "abc!") // still readable
	for range d.Events() {
	} // closed
	// Messages for the document left are ignored, and it can be joined again.
	fc.op("doc", 3, parseOp(t, `[4,"?"]`), "bob", 1)
	d2 := join(t, c, fc, "doc", "abc!?", 3)
	checkText(t, d2, "abc!?")
}

func TestPresenceCoalesced(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "0123456789", 1)
	for i := range 10 {
		must(t, d.SetPresence(i, i+1))
	}
	for { // the carets may be coalesced; the last one arrives
		var p wire.Presence
		fc.expect(wire.TypePresence, &p)
		if p.Anchor == 9 && p.Head == 10 && p.Rev == 1 {
			break
		}
	}
	if err := d.SetPresence(0, 11); !errors.Is(err, ErrPosition) {
		t.Fatalf("SetPresence past the end: %v, want ErrPosition", err)
	}
}

func TestReadOnly(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{})
	res := make(chan *Doc, 1)
	go func() {
		d, _ := c.Join(testCtx(t), "doc")
		res <- d
	}()
	fc.expectJoin()
	text := "abc"
	fc.send(wire.Joined{Type: wire.TypeJoined, Doc: "doc", Rev: 1, Text: &text, ReadOnly: true})
	d := <-res
	if d == nil || !d.ReadOnly() {
		t.Fatal("joined read-only, but the Doc is not")
	}
	if err := d.Insert(0, "x"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Insert on a read-only doc: %v, want ErrReadOnly", err)
	}
	fc.op("doc", 2, parseOp(t, `[3,"d"]`), "bob", 1) // still receives edits
	waitRev(t, d, 2)
	checkText(t, d, "abcd")
}

// TestDeletedWhileOffline: a rejoin answered with a full text at a lower
// revision means the document was deleted meanwhile: the Doc ends with
// not_found, keeps its text, and sends nothing that would recreate it.
func TestDeletedWhileOffline(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abc", 5)
	must(t, d.Insert(3, " mine"))
	checkSubmit(t, fc.expectSubmit(), 1, 5, `[3," mine"]`)
	fc.drop()
	fc = fs.accept()
	if j := fc.expectJoin(); j.Rev == nil || *j.Rev != 5 {
		t.Fatalf("rejoin %+v, want rev 5", j)
	}
	fc.joinedText("doc", "", 0, 0, true)
	if typ, data := fc.read(); typ != wire.TypeLeave {
		t.Fatalf("after the deletion the client sent %s, want a leave", data)
	}
	var se *ServerError
	if err := d.WaitSynced(testCtx(t)); !errors.As(err, &se) || se.Code != wire.CodeNotFound {
		t.Fatalf("WaitSynced: %v, want not_found", err)
	}
	if !errors.As(d.Err(), &se) || !strings.Contains(se.Message, "deleted") {
		t.Fatalf("Err() = %v, want it to say the document was deleted", d.Err())
	}
	checkText(t, d, "abc mine")
	if err := d.Insert(0, "x"); err == nil {
		t.Fatal("Insert into the deleted document succeeded")
	}
}

// TestCaretsDroppedOffline: while the connection is down nobody updates
// the other editors' carets: they are dropped, each with an EventLeave,
// and come back with the server's presence after the rejoin.
func TestCaretsDroppedOffline(t *testing.T) {
	fs := newFakeServer(t)
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "abcd", 1)
	fc.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Client: "bob", Name: "Bob", Rev: 1, Anchor: 1, Head: 1})
	nextEvent(t, d, EventPresence)
	fc.drop()
	if e := nextEvent(t, d, EventLeave); e.Client != "bob" || e.Name != "Bob" {
		t.Fatalf("leave %+v, want bob's", e)
	}
	if p := d.Presence(); len(p) != 0 {
		t.Fatalf("carets kept offline: %v", p)
	}
	fc = fs.accept()
	fc.expectJoin()
	fc.joinedOps("doc", 1, 0)
	fc.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Client: "bob", Name: "Bob", Rev: 1, Anchor: 2, Head: 2})
	nextEvent(t, d, EventPresence)
	if p := d.Presence()["bob"]; p.Anchor != 2 {
		t.Fatalf("bob's caret after the rejoin %+v, want at 2", p)
	}
}

// TestBackoffRand: with Options.Rand the backoff's jitter comes from it, so
// two Conns seeded alike wait alike; every delay stays within its bounds.
func TestBackoffRand(t *testing.T) {
	newConn := func() *Conn {
		opts := Options{MinDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second, Rand: rand.New(rand.NewPCG(7, 7))}
		if err := opts.setDefaults(); err != nil {
			t.Fatal(err)
		}
		return &Conn{opts: opts}
	}
	a, b := newConn(), newConn()
	varied := false
	for n := range 8 {
		da, db := a.backoff(n), b.backoff(n)
		if da != db {
			t.Fatalf("attempt %d: %v and %v from one seed", n, da, db)
		}
		hi := min(100*time.Millisecond<<n, 2*time.Second)
		if da < hi/2 || da > hi {
			t.Fatalf("attempt %d: %v outside [%v, %v]", n, da, hi/2, hi)
		}
		varied = varied || da != hi/2
	}
	if !varied {
		t.Fatal("no jitter drawn")
	}
}
