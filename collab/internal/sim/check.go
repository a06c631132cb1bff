package sim

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing/synctest"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// The rules checked (docs/protocol.md, "How the protocol is verified"):
//
// When a message reaches a client:
//   - an ack of seq s as revision r goes to the client whose op (client, s)
//     is revision r of the history;
//   - an op of revision r is the history's revision r (op, author, seq);
//   - joined carries the text of its revision, or the history's records.
//
// At every quiescent point (the network empty, no commit waiting, every
// client online, synchronised and at the head):
//   - every client's text is the stored text, at the stored revision;
//   - every marker inserted is in that text once, whole or split (see
//     checkMarkers);
//   - the history, replayed from revision 0, gives that text;
//   - no (client, seq) is twice in the history, and each client's seqs
//     increase.

// deliver delivers unit u and checks what it carries.
func (w *World) deliver(u Unit) {
	data, head, eof := w.net.deliver(u)
	switch {
	case eof:
		w.logf("%s%s EOF", u.L, u.D)
	case head:
		line, _, _ := bytes.Cut(data, []byte("\r\n"))
		w.logf("%s%s %s", u.L, u.D, line)
	default:
		w.frame(u, data)
	}
}

// frame reads one WebSocket frame (RFC 6455 section 5.2).
func (w *World) frame(u Unit, f []byte) {
	p := u.L.pipe(u.D)
	if p.raw || len(f) < 2 {
		w.logf("%s%s %d bytes", u.L, u.D, len(f))
		return
	}
	fin, op, payload := parseFrame(f)
	switch op {
	case 0, 1:
		msg := append(w.frags[p], payload...)
		if !fin {
			w.frags[p] = msg
			w.logf("%s%s fragment of %d bytes", u.L, u.D, len(payload))
			return
		}
		delete(w.frags, p)
		w.message(u, msg)
	case 8:
		code := 1005
		if len(payload) >= 2 {
			code = int(binary.BigEndian.Uint16(payload))
		}
		w.stats[fmt.Sprintf("close %d%s", code, u.D)]++
		w.logf("%s%s close %d", u.L, u.D, code)
	case 9, 10:
		w.logf("%s%s control %d", u.L, u.D, op)
	default:
		w.logf("%s%s opcode %d", u.L, u.D, op)
	}
}

// serverMsg holds the fields of the server's messages that are checked.
type serverMsg struct {
	Type   string        `json:"type"`
	Rev    uint64        `json:"rev"`
	Seq    uint64        `json:"seq"`
	Op     ot.Op         `json:"op"`
	Client string        `json:"client"`
	Text   *string       `json:"text"`
	Ops    []wire.Record `json:"ops"`
	Reset  bool          `json:"reset"`
	Code   string        `json:"code"`
}

func (w *World) message(u Unit, data []byte) {
	if u.D == Up {
		w.logf("%s%s %s", u.L, u.D, data)
		w.upstream(u.L.Client, data)
		return
	}
	var m serverMsg
	if err := json.Unmarshal(data, &m); err != nil {
		w.bad = append(w.bad, fmt.Sprintf("%s: undecodable message %s: %v", u.L, data, err))
		return
	}
	key := ""
	if m.Type == wire.TypeEditor {
		// The server lists the editors of a document in its map's order,
		// which no seed decides: hash only that an editor event came.
		key = fmt.Sprintf("%d: %s%s editor", w.step, u.L, u.D)
	}
	w.logAs(key, "%s%s %s", u.L, u.D, data)
	if c := w.client(u.L.Client); c != nil {
		w.recordRecv(c, u.L, m, data)
	}
	switch m.Type {
	case wire.TypeAck:
		w.checkAck(u.L.Client, m)
		k := fmt.Sprint(u.L.Client, m.Seq)
		if w.acked[k] {
			w.stats["ack again"]++
		}
		w.acked[k] = true
	case wire.TypeOp:
		w.checkRecord(u.L, wire.Record{Rev: m.Rev, Op: m.Op, Client: m.Client, Seq: m.Seq})
	case wire.TypeJoined:
		w.checkJoined(u.L, m)
	case wire.TypeError:
		w.stats["error "+m.Code]++
	}
}

func (w *World) checkAck(client string, m serverMsg) {
	w.disk.mu.Lock()
	defer w.disk.mu.Unlock()
	h := w.disk.history
	if m.Rev == 0 || m.Rev > uint64(len(h)) {
		w.bad = append(w.bad, fmt.Sprintf("ack of %s seq %d names rev %d; the history has %d", client, m.Seq, m.Rev, len(h)))
		return
	}
	if r := h[m.Rev-1]; r.Client != client || r.Seq != m.Seq {
		w.bad = append(w.bad, fmt.Sprintf("ack of %s seq %d names rev %d, which holds %s seq %d", client, m.Seq, m.Rev, r.Client, r.Seq))
	}
}

// checkRecord checks an op sent to l's client against the history.
func (w *World) checkRecord(l *Link, got wire.Record) {
	w.disk.mu.Lock()
	defer w.disk.mu.Unlock()
	h := w.disk.history
	if got.Rev == 0 || got.Rev > uint64(len(h)) {
		w.bad = append(w.bad, fmt.Sprintf("%s got rev %d; the history has %d", l, got.Rev, len(h)))
		return
	}
	r := h[got.Rev-1]
	if !r.Op.Equal(got.Op) || wire.PublicID(r.Client) != got.Client || r.Seq != got.Seq {
		w.bad = append(w.bad, fmt.Sprintf("%s got rev %d as %v by %s seq %d; the history has %v by %s seq %d",
			l, got.Rev, got.Op, got.Client, got.Seq, r.Op, r.Client, r.Seq))
	}
}

// upstream notes, of a client's message reaching the server, what makes
// the reset race possible: a resuming join while a submit of the client's
// is on the server, not committed.
func (w *World) upstream(client string, data []byte) {
	var m struct {
		Type string  `json:"type"`
		Seq  uint64  `json:"seq"`
		Rev  *uint64 `json:"rev"`
	}
	if json.Unmarshal(data, &m) != nil {
		return
	}
	switch {
	case m.Type == wire.TypeSubmit:
		w.submitted[client] = max(w.submitted[client], m.Seq)
	case m.Type == wire.TypeJoin && m.Rev != nil && w.submitted[client] > w.disk.committed(client):
		w.stats["resuming join, own submit uncommitted"]++
		w.racy[client] = w.submitted[client]
	}
}

func (w *World) checkJoined(l *Link, m serverMsg) {
	if seq, ok := w.racy[l.Client]; ok {
		delete(w.racy, l.Client)
		if w.disk.committed(l.Client) >= seq {
			w.stats["resuming join, own submit committed before joined"]++
		} else {
			w.stats["resuming join, own submit not committed at joined"]++
		}
	}
	if m.Reset {
		w.stats["joined reset"]++
	} else if m.Text == nil {
		w.stats["joined ops"]++
	}
	for _, r := range m.Ops {
		w.checkRecord(l, r)
	}
	w.disk.mu.Lock()
	defer w.disk.mu.Unlock()
	if m.Rev >= uint64(len(w.disk.texts)) {
		w.bad = append(w.bad, fmt.Sprintf("%s joined at rev %d; the history has %d", l, m.Rev, len(w.disk.history)))
	} else if m.Text != nil && *m.Text != w.disk.texts[m.Rev] {
		w.bad = append(w.bad, fmt.Sprintf("%s joined with %q at rev %d, which is %q", l, *m.Text, m.Rev, w.disk.texts[m.Rev]))
	}
}

// settle heals everything and runs the world, without faults, until it is
// quiescent (see quiet).
func (w *World) settle() error {
	w.net.heal()
	clear(w.cut)
	if w.srv == nil {
		w.start()
	}
	synctest.Wait()
	deadline := time.Now().Add(10 * time.Minute)
	for i := 0; time.Now().Before(deadline) && i < 100000; i++ {
		if err := w.observe(); err != nil {
			return err
		}
		if w.quiet() {
			return nil
		}
		if us := w.net.ready(); len(us) > 0 {
			w.deliver(us[w.rng.IntN(len(us))])
		} else if !w.decide(true) {
			time.Sleep(100 * time.Millisecond)
		}
		synctest.Wait()
	}
	return fmt.Errorf("not quiescent after 10 virtual minutes: %s", w.describe())
}

// quiet reports a quiescent point: nothing to deliver, no commit waiting,
// every client joined, online, synchronised and at the stored head.
func (w *World) quiet() bool {
	if len(w.net.ready()) > 0 || w.disk.pending() > 0 {
		return false
	}
	head := w.head()
	for _, c := range w.clients {
		if c.doc == nil || c.conn.Status() != client.StatusOnline || c.doc.Status() != client.StatusOnline ||
			c.doc.Pending() != 0 || c.doc.Rev() != head {
			return false
		}
	}
	return true
}

func (w *World) head() uint64 {
	w.disk.mu.Lock()
	defer w.disk.mu.Unlock()
	return uint64(len(w.disk.history))
}

func (w *World) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "head %d, %d commits waiting, %d units ready, server up %v;", w.head(), w.disk.pending(), len(w.net.ready()), w.net.up())
	for _, c := range w.clients {
		if c.doc == nil {
			fmt.Fprintf(&b, " %s not joined;", c.name)
			continue
		}
		fmt.Fprintf(&b, " %s conn %v doc %v pending %d rev %d err %v;", c.name, c.conn.Status(), c.doc.Status(), c.doc.Pending(), c.doc.Rev(), c.doc.Err())
	}
	return b.String()
}

// check checks the rules of a quiescent point.
func (w *World) check() error {
	w.disk.mu.Lock()
	head := uint64(len(w.disk.history))
	text := w.disk.texts[head]
	hist := w.disk.history
	w.disk.mu.Unlock()
	w.logf("quiescent at rev %d: %q", head, text)
	w.stats["quiescent"]++
	if head > 0 {
		stored, err := w.disk.mem.Load(w.ctx, Doc)
		if err != nil || stored.Text != text || stored.Rev != head {
			return fmt.Errorf("stored %q at rev %d (%v); the history replays to %q at rev %d", stored.Text, stored.Rev, err, text, head)
		}
	}
	for _, c := range w.clients {
		if got := c.doc.Text(); got != text {
			return fmt.Errorf("%s diverged at rev %d: it has %q, the server %q", c.name, head, got, text)
		}
	}
	if err := w.checkMarkers(text); err != nil {
		return err
	}
	last := map[string]uint64{}
	for _, r := range hist {
		if r.Client == "" {
			continue
		}
		if r.Seq <= last[r.Client] {
			return fmt.Errorf("rev %d: %s seq %d after its seq %d", r.Rev, r.Client, r.Seq, last[r.Client])
		}
		last[r.Client] = r.Seq
	}
	return nil
}

// checkMarkers checks that every marker inserted is in text once. A whole
// marker must occur once; a marker split by another editor's insert still
// counts: a reset rebases pending ops over a diff, which may move an insert
// into another editor's word (docs/protocol.md). So once each whole marker
// is taken out, what is left without filler must be exactly the code points
// of the split ones. (Counting code points alone would pass «A12» lost and
// «A21» doubled.) Config.WholeMarkers also requires every marker to be
// whole.
func (w *World) checkMarkers(text string) error {
	var all []string
	for _, c := range w.clients {
		all = append(all, c.markers...)
	}
	if err := markersOnce(text, all); err != nil {
		return err
	}
	for _, c := range w.clients {
		for _, m := range c.markers {
			if strings.Count(text, m) == 1 {
				continue
			}
			w.stats["marker split"]++
			w.logf("marker %s of %s split", m, c.name)
			if w.cfg.WholeMarkers {
				return fmt.Errorf("marker %s of %s is not whole in %q", m, c.name, text)
			}
		}
	}
	return nil
}

// markersOnce reports an error unless each of markers is in text once,
// whole or split (see checkMarkers).
func markersOnce(text string, markers []string) error {
	rest := text
	want := map[rune]int{}
	var bad []string
	for _, m := range markers {
		switch n := strings.Count(text, m); n {
		case 0:
			for _, r := range m {
				want[r]++
			}
		case 1:
			rest = strings.Replace(rest, m, "", 1)
		default:
			bad = append(bad, fmt.Sprintf("%s×%d", m, n))
		}
	}
	got := map[rune]int{}
	for _, r := range rest {
		if !isFiller(r) {
			got[r]++
		}
	}
	if len(bad) > 0 || !maps.Equal(got, want) {
		return fmt.Errorf("markers lost or doubled in %q (doubled: %v; split or lost ones want %v, the rest has %v)", text, bad, runeCounts(want), runeCounts(got))
	}
	return nil
}

// runeCounts prints counts of code points in a stable order.
func runeCounts(m map[rune]int) string {
	rs := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%c%d ", r, m[r])
	}
	return strings.TrimSpace(b.String())
}
