package collab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// shared is one store that several Servers share, like a cluster store: a
// memory.Store (which refuses a record that does not continue the log with
// ErrConflict) whose commits each Server's node view feeds to its
// documents.
type shared struct {
	*memory.Store
	mu        sync.Mutex
	wakes     map[string]map[chan struct{}]bool // guarded by mu: feeds to wake per document
	conflicts atomic.Int64                      // appends refused with ErrConflict
	latency   time.Duration                     // each append takes this long, like a network round trip
	nodes     int                               // guarded by mu: nodes made
	subs      map[*busSub]bool                  // guarded by mu: bus subscriptions
	deletes   map[string]int                    // guarded by mu: deletions per document
}

func newShared() *shared {
	return &shared{Store: memory.New(), wakes: make(map[string]map[chan struct{}]bool), subs: make(map[*busSub]bool), deletes: make(map[string]int)}
}

func (s *shared) poke(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.wakes[id] {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// sharedNode is one Server's view of a shared store: a Store, a Follower
// whose appends can be held and whose feeds can be paused, and a Bus.
type sharedNode struct {
	*shared
	name   string
	mu     sync.Mutex
	gate   chan chan struct{} // guarded by mu: when set, Append waits for a release sent here
	paused chan struct{}      // guarded by mu: when set, feeds wait until it closes
	refuse atomic.Int64       // Appends to refuse with ErrConflict, the log unchanged
	mute   atomic.Bool        // Publish loses what it is given, as a bus can
}

// resync tells n's documents that what they said may have been lost, as
// a cluster store does after a reconnection to NATS.
func (n *sharedNode) resync() {
	for _, sub := range n.subscribers(func(b *busSub) bool { return b.node == n }) {
		sub.fn("", []byte{})
	}
}

// refused takes one of the refusals n was told to make.
func (n *sharedNode) refused() bool {
	for {
		k := n.refuse.Load()
		if k <= 0 {
			return false
		}
		if n.refuse.CompareAndSwap(k, k-1) {
			return true
		}
	}
}

var (
	_ storage.Follower = (*sharedNode)(nil)
	_ storage.Bus      = (*sharedNode)(nil)
)

func (s *shared) node() *sharedNode {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nodes++
	return &sharedNode{shared: s, name: fmt.Sprintf("n%d", s.nodes)}
}

// busSub is one document's subscription on a node.
type busSub struct {
	node *sharedNode
	id   string
	fn   func(from string, data []byte)
}

// Publish implements Bus: every other node's subscribers of id hear it.
func (n *sharedNode) Publish(id string, data []byte) error {
	if n.mute.Load() {
		return nil
	}
	for _, sub := range n.subscribers(func(b *busSub) bool { return b.id == id && b.node != n }) {
		sub.fn(n.name, data)
	}
	return nil
}

func (n *sharedNode) Subscribe(ctx context.Context, id string, fn func(string, []byte)) error {
	sub := &busSub{node: n, id: id, fn: fn}
	n.shared.mu.Lock()
	n.subs[sub] = true
	n.shared.mu.Unlock()
	context.AfterFunc(ctx, func() {
		n.shared.mu.Lock()
		delete(n.subs, sub)
		n.shared.mu.Unlock()
	})
	return nil
}

// gone tells the other nodes that n died.
func (n *sharedNode) gone() {
	for _, sub := range n.subscribers(func(b *busSub) bool { return b.node != n }) {
		sub.fn(n.name, nil)
	}
}

func (s *shared) subscribers(match func(*busSub) bool) []*busSub {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*busSub
	for sub := range s.subs {
		if match(sub) {
			out = append(out, sub)
		}
	}
	return out
}

// holdAppends makes each Append wait: it sends a channel on the returned
// one and goes on when that channel is closed.
func (n *sharedNode) holdAppends() <-chan chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gate = make(chan chan struct{})
	return n.gate
}

func (n *sharedNode) passAppends() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.gate = nil
}

func (n *sharedNode) pauseFeeds() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.paused = make(chan struct{})
}

func (n *sharedNode) resumeFeeds() {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.paused)
	n.paused = nil
}

func (n *sharedNode) Append(ctx context.Context, id string, recs []storage.Record) error {
	n.mu.Lock()
	gate := n.gate
	n.mu.Unlock()
	if gate != nil {
		release := make(chan struct{})
		select {
		case gate <- release:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-release
	}
	time.Sleep(n.latency) // not synchronization: widens the window in which commits race
	if n.refused() {
		n.conflicts.Add(1)
		return fmt.Errorf("%w: %s: refused while another message is replicated", storage.ErrConflict, id)
	}
	err := n.Store.Append(ctx, id, recs)
	if err == nil {
		n.poke(id)
	}
	if errors.Is(err, storage.ErrConflict) {
		n.conflicts.Add(1)
	}
	return err
}

func (n *sharedNode) Delete(ctx context.Context, id string) error {
	err := n.Store.Delete(ctx, id)
	if err == nil {
		n.shared.mu.Lock()
		n.deletes[id]++
		n.shared.mu.Unlock()
		n.poke(id)
	}
	return err
}

// deletedSince reports whether id was deleted since it had been deleted
// count times.
func (n *sharedNode) deletedSince(id string, count int) bool {
	n.shared.mu.Lock()
	defer n.shared.mu.Unlock()
	return n.deletes[id] != count
}

// Follow feeds the records after after from the shared memory.Store, each time
// something was committed, until ctx ends or the document is deleted.
func (n *sharedNode) Follow(ctx context.Context, id string, after uint64) (<-chan storage.Record, error) {
	wake := make(chan struct{}, 1)
	n.shared.mu.Lock()
	if n.wakes[id] == nil {
		n.wakes[id] = make(map[chan struct{}]bool)
	}
	n.wakes[id][wake] = true
	deletes := n.deletes[id]
	n.shared.mu.Unlock()
	ch := make(chan storage.Record, 16)
	go func() {
		defer close(ch)
		defer func() {
			n.shared.mu.Lock()
			delete(n.wakes[id], wake)
			n.shared.mu.Unlock()
		}()
		for {
			n.mu.Lock()
			paused := n.paused
			n.mu.Unlock()
			if paused != nil {
				select {
				case <-paused:
				case <-ctx.Done():
					return
				}
			}
			recs, err := n.Store.Ops(ctx, id, after, math.MaxUint64)
			if errors.Is(err, storage.ErrNotFound) && (after > 0 || n.deletedSince(id, deletes)) {
				return // deleted, perhaps before the feed read a record of it
			}
			for _, r := range recs {
				select {
				case ch <- r:
					after = r.Rev
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch, nil
}

func expectOp(t *testing.T, c *tclient, rev uint64, op string) {
	t.Helper()
	var m wire.Op
	c.expect(wire.TypeOp, &m)
	if m.Rev != rev || m.Op.String() != op {
		t.Fatalf("%s: op rev %d %s, want rev %d %s", c.id, m.Rev, m.Op, rev, op)
	}
}

func expectStored(t *testing.T, st storage.Store, id, text string, rev uint64) {
	t.Helper()
	got, gotRev := storeText(t, st, id)
	if got != text || gotRev != rev {
		t.Fatalf("store holds %q at rev %d, want %q at rev %d", got, gotRev, text, rev)
	}
	if r := replay(t, st, id); r != text {
		t.Fatalf("replay of the log %q, want %q", r, text)
	}
}

// TestFollowRemoteOps: an op committed through one server reaches the
// editors of the other as an op, in revision order.
func TestFollowRemoteOps(t *testing.T) {
	sh := newShared()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, sh.node(), Options{})
	a := connect(t, tsA, "ca")
	a.join("d", nil)
	b := connect(t, tsB, "cb")
	b.join("d", nil)
	b.submit("d", 0, 1, insertAt(0, 0, "héllo"))
	b.ack(1)
	expectOp(t, a, 1, `["héllo"]`)
	a.submit("d", 1, 1, insertAt(5, 5, " 👋"))
	a.ack(1)
	expectOp(t, b, 2, `[5," 👋"]`)
	expectStored(t, sh, "d", "héllo 👋", 2)
}

// TestFollowConflictRebase: two servers commit concurrently; the one whose
// commit is refused (another committed first) applies the other's op,
// transforms its own over it (the earlier commit wins the tie) and
// commits it again. Both editors see both ops once, in one order.
func TestFollowConflictRebase(t *testing.T) {
	sh := newShared()
	na := sh.node()
	_, tsA := startServer(t, na, Options{})
	_, tsB := startServer(t, sh.node(), Options{})
	a := connect(t, tsA, "ca")
	a.join("d", nil)
	b := connect(t, tsB, "cb")
	b.join("d", nil)

	gate := na.holdAppends()
	a.submit("d", 0, 1, insertAt(0, 0, "A"))
	release := <-gate // a's commit waits, having written nothing
	b.submit("d", 0, 1, insertAt(0, 0, "B"))
	b.ack(1)
	na.passAppends()
	close(release) // a's commit now continues rev 0 of a log at rev 1: refused

	expectOp(t, a, 1, `["B"]`)
	if ack := a.ack(1); ack.Rev != 2 {
		t.Fatalf("a's ack at rev %d, want 2", ack.Rev)
	}
	expectOp(t, b, 2, `[1,"A"]`)
	expectStored(t, sh, "d", "BA", 2)
}

// TestFollowResubmitElsewhere: a client whose ack was lost resubmits to
// another server that has not seen the commit yet and still has the
// client's older sequence in memory. The commit is refused, the server
// reads the log, finds the op already there and acknowledges it: applied
// once.
func TestFollowResubmitElsewhere(t *testing.T) {
	sh := newShared()
	nb := sh.node()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, nb, Options{})
	y := connect(t, tsB, "cy") // keeps the document loaded on B
	y.join("d", nil)
	x := connect(t, tsB, "cx")
	x.join("d", nil) // B now remembers x's last seq: 0
	x.ws.Close()

	nb.pauseFeeds() // B lags: it will not hear of A's commit
	x = connect(t, tsA, "cx")
	x.join("d", nil)
	op := insertAt(0, 0, "X")
	x.submit("d", 0, 1, op)
	x.ack(1) // the ack that, in the story, was lost
	x.ws.Close()

	x = connect(t, tsB, "cx")
	// Without rev: a resuming join would read x's record from the store
	// and catch up first (TestResetOnLaggingServer).
	if j := x.join("d", nil); j.Rev != 0 || j.Seq != 0 {
		t.Fatalf("joined rev %d seq %d on the lagging server, want 0, 0", j.Rev, j.Seq)
	}
	x.submit("d", 0, 1, op)
	if ack := x.ack(1); ack.Rev != 1 {
		t.Fatalf("ack of the resubmission at rev %d, want 1", ack.Rev)
	}
	expectOp(t, y, 1, `["X"]`)
	nb.resumeFeeds()
	expectStored(t, sh, "d", "X", 1)

	// And once more, now that B knows: acknowledged at once.
	x.submit("d", 0, 1, op)
	if ack := x.ack(1); ack.Rev != 1 {
		t.Fatalf("second resubmission acked at rev %d, want 1", ack.Rev)
	}
	expectStored(t, sh, "d", "X", 1)
}

// TestFollowJoinAhead: a client resuming from a revision the server has
// not received yet (it came from another server) is caught up from the
// store instead of being reset, and an HTTP write based on the store's
// head is taken, not refused as future.
func TestFollowJoinAhead(t *testing.T) {
	sh := newShared()
	nb := sh.node()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, nb, Options{})
	y := connect(t, tsB, "cy")
	y.join("d", nil)
	nb.pauseFeeds()
	x := connect(t, tsA, "cx")
	x.join("d", nil)
	x.submit("d", 0, 1, insertAt(0, 0, "ab"))
	x.ack(1)
	x.ws.Close()
	x = connect(t, tsB, "cx")
	j := x.join("d", ptr(uint64(1)))
	if j.Rev != 1 || j.Text != nil || j.Reset || j.Seq != 1 {
		t.Fatalf("joined = rev %d seq %d reset %v text %v, want rev 1 seq 1 and no reset", j.Rev, j.Seq, j.Reset, j.Text != nil)
	}
	expectOp(t, y, 1, `["ab"]`)

	status, body := httpPut(t, tsB, "d", 1, "abc")
	if status != 200 {
		t.Fatalf("PUT based on the head: %d %s", status, body)
	}
	expectOp(t, x, 2, `[2,"c"]`)
	nb.resumeFeeds()
	expectStored(t, sh, "d", "abc", 2)
}

// TestFollowDelete: a document deleted through one server is closed on
// the others: their editors get not_found.
func TestFollowDelete(t *testing.T) {
	sh := newShared()
	nb := sh.node()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, nb, Options{})
	b := connect(t, tsB, "cb")
	b.join("d", nil)
	b.submit("d", 0, 1, insertAt(0, 0, "x"))
	b.ack(1)
	if status, body := httpDelete(t, tsA, "d"); status != 204 {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	b.expectError(wire.CodeNotFound)

	// Deleted while B, not knowing yet, commits to it.
	b.join("d", nil)
	b.submit("d", 0, 2, insertAt(0, 0, "y"))
	b.ack(2)
	nb.pauseFeeds()
	if status, body := httpDelete(t, tsA, "d"); status != 204 {
		t.Fatalf("second DELETE: %d %s", status, body)
	}
	b.submit("d", 1, 3, insertAt(1, 1, "z"))
	b.expectError(wire.CodeNotFound)
	if _, err := sh.Load(context.Background(), "d"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Load after the deletion: %v; the late commit must not recreate the document", err)
	}
}

func httpPut(t *testing.T, ts *httptest.Server, id string, base uint64, text string) (int, string) {
	t.Helper()
	return httpCall(t, http.MethodPut, fmt.Sprintf("%s/api/docs/%s?base=%d", ts.URL, id, base), text)
}

func httpDelete(t *testing.T, ts *httptest.Server, id string) (int, string) {
	t.Helper()
	return httpCall(t, http.MethodDelete, ts.URL+"/api/docs/"+id, "")
}

func httpCall(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestFollowConvergence: editors spread over three servers sharing one
// store make random concurrent edits to two documents (commits race,
// get refused, are transformed and retried); every editor ends with the
// stored text, which is the replay of the log, and each client's ops are
// in the log once, in seq order.
func TestFollowConvergence(t *testing.T) {
	const servers, perServer, docs, edits = 3, 2, 2, 25
	sh := newShared()
	sh.latency = time.Millisecond
	var addrs []string
	for range servers {
		_, ts := startServer(t, sh.node(), Options{})
		addrs = append(addrs, ts.Listener.Addr().String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	all := make(map[string][]*client.Doc)
	var wg sync.WaitGroup
	errs := make(chan error, servers*perServer*docs)
	for e := range servers * perServer {
		c, err := client.Dial(ctx, "ws://"+addrs[e%servers]+"/ws", client.Options{
			ClientID: fmt.Sprintf("ed-%d", e), Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		for k := range docs {
			id := fmt.Sprintf("doc-%d", k)
			d, err := c.Join(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			all[id] = append(all[id], d)
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(seed, 11))
				for range edits {
					if err := sharedEdit(r, d); err != nil {
						errs <- err
						return
					}
				}
			}(uint64(e*10 + k))
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for id, ds := range all {
		checkShared(t, ctx, sh, id, ds)
	}
	t.Logf("%d commits refused and retried", sh.conflicts.Load())
}

var editAlphabet = []string{"a", "é", "汉", "😀", "👋🏽", " ", "\n"}

func sharedEdit(r *rand.Rand, d *client.Doc) error {
	n := d.Len()
	if n > 0 && r.IntN(3) == 0 {
		pos := r.IntN(n)
		return d.Delete(pos, 1+r.IntN(min(3, n-pos)))
	}
	return d.Insert(r.IntN(n+1), editAlphabet[r.IntN(len(editAlphabet))])
}

// checkShared waits until every editor is acknowledged and at the stored
// head, and checks the texts, the log's replay and each client's seqs.
func checkShared(t *testing.T, ctx context.Context, st storage.Store, id string, docs []*client.Doc) {
	t.Helper()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("%s: WaitSynced: %v", id, err)
		}
	}
	stored, err := st.Load(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs {
		if err := d.WaitRev(ctx, stored.Rev); err != nil {
			t.Fatalf("%s: WaitRev(%d): %v", id, stored.Rev, err)
		}
		if got := d.Text(); got != stored.Text {
			t.Fatalf("%s editor %d: %q, store %q", id, i, got, stored.Text)
		}
	}
	if r := replay(t, st, id); r != stored.Text {
		t.Fatalf("%s: replay %q, stored %q", id, r, stored.Text)
	}
	recs, err := st.Ops(ctx, id, 0, stored.Rev)
	if err != nil {
		t.Fatal(err)
	}
	last := make(map[string]uint64)
	for _, r := range recs {
		if r.Client != "" && r.Seq != last[r.Client]+1 {
			t.Fatalf("%s: client %s seq %d after %d: each op exactly once", id, r.Client, r.Seq, last[r.Client])
		}
		last[r.Client] = r.Seq
	}
}

// expectMsg reads c's messages until one of type typ for which ok holds,
// skipping others of the kinds in skip.
func expectMsg[T any](t *testing.T, c *tclient, typ string, ok func(m T) bool, skip ...string) T {
	t.Helper()
	for {
		got, data := c.next()
		if got == typ {
			var m T
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			if ok(m) {
				return m
			}
			continue
		}
		if !slices.Contains(skip, got) {
			t.Fatalf("%s: got %s, want %s", c.id, data, typ)
		}
	}
}

// TestFollowPresence: the editors of one server see the editors of the
// others arrive, move their carets (moved through later ops, also when
// the caret is ahead of what the server has applied) and leave, and
// vanish when their server dies.
func TestFollowPresence(t *testing.T) {
	sh := newShared()
	na, nb := sh.node(), sh.node()
	_, tsA := startServer(t, na, Options{})
	_, tsB := startServer(t, nb, Options{})
	a := connect(t, tsA, "ca")
	a.join("d", nil)
	b := connect(t, tsB, "cb")
	b.join("d", nil)
	isEditor := func(client, event string) func(wire.Editor) bool {
		return func(m wire.Editor) bool { return m.Client == wire.PublicID(client) && m.Event == event }
	}
	expectMsg(t, b, wire.TypeEditor, isEditor("ca", wire.EventJoin), wire.TypePresence)
	expectMsg(t, a, wire.TypeEditor, isEditor("cb", wire.EventJoin), wire.TypePresence)

	a.submit("d", 0, 1, insertAt(0, 0, "hello"))
	a.ack(1)
	expectOp(t, b, 1, `["hello"]`)
	a.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 2, Head: 4})
	p := expectMsg(t, b, wire.TypePresence, func(m wire.Presence) bool { return m.Client == wire.PublicID("ca") })
	if p.Rev != 1 || p.Anchor != 2 || p.Head != 4 || p.Name != "name-ca" {
		t.Fatalf("b saw a's caret %+v, want rev 1 at 2-4", p)
	}

	// A caret at a revision B has not applied yet waits for it.
	nb.pauseFeeds()
	a.submit("d", 1, 2, insertAt(5, 0, ">>"))
	a.ack(2)
	a.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 2, Anchor: 7, Head: 7})
	marker := connect(t, tsA, "marker") // its arrival on B comes after the caret
	marker.join("d", nil)
	expectMsg(t, b, wire.TypeEditor, isEditor("marker", wire.EventJoin))
	nb.resumeFeeds()
	expectOp(t, b, 2, `[">>",5]`)
	p = expectMsg(t, b, wire.TypePresence, func(m wire.Presence) bool { return m.Client == wire.PublicID("ca") })
	if p.Rev != 2 || p.Anchor != 7 {
		t.Fatalf("b saw a's caret %+v, want rev 2 at 7", p)
	}

	// A late joiner on B hears of a and of its caret.
	c := connect(t, tsB, "cc")
	c.join("d", nil)
	expectMsg(t, c, wire.TypeEditor, isEditor("ca", wire.EventJoin), wire.TypePresence)

	a.send(wire.Leave{Type: wire.TypeLeave, Doc: "d"})
	expectMsg(t, b, wire.TypeEditor, isEditor("ca", wire.EventLeave), wire.TypePresence)

	a2 := connect(t, tsA, "ca2")
	a2.join("d", nil)
	expectMsg(t, b, wire.TypeEditor, isEditor("ca2", wire.EventJoin), wire.TypePresence)
	na.gone()
	expectMsg(t, b, wire.TypeEditor, isEditor("ca2", wire.EventLeave), wire.TypePresence)
}

// TestFollowResequence: when a record from another server lands before
// two pending ops, the second is transformed again from its original form
// over the record and then over the first, the path its author's client
// takes. Transforming the already transformed op over the record instead
// gives another op here (text OT lacks TP2): ["b",1] over ["a",1,"a"] and
// [-1] must be [1,"b",1], not [2,"b"].
func TestFollowResequence(t *testing.T) {
	sh := newShared()
	na := sh.node()
	_, tsA := startServer(t, na, Options{})
	_, tsB := startServer(t, sh.node(), Options{})
	x := connect(t, tsA, "cx")
	x.join("d", nil)
	x.submit("d", 0, 1, insertAt(0, 0, "x"))
	x.ack(1)
	y := connect(t, tsA, "cy")
	y.join("d", nil)
	z := connect(t, tsB, "cz")
	z.join("d", nil)

	gate := na.holdAppends()
	x.submit("d", 1, 2, deleteAt(1, 0, 1))
	release := <-gate // x's delete is in flight and waits
	y.submit("d", 1, 1, insertAt(1, 0, "b"))
	y.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 0, Head: 0})
	// y's caret reaches x after y's submit was sequenced behind x's delete.
	expectMsg(t, x, wire.TypePresence, func(m wire.Presence) bool { return m.Client == wire.PublicID("cy") }, wire.TypeEditor)
	var b ot.Builder
	z.submit("d", 1, 1, b.Insert("a").Retain(1).Insert("a").Op())
	z.ack(1)
	na.passAppends()
	close(release)

	expectOp(t, z, 3, `[1,-1,1]`)
	expectOp(t, z, 4, `[1,"b",1]`)
	expectStored(t, sh, "d", "aba", 4)
}

// TestFollowReplacedAcrossServers: a client id joining a document on one
// server closes the connection editing it under that id on another (4001),
// as on one server, so that the two never number their submits alike.
func TestFollowReplacedAcrossServers(t *testing.T) {
	sh := newShared()
	_, tsA := startServer(t, sh.node(), Options{})
	_, tsB := startServer(t, sh.node(), Options{})
	old := connect(t, tsA, "tab")
	old.join("d", nil)
	other := connect(t, tsA, "other") // stays: another client id
	other.join("d", nil)
	dup := connect(t, tsB, "tab")
	dup.join("d", nil)
	if code := old.closeCode(); code != wire.CloseReplaced {
		t.Fatalf("the older connection closed with %d, want %d", code, wire.CloseReplaced)
	}
	dup.submit("d", 0, 1, insertAt(0, 0, "x"))
	dup.ack(1)
	expectOp(t, other, 1, `["x"]`)
}

// TestFollowStaleJoin: a join heard from another server replaces only a
// connection that joined before it: the join of a connection since closed
// can arrive after its client reconnected here.
func TestFollowStaleJoin(t *testing.T) {
	sh := newShared()
	nb := sh.node()
	_, tsB := startServer(t, nb, Options{})
	x := connect(t, tsB, "cx")
	x.join("d", nil)
	other := sh.node() // a server that only speaks on the bus
	hear := func(client string, joined time.Time) {
		data, err := json.Marshal(busMsg{Kind: busJoin, Editors: []busEditor{{Client: client, Name: "elsewhere", Joined: joined.UnixNano()}}})
		if err != nil {
			t.Fatal(err)
		}
		other.Publish("d", data)
	}
	hear("cx", time.Now().Add(-time.Minute))
	// x does not hear of itself; the arrival of another client after it
	// shows the stale join was handled with x still there.
	hear("cy", time.Now())
	expectMsg(t, x, wire.TypeEditor, func(m wire.Editor) bool {
		if m.Client == wire.PublicID("cx") {
			t.Fatalf("x heard of itself: %+v", m)
		}
		return m.Client == wire.PublicID("cy")
	})
	hear("cx", time.Now().Add(time.Minute))
	if code := x.closeCode(); code != wire.CloseReplaced {
		t.Fatalf("x closed with %d after a newer join elsewhere, want %d", code, wire.CloseReplaced)
	}
}

// TestFollowRefusedWithoutProgress: commits refused without anything new
// in the log (JetStream refuses an expected sequence while another
// message for the subject is being replicated) are retried with backoff
// until they land, and the editor is not told unavailable; refused for
// longer than the store's deadline, the op is refused with unavailable
// and the editor's resubmission is taken.
func TestFollowRefusedWithoutProgress(t *testing.T) {
	n := newShared().node()
	_, ts := startServer(t, n, Options{})
	x := connect(t, ts, "cx")
	x.join("d", nil)
	n.refuse.Store(10)
	x.submit("d", 0, 1, insertAt(0, 0, "a"))
	if a := expectMsg(t, x, wire.TypeAck, func(wire.Ack) bool { return true }); a.Seq != 1 || a.Rev != 1 {
		t.Fatalf("ack %+v, want seq 1 rev 1", a)
	}
	if left := n.refuse.Load(); left != 0 {
		t.Fatalf("%d refusals left: the commit landed without retrying through them", left)
	}

	n = newShared().node()
	_, ts = startServer(t, n, Options{StoreTimeout: 100 * time.Millisecond})
	x = connect(t, ts, "cx")
	x.join("d", nil)
	n.refuse.Store(math.MaxInt64)
	x.submit("d", 0, 1, insertAt(0, 0, "b"))
	if e := expectMsg(t, x, wire.TypeError, func(wire.Error) bool { return true }); e.Code != wire.CodeUnavailable || e.Seq != 1 {
		t.Fatalf("error %+v, want unavailable for seq 1", e)
	}
	n.refuse.Store(0)
	x.submit("d", 0, 1, insertAt(0, 0, "b"))
	if a := expectMsg(t, x, wire.TypeAck, func(wire.Ack) bool { return true }); a.Seq != 1 || a.Rev != 1 {
		t.Fatalf("ack %+v, want seq 1 rev 1", a)
	}
}

// TestFollowReplacedAfterLostJoin: a client id joins a document on one
// server while it edits it on another, and the join is lost on the bus.
// Once the servers exchange their editors again (after a reconnection),
// the older connection is closed with 4001, whichever server resyncs: the
// newer's state names it, or the older's state makes the newer announce
// itself again. The newer connection goes on editing.
func TestFollowReplacedAfterLostJoin(t *testing.T) {
	for _, newerResyncs := range []bool{true, false} {
		t.Run(fmt.Sprintf("newer resyncs %v", newerResyncs), func(t *testing.T) {
			sh := newShared()
			na, nb := sh.node(), sh.node()
			_, tsA := startServer(t, na, Options{})
			_, tsB := startServer(t, nb, Options{})
			older := connect(t, tsA, "tab")
			older.join("d", nil)
			nb.mute.Store(true)
			newer := connect(t, tsB, "tab")
			newer.join("d", nil) // its join, and its server's request for editors, are lost
			nb.mute.Store(false)
			if newerResyncs {
				nb.resync()
			} else {
				na.resync()
			}
			if code := older.closeCode(); code != wire.CloseReplaced {
				t.Fatalf("the older connection closed with %d, want %d", code, wire.CloseReplaced)
			}
			newer.submit("d", 0, 1, insertAt(0, 0, "x"))
			if a := expectMsg(t, newer, wire.TypeAck, func(wire.Ack) bool { return true }, wire.TypeEditor, wire.TypePresence); a.Seq != 1 {
				t.Fatalf("ack %+v, want seq 1", a)
			}
		})
	}
}
