package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/internal/bench/stats"
)

// workload is what the editors do.
type workload struct {
	docs, editors int
	typists       int     // editors per document that type (the first ones); the rest only receive
	rate          float64 // edits per second per editor; 0: as fast as acks allow
	duration      time.Duration
	seed          uint64
	maxLen        int           // documents are kept around this length
	drain         time.Duration // how long to wait for the last acks and deliveries
	dialers       int           // connections opened at once
	runID         string        // makes document and client ids unique per run
	readers       string        // client of the editors that do not type: go or wire
	conns         int           // connections spread over the documents; 0: docs × editors
}

// editorsOf returns how many editors document i has: editors, or with
// conns set, conns spread evenly (the first documents get one more).
func (wl *workload) editorsOf(i int) int {
	if wl.conns == 0 {
		return wl.editors
	}
	n := wl.conns / wl.docs
	if i < wl.conns%wl.docs {
		n++
	}
	return n
}

// connections returns the number of editors in all documents.
func (wl *workload) connections() int {
	if wl.conns == 0 {
		return wl.docs * wl.editors
	}
	return wl.conns
}

// docState tracks one document's editors and correlates acks with
// deliveries by revision: the author's ack says which revision its submit
// became and when the submit was sent; each other editor's op event for that
// revision is an arrival.
type docState struct {
	id       string
	others   int // editors that should receive each op: editors-1
	sessions []session

	mu      sync.Mutex           // guards the fields below
	pending map[uint64]*revEntry // revisions still missing their ack or an arrival
	ack     stats.Recorder       // submit to ack, one per acknowledged submit
	deliv   stats.Recorder       // submit to arrival, one per (revision, other editor)
}

type revEntry struct {
	sent    time.Time
	known   bool        // the ack arrived: sent is set
	early   []time.Time // arrivals seen before the ack
	arrived int
}

type engine struct {
	wl  workload
	sys system
	// wireReaders opens the editors that do not type with the minimal
	// wire reader (sys is collabd) rather than like the others.
	wireReaders bool
	nodes       []*nodeStats // a cluster's nodes, in sys's order; nil for one server
	t0          time.Time    // typing starts
	log         io.Writer

	edits, acks, deliveries atomic.Int64
	reconnects, errs        atomic.Int64
	rejects, missed, skew   atomic.Int64
	open                    atomic.Int64 // revisions missing their ack or an arrival
}

// acked records the ack of revision rev, whose submit left at sent (zero
// if unknown: then its deliveries are counted but not measured).
func (d *docState) acked(e *engine, rev uint64, sent, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !sent.IsZero() {
		d.ack.Add(now.Sub(e.t0), now.Sub(sent))
	}
	if d.others == 0 {
		return
	}
	en := d.entry(e, rev)
	en.sent, en.known = sent, true
	for _, t := range en.early {
		d.addDelivery(e, t, sent)
	}
	en.arrived += len(en.early)
	en.early = nil
	d.settle(e, rev, en)
}

func (d *docState) arrived(e *engine, rev uint64, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	en := d.entry(e, rev)
	if !en.known {
		en.early = append(en.early, now)
		return
	}
	d.addDelivery(e, now, en.sent)
	en.arrived++
	d.settle(e, rev, en)
}

func (d *docState) addDelivery(e *engine, at, sent time.Time) {
	if !sent.IsZero() {
		d.deliv.Add(at.Sub(e.t0), at.Sub(sent))
	}
}

func (d *docState) entry(e *engine, rev uint64) *revEntry {
	en := d.pending[rev]
	if en == nil {
		en = &revEntry{}
		d.pending[rev] = en
		e.open.Add(1)
	}
	return en
}

func (d *docState) settle(e *engine, rev uint64, en *revEntry) {
	if en.known && en.arrived >= d.others {
		delete(d.pending, rev)
		e.open.Add(-1)
	}
}

// connect opens every editor's session, a few at a time.
func (e *engine) connect(ctx context.Context) ([]*docState, error) {
	docs := make([]*docState, e.wl.docs)
	for i := range docs {
		n := e.wl.editorsOf(i)
		docs[i] = &docState{
			id:       fmt.Sprintf("bench-%s-%d", e.wl.runID, i),
			others:   n - 1,
			sessions: make([]session, n),
			pending:  make(map[uint64]*revEntry),
		}
	}
	type slot struct{ doc, ed int }
	var slots []slot
	for i, d := range docs {
		for j := range d.sessions {
			slots = append(slots, slot{i, j})
		}
	}
	total := len(slots)
	var (
		wg       sync.WaitGroup
		next     atomic.Int64
		done     atomic.Int64
		firstErr error
		errOnce  sync.Once
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range max(1, e.wl.dialers) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= total || ctx.Err() != nil {
					return
				}
				d, ed := docs[slots[k].doc], slots[k].ed
				client := fmt.Sprintf("b%s-%d-%d", e.wl.runID, slots[k].doc, ed)
				sys := e.sys
				if cs, ok := sys.(*clusterSystem); ok {
					sys = cs.nodes[cs.nodeOf(slots[k].doc, ed)]
				}
				open := sys.open
				if ed >= e.wl.typists && e.wireReaders {
					open = sys.(*clientSystem).openReader
				}
				s, err := open(ctx, d.id, client)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("connect editor %d of %s: %w%s", ed, d.id, err, hint(err)); cancel() })
					return
				}
				d.sessions[ed] = s
				if n := done.Add(1); n%1000 == 0 {
					fmt.Fprintf(e.log, "connected %d/%d\n", n, total)
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		closeAll(docs)
		return nil, firstErr
	}
	return docs, ctx.Err()
}

// hint explains a refused handshake that a server flag can allow.
func hint(err error) string {
	var he *client.HandshakeError
	if errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests {
		return " (the server limits new and open connections per IP: start collabd with -conn-rate 0 -max-conns-per-ip 0)"
	}
	return ""
}

func closeAll(docs []*docState) {
	for _, d := range docs {
		for _, s := range d.sessions {
			if s != nil {
				s.Close()
				for range s.Events() {
				}
			}
		}
	}
}

// editor is one editor's loop: it types on its schedule and handles its
// session's events. The times a submit left and its ack and ops arrived
// are those of the socket (see tap.go), so the load generator's own
// scheduling delays after a read are not counted; an ack whose submit was
// never seen leaving is counted as skew and not measured.
type editor struct {
	e       *engine
	d       *docState
	s       session
	gen     *editGen
	rng     *rand.Rand
	stop    <-chan struct{} // closed when typing ends
	stopped *sync.WaitGroup // Done once run makes no more edits

	typist bool       // it types; otherwise it only receives
	node   *nodeStats // its node in a cluster; nil for one server

	wasOffline bool
	made       atomic.Int64 // edits made while typing; read by the report
}

func (ed *editor) run(ctx context.Context) {
	var tick <-chan time.Time
	var timer *time.Timer
	var next time.Time
	var interval time.Duration
	switch {
	case !ed.typist:
		// A reader: it only handles what arrives.
	case ed.e.wl.rate > 0:
		interval = time.Duration(float64(time.Second) / ed.e.wl.rate)
		next = ed.e.t0.Add(time.Duration(ed.rng.Int64N(int64(interval)))) // spread editors evenly
		timer = time.NewTimer(time.Until(next))
		defer timer.Stop()
		tick = timer.C
	default:
		ed.edit()
	}
	typing := ed.typist
	stop := ed.stop
	events := ed.s.Events()
	stopped := sync.OnceFunc(ed.stopped.Done)
	defer stopped()
	for {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			// An ack taken with stop already closed may have made one more
			// edit: the drain waits for this, then for that edit's ack.
			typing, stop, tick = false, nil, nil
			stopped()
		case <-tick:
			ed.edit()
			next = next.Add(interval)
			timer.Reset(time.Until(next))
		case ev, ok := <-events:
			if !ok {
				return
			}
			ed.handle(ev)
			if typing && interval == 0 && (ev.Kind == client.EventAck || ev.Kind == client.EventReject) && ed.s.Synced() {
				ed.edit() // as fast as acks allow
			}
		}
	}
}

func (ed *editor) edit() {
	ed.apply(ed.gen.next)
}

// apply makes one local edit.
func (ed *editor) apply(choose func(n int) (pos, del int, ins string)) bool {
	if err := ed.s.Edit(choose); err != nil {
		ed.e.errs.Add(1)
		return false
	}
	ed.e.edits.Add(1)
	ed.made.Add(1)
	return true
}

func (ed *editor) handle(ev client.Event) {
	e := ed.e
	if ev.Missed > 0 {
		e.missed.Add(int64(ev.Missed))
	}
	switch ev.Kind {
	case client.EventAck:
		now, ok := ed.s.AckAt(ev.Seq)
		if !ok { // acknowledged by a rejoin's catch-up, not an ack frame
			now = time.Now()
		}
		e.acks.Add(1)
		if ed.node != nil {
			ed.node.acks.Add(1)
		}
		sent, ok := ed.s.SentAt(ev.Seq)
		if !ok {
			e.skew.Add(1) // counted, not measured
		}
		ed.d.acked(e, ev.Rev, sent, now)
	case client.EventReject:
		e.rejects.Add(1)
		ed.s.SentAt(ev.Seq)
	case client.EventOp:
		e.deliveries.Add(1)
		if ed.node != nil {
			ed.node.delivs.Add(1)
		}
		at, ok := ed.s.OpAt(ev.Rev)
		if !ok {
			at = time.Now()
		}
		ed.d.arrived(e, ev.Rev, at)
	case client.EventStatus:
		switch ev.Status {
		case client.StatusOffline:
			ed.wasOffline = true
		case client.StatusOnline:
			if ed.wasOffline { // the first online is the join itself
				e.reconnects.Add(1)
				if ed.node != nil {
					ed.node.reconns.Add(1)
				}
				ed.wasOffline = false
			}
		default:
			e.errs.Add(1) // closed for good
		}
	case client.EventError, client.EventReset:
		// A reset means the client lost its place in the op stream.
		e.errs.Add(1)
	}
}
