package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/collabd/collab/ot"
)

// action is one kind of step. do reports whether it did something.
type action struct {
	name   string
	weight int
	do     func() bool
}

// actions are the steps the World draws from, by weight: mostly
// deliveries, edits and commits, so that work gets done between faults.
func (w *World) actions() []action {
	return []action{
		{"deliver", 200, w.deliverOne},
		{"edit", 30, w.edit},
		{"commit", 30, w.commitThenStall},
		{"tick", 16, w.tick},
		{"fail commit", 2, func() bool { return w.stall == 0 && w.decide(false) }},
		{"cut", 2, func() bool { return w.cutLink(false) }},
		{"half-open", 4, func() bool { return w.cutLink(true) }},
		{"partition", 2, w.partition},
		{"heal", 3, w.heal},
		{"hold", 2, w.hold},
		{"crash", 1, w.crashServer},
		{"restart", 6, w.restart},
		{"prune", 2, w.prune},
		{"check", 2, w.checkpoint},
	}
}

func (w *World) deliverOne() bool {
	us := w.net.ready()
	if len(us) == 0 {
		return false
	}
	w.deliver(us[w.rng.IntN(len(us))])
	return true
}

func (w *World) decide(durable bool) bool {
	what, ok := w.disk.decide(durable)
	if ok {
		w.logf("commit %s", what)
	}
	return ok
}

// tick lets up to half a second of virtual time pass: timers fire
// (backoffs, pings, timeouts).
func (w *World) tick() bool {
	d := time.Duration(1+w.rng.IntN(500)) * time.Millisecond
	w.logf("tick %v", d)
	time.Sleep(d)
	return true
}

func (w *World) pickLink(helloed bool) *Link {
	ls := w.net.liveLinks(helloed)
	if len(ls) == 0 {
		return nil
	}
	return ls[w.rng.IntN(len(ls))]
}

// cutLink resets a link, or cuts it under its client only (half-open):
// the client reconnects while the server still holds the old connection,
// which the new one replaces (close 4001). With Config.StaleHello a link
// may be cut half-open before its hello reached the server, whose hello
// then arrives after the next connection's: the server must close the
// older connection, not the live one (TestSim runs so by default; the
// regression seeds predate it and run without).
func (w *World) cutLink(half bool) bool {
	l := w.pickLink(half && !w.cfg.StaleHello)
	if l == nil {
		return false
	}
	w.net.cut(l, half)
	w.logf("cut %s half-open=%v", l, half)
	return true
}

func (w *World) partition() bool {
	c := w.clients[w.rng.IntN(len(w.clients))]
	w.cut[c.name] = true
	w.net.partition(c.name, true)
	w.logf("partition %s", c.name)
	return true
}

func (w *World) heal() bool {
	for _, c := range w.clients { // in order: the map's is random
		if w.cut[c.name] {
			delete(w.cut, c.name)
			w.net.partition(c.name, false)
			w.logf("heal %s", c.name)
			return true
		}
	}
	return false
}

// hold stops a link's server-to-client direction for a while, with a small
// window: its reader is too slow, and the server's queue for it fills.
func (w *World) hold() bool {
	l := w.pickLink(false)
	if l == nil {
		return false
	}
	steps := 5 + w.rng.IntN(40)
	w.net.hold(Unit{l, Down}, steps)
	w.logf("hold %s for %d steps", l, steps)
	return true
}

// commitThenStall makes the waiting commit durable and, now and then,
// decides no other for a while (a slow disk): the ops sequenced meanwhile
// stay uncommitted while their authors come and go, and while the revisions
// just committed put a rejoining author far behind.
func (w *World) commitThenStall() bool {
	if w.stall > 0 || !w.decide(true) {
		return false
	}
	if w.rng.IntN(4) == 0 {
		w.stall = 10 + w.rng.IntN(60)
		w.logf("slow disk for %d steps", w.stall)
	}
	return true
}

func (w *World) crashServer() bool {
	if w.srv == nil {
		return false
	}
	w.crash()
	return true
}

func (w *World) restart() bool {
	if w.srv != nil {
		return false
	}
	w.start()
	return true
}

// prune drops the stored history before a revision near the head.
func (w *World) prune() bool {
	w.disk.mu.Lock()
	head := len(w.disk.history)
	w.disk.mu.Unlock()
	if head == 0 {
		return false
	}
	rev := uint64(max(0, head-w.rng.IntN(6)))
	if err := w.disk.prune(Doc, rev); err != nil {
		w.bad = append(w.bad, fmt.Sprintf("prune: %v", err))
	}
	w.logf("prune before %d", rev)
	return true
}

func (w *World) checkpoint() bool {
	w.logf("check")
	if err := w.settle(); err != nil {
		w.bad = append(w.bad, err.Error())
		return true
	}
	if err := w.check(); err != nil {
		w.bad = append(w.bad, err.Error())
	}
	return true
}

// Markers are «, the client's letter, a number and »; filler is the rest.
// Edits insert a marker (with some filler) at a position outside every
// marker, or delete filler only: a marker inserted once must be in the
// final text exactly once.
const filler = "ab😀é"

func isFiller(r rune) bool { return r == 'a' || r == 'b' || r == '😀' || r == 'é' }

// edit makes a local edit on a client that has joined.
func (w *World) edit() bool {
	var ready []*simClient
	for _, c := range w.clients {
		if c.doc != nil {
			ready = append(ready, c)
		}
	}
	if len(ready) == 0 {
		return false
	}
	c := ready[w.rng.IntN(len(ready))]
	if w.rng.IntN(10) < 3 {
		return w.deleteFiller(c)
	}
	c.edits++
	marker := fmt.Sprintf("«%c%d»", 'A'+c.idx, c.edits)
	ins := w.fill() + marker + w.fill()
	var at int
	var op ot.Op
	err := c.doc.Edit(func(text string) (ot.Op, error) {
		rs := []rune(text)
		var spots []int
		for p := 0; p <= len(rs); p++ {
			if p == 0 || p == len(rs) || isFiller(rs[p-1]) || rs[p-1] == '»' {
				spots = append(spots, p)
			}
		}
		at = spots[w.near(len(spots))]
		var b ot.Builder
		op = b.Retain(at).Insert(ins).Retain(len(rs) - at).Op()
		return op, nil
	})
	if err != nil {
		w.logf("%s edit refused: %v", c.name, err)
		return false
	}
	w.recordEdit(c, op)
	c.markers = append(c.markers, marker)
	w.logf("%s inserts %q at %d", c.name, ins, at)
	return true
}

// near picks one of n places, half the time among the first four: edits
// that meet at one place are where transforms differ (ties, an insert next
// to a delete), and where a reset's diff may disagree with the ops.
func (w *World) near(n int) int {
	if w.rng.IntN(2) == 0 {
		return w.rng.IntN(min(n, 4))
	}
	return w.rng.IntN(n)
}

func (w *World) fill() string {
	fs := []rune(filler)
	s := make([]rune, w.rng.IntN(3))
	for i := range s {
		s[i] = fs[w.rng.IntN(len(fs))]
	}
	return string(s)
}

// deleteFiller deletes a run of up to 4 filler code points.
func (w *World) deleteFiller(c *simClient) bool {
	var at, n int
	var op ot.Op
	err := c.doc.Edit(func(text string) (ot.Op, error) {
		rs := []rune(text)
		var fs []int
		for i, r := range rs {
			if isFiller(r) {
				fs = append(fs, i)
			}
		}
		if len(fs) == 0 {
			return ot.Op{}, errNoFiller
		}
		at = fs[w.near(len(fs))]
		for n = 1; n < 4 && at+n < len(rs) && isFiller(rs[at+n]); n++ {
		}
		var b ot.Builder
		op = b.Retain(at).Delete(n).Retain(len(rs) - at - n).Op()
		return op, nil
	})
	if err != nil {
		return false
	}
	w.recordEdit(c, op)
	w.logf("%s deletes %d at %d", c.name, n, at)
	return true
}

var errNoFiller = errors.New("sim: no filler to delete")
