package collab

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage/memory"
)

// TestJoinWaitsForOwnOps: a client that rejoins while an op it submitted is
// sequenced but not yet committed is answered only after that op commits,
// so joined.seq covers it. Before, joined (a reset) said seq 0, the client
// rebased the op over the diff of the reset and resubmitted it, the server
// dropped the resubmission as a duplicate and committed the op transformed
// step by step instead: the two texts differed for good ("AZQ" against
// "AQZ"). Both resume paths are run: a reset (behind MaxCatchUp) and ops.
// A submit further back than MaxCatchUp is refused, so the reset comes
// from an op committed after the client's submit was sequenced.
func TestJoinWaitsForOwnOps(t *testing.T) {
	for _, path := range []string{"reset", "ops"} {
		t.Run(path, func(t *testing.T) {
			maxCatchUp := uint64(5)
			if path == "ops" {
				maxCatchUp = 100
			}
			for try := range 5 {
				resumeWhileCommitting(t, fmt.Sprintf("r%d", try), maxCatchUp)
			}
		})
	}
}

func resumeWhileCommitting(t *testing.T, doc string, maxCatchUp uint64) {
	st := &gatedStore{Store: memory.New(), entered: make(chan int), release: make(chan chan struct{})}
	srv, ts := startServer(t, st, Options{MaxCatchUp: maxCatchUp})
	commit := func() {
		<-st.entered
		done := make(chan struct{})
		st.release <- done
		<-done
	}
	w := connect(t, ts, "writer")
	w.join(doc, nil)
	w.submit(doc, 0, 1, insertAt(0, 0, "AB"))
	commit()
	w.ack(1)
	c := connect(t, ts, "c")
	c.join(doc, ptr(uint64(1)))
	wsubmit := func(i int, op string) {
		w.send(json.RawMessage(fmt.Sprintf(`{"type":"submit","doc":%q,"rev":%d,"seq":%d,"op":%s}`, doc, i+1, i+2, op)))
	}
	for i, op := range []string{`[2,"Z"]`, `[3,"w"]`, `[3,-1]`, `[3,"w"]`, `[3,-1]`} {
		wsubmit(i, op)
		commit()
		w.ack(uint64(i + 2))
	}

	// c's submit (5 ops back) is sequenced while the writer's last op is
	// being committed (its caret, relayed to the writer, shows the submit
	// went first); then that commit ends, c's is held, c reconnects and
	// rejoins, 6 ops back.
	wsubmit(5, `[1,-1,1]`)
	<-st.entered
	mine := insertAt(2, 1, "Q")
	c.submit(doc, 1, 1, mine)
	c.send(wire.Presence{Type: wire.TypePresence, Doc: doc, Rev: 1, Anchor: 0, Head: 0})
	w.expect(wire.TypePresence, nil)
	held := make(chan struct{})
	st.release <- held
	<-held
	w.ack(7)
	<-st.entered
	c2 := connect(t, ts, "c") // replaces the first connection
	c2.send(wire.Join{Type: wire.TypeJoin, Doc: doc, Rev: ptr(uint64(1))})
	delayed := func() bool { return testutilCounter(t, srv, "collab_joins_delayed_total") > 0 }
	waitFor(t, "the join to wait for the commit", delayed)
	done := make(chan struct{})
	st.release <- done
	<-done

	var j wire.Joined
	c2.expect(wire.TypeJoined, &j)
	if reset := maxCatchUp < 6; reset != (j.Text != nil) {
		t.Fatalf("joined with text %v, want a reset %v (MaxCatchUp %d, 6 ops missed)", j.Text != nil, reset, maxCatchUp)
	}
	text := resume(t, "AB", 1, j)
	got, rev := storeText(t, st, doc)
	if got != text || rev != j.Rev {
		t.Fatalf("client holds %q@%d, server %q@%d", text, j.Rev, got, rev)
	}
	if got != "AQZ" {
		t.Fatalf("server text %q, want AQZ", got)
	}
}

// resume is what a client does with joined j when it held server text base
// and had an op pending under seq, committed meanwhile: joined must show it
// (as seq or among the ops), and resume returns the text the client holds.
func resume(t *testing.T, base string, seq uint64, j wire.Joined) string {
	t.Helper()
	if j.Text != nil {
		if j.Seq < seq {
			t.Fatalf("reset without the pending op: the client would rebase it over a diff")
		}
		return *j.Text
	}
	text := base
	for _, r := range j.Ops {
		var err error
		if text, err = r.Op.Apply(text); err != nil {
			t.Fatal(err)
		}
	}
	own := false
	for _, r := range j.Ops {
		own = own || r.Client == wire.PublicID("c") && r.Seq == seq
	}
	if !own {
		t.Fatalf("joined ops %+v without the client's own seq %d", j.Ops, seq)
	}
	return text
}

// TestResetOnLaggingServer: in a cluster, a client whose op was committed
// through server A (its ack lost) resumes on server B, which has not yet
// heard of that commit and remembers the client from before with seq 0.
// B must not answer with a reset saying seq 0: the client would rebase its
// op over the reset's diff and resubmit it, B would find the op in the log
// and acknowledge the one A committed, transformed step by step, and the
// texts would differ for good ("AZQ" against "AQZ").
func TestResetOnLaggingServer(t *testing.T) {
	const doc = "r"
	sh := newShared()
	nb := sh.node()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, nb, Options{MaxCatchUp: 3})
	w := connect(t, tsB, "writer") // keeps the document loaded on B
	w.join(doc, nil)
	w.submit(doc, 0, 1, insertAt(0, 0, "AB"))
	w.ack(1)
	c := connect(t, tsB, "c")
	c.join(doc, ptr(uint64(1))) // B now remembers c's last seq: 0
	c.ws.Close()
	for i, op := range []string{`[2,"Z"]`, `[3,"w"]`, `[3,-1]`, `[3,"w"]`, `[3,-1]`, `[1,-1,1]`} {
		w.send(json.RawMessage(fmt.Sprintf(`{"type":"submit","doc":%q,"rev":%d,"seq":%d,"op":%s}`, doc, i+1, i+2, op)))
		w.ack(uint64(i + 2))
	}

	nb.pauseFeeds() // B lags: it will not hear of A's commit
	c = connect(t, tsA, "c")
	c.join(doc, ptr(uint64(1)))
	c.submit(doc, 1, 1, insertAt(2, 1, "Q"))
	c.ack(1) // the ack that, in the story, was lost
	c.ws.Close()

	c = connect(t, tsB, "c")
	j := c.join(doc, ptr(uint64(1)))
	text := resume(t, "AB", 1, j)
	nb.resumeFeeds()
	expectStored(t, sh, doc, text, j.Rev)
}

// TestResetConfirmedAcrossServers: in a cluster, an op that server A has
// sequenced but not yet committed when its client resumes on server B is
// not in B's reset; the client rebases it over the reset's diff and
// resubmits it, A then commits it as first sent, and B acknowledges the
// resubmission with A's commit: the client holds "AZQ", the store "AQZ".
// The clients therefore confirm an op they rebased after sending it from
// the text once it is acknowledged (protocol.md, Joining and resuming;
// the client vectors show the clients doing it): a join without rev gives
// the stored text.
func TestResetConfirmedAcrossServers(t *testing.T) {
	const doc = "r"
	sh := newShared()
	na, nb := sh.node(), sh.node()
	_, tsA := startServer(t, na, Options{})
	_, tsB := startServer(t, nb, Options{MaxCatchUp: 3})
	w := connect(t, tsB, "writer")
	w.join(doc, nil)
	w.submit(doc, 0, 1, insertAt(0, 0, "AB"))
	w.ack(1)
	c := connect(t, tsA, "c")
	c.join(doc, ptr(uint64(1)))
	for i, op := range []string{`[2,"Z"]`, `[3,"w"]`, `[3,-1]`, `[3,"w"]`, `[3,-1]`, `[1,-1,1]`} {
		w.send(json.RawMessage(fmt.Sprintf(`{"type":"submit","doc":%q,"rev":%d,"seq":%d,"op":%s}`, doc, i+1, i+2, op)))
		w.ack(uint64(i + 2))
	}

	gate := na.holdAppends()
	mine := insertAt(2, 1, "Q")
	c.submit(doc, 1, 1, mine)
	release := <-gate // A has sequenced c's op; its commit waits
	c.ws.Close()

	c = connect(t, tsB, "c")
	j := c.join(doc, ptr(uint64(1)))
	if j.Text == nil || j.Seq != 0 {
		t.Fatalf("joined %+v, want a reset that does not have c's op", j)
	}
	_, rebased, err := ot.Transform(ot.Diff("AB", *j.Text), mine)
	if err != nil {
		t.Fatal(err)
	}
	na.passAppends()
	close(release)
	waitFor(t, "A to commit c's op as first sent", func() bool { text, _ := storeText(t, sh, doc); return text == "AQZ" })

	c.submit(doc, j.Rev, 1, rebased)
	held, err := rebased.Apply(*j.Text)
	if err != nil {
		t.Fatal(err)
	}
	if ack := c.ack(1); ack.Rev != 8 || held == "AQZ" {
		t.Fatalf("ack at %d with the client holding %q: the case this test is about did not arise", ack.Rev, held)
	}
	c.send(wire.Leave{Type: wire.TypeLeave, Doc: doc})
	c.send(wire.Join{Type: wire.TypeJoin, Doc: doc})
	for {
		typ, data := c.next() // B may ack the resubmission again when it hears of A's commit
		if typ == wire.TypeAck {
			continue
		}
		var j wire.Joined
		if err := json.Unmarshal(data, &j); err != nil || typ != wire.TypeJoined {
			t.Fatalf("got %s, want joined", data)
		}
		if j.Text == nil || *j.Text != "AQZ" || j.Rev != 8 || j.Seq != 1 {
			t.Fatalf("confirming join %+v, want the stored AQZ at 8 with seq 1", j)
		}
		break
	}
	expectStored(t, sh, doc, "AQZ", 8)
}
