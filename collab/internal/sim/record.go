package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// With Config.Record, each Go client's run is written down as a
// transcript in the step format of the client vectors
// (testdata/client-vectors.json): every input the client got and what it
// sent because of it, its text and revision after. TestSimJavaScriptCore
// feeds the transcripts to the browser's sync core (web/jstest/sim-replay.js),
// which must send and hold the same.
//
// Inputs are read at the network boundary: a welcome (connect) or another
// message delivered on the client's connection, the end of that connection
// as the client noticed it (disconnect), and the schedule's edits. What the
// client sent is read from the bytes it wrote, after the World's
// synctest.Wait: a step delivers one unit or makes one edit, so everything
// a client wrote during a step is its answer to that step's input.
// Recording turns the client's rate limit off (Options.MaxRate), which
// would otherwise hold a submit back to a later step.
//
// Left out of the comparison, or made equal, because the browser's
// transport and not its sync core deals with them, or because the two
// clients differ on purpose (docs/protocol.md, "How the protocol is
// verified"):
//   - hello, pings and close frames: the transport's;
//   - the server's answer to a hello that is not a welcome (no session);
//   - after an error that makes it resynchronise, the Go client rejoins on
//     the same connection (leave, join), where the browser's core asks its
//     transport to reconnect (action "resync"); the replayer reconnects the
//     core and compares its join, without the leave and without the join's
//     rev (the Go client asks for the whole text unless the server said
//     not_joined, the browser resumes from its revision; after rev_too_old
//     the server answers with the text either way). The messages of that
//     connection which the Go client ignores until its joined (op, ack,
//     presence, editor, the leave's not_joined) never reach the browser's
//     core, whose connection is closed, and are left out;
//   - an input after which the Go client closed its connection to retry
//     later is marked action "unavailable", the browser core's word for it;
//   - the diff a reset rebases pending edits over: the clients' diffs
//     differ on purpose, so the Go client's are recorded (Step.Diffs) and
//     the browser's core gets the same op when it asks for the diff of the
//     same two texts (the replayer counts how often its own is the same).
//
// The simulation's editors set no caret (no presence is sent) and make
// edits too small to be split under the server's limits.

// Step is one input of a client and what the client did because of it.
type Step struct {
	At         int               `json:"at"` // the simulation's step
	Connect    bool              `json:"connect,omitempty"`
	Welcome    json.RawMessage   `json:"welcome,omitempty"`
	Disconnect bool              `json:"disconnect,omitempty"`
	Recv       json.RawMessage   `json:"recv,omitempty"`
	Edit       *ot.Op            `json:"edit,omitempty"`
	Diffs      []Diff            `json:"diffs,omitempty"`
	Action     string            `json:"action,omitempty"`
	Send       []json.RawMessage `json:"send"`
	Text       string            `json:"text"`
	Rev        uint64            `json:"rev"`
}

// Diff is a diff the Go client computed for a reset: its op turns Before
// into After. The replayer hands it to the browser's core when that asks
// for the same diff, as the two clients' diffs may differ (docs/protocol.md).
type Diff struct {
	Before string `json:"before"`
	After  string `json:"after"`
	Op     ot.Op  `json:"op"`
}

// Transcript is one client's steps in a run.
type Transcript struct {
	Name   string `json:"name"`
	Client string `json:"client"`
	Public string `json:"public"`
	Steps  []Step `json:"steps"`
}

// recorder is a client's transcript in the making. Only the World's
// goroutine uses it.
type recorder struct {
	t      Transcript
	link   *Link  // the connection whose welcome arrived, until the client closes it
	off    int    // of link.sent, read so far; -1: the hello is still to skip
	frag   []byte // a fragmented message being read
	input  *Step  // this step's input
	ignore string // the input's type, when the client may ignore it (see skippable)
	rejoin bool   // the client resynchronised on its connection and awaits joined
	err    error  // the first thing that could not be recorded

	mu    sync.Mutex
	diffs []Diff // guarded by mu; computed by the client since the last step
}

// diff is the client's Options.Diff: ot.Diff, recorded.
func (r *recorder) diff(before, after string) ot.Op {
	op := ot.Diff(before, after)
	r.mu.Lock()
	r.diffs = append(r.diffs, Diff{before, after, op})
	r.mu.Unlock()
	return op
}

func (r *recorder) takeDiffs() []Diff {
	r.mu.Lock()
	defer r.mu.Unlock()
	ds := r.diffs
	r.diffs = nil
	return ds
}

func newRecorder(c *simClient) *recorder {
	return &recorder{t: Transcript{Client: c.name, Public: wire.PublicID(c.name)}}
}

// recordRecv notes a message delivered to c on l. A welcome starts a
// session on l.
func (w *World) recordRecv(c *simClient, l *Link, m serverMsg, data []byte) {
	r := c.rec
	if r == nil {
		return
	}
	if m.Type == wire.TypeWelcome {
		r.link, r.off, r.frag = l, -1, nil
		r.setInput(Step{Connect: true, Welcome: bytes.Clone(data)})
		return
	}
	if l != r.link {
		return // an answer to a hello: no session
	}
	r.setInput(Step{Recv: bytes.Clone(data)})
	if r.rejoin && skippable(m) {
		r.ignore = m.Type
	}
	if m.Type == wire.TypeJoined {
		r.rejoin = false
	}
}

// skippable reports whether a client that resynchronised on its connection
// ignores m until joined: the browser's core never gets it.
func skippable(m serverMsg) bool {
	switch m.Type {
	case wire.TypeOp, wire.TypeAck, wire.TypePresence, wire.TypeEditor:
		return true
	}
	return m.Type == wire.TypeError && m.Code == wire.CodeNotJoined
}

// recordEdit notes a local edit of c.
func (w *World) recordEdit(c *simClient, op ot.Op) {
	if c.rec != nil {
		c.rec.setInput(Step{Edit: &op})
	}
}

func (r *recorder) setInput(s Step) {
	if r.input != nil && r.err == nil {
		r.err = fmt.Errorf("two inputs in one step: %+v and %+v", *r.input, s)
	}
	r.input = &s
}

// record ends the step for c: what c sent since, and whether its
// connection ended, go in its transcript.
func (w *World) record(c *simClient) {
	r := c.rec
	if r == nil {
		return
	}
	sent, closed := w.sentSince(r)
	diffs := r.takeDiffs()
	in := r.input
	r.input = nil
	switch {
	case in != nil:
		in.Diffs = diffs
		w.recordStep(c, in, sent, closed)
	case (len(sent) > 0 || len(diffs) > 0) && r.err == nil:
		r.err = fmt.Errorf("step %d: sent %d messages, made %d diffs without an input", w.step, len(sent), len(diffs))
	}
	if closed {
		r.link, r.rejoin = nil, false
		r.t.Steps = append(r.t.Steps, w.stepOf(c, Step{Disconnect: true}, nil))
	}
}

func (w *World) recordStep(c *simClient, in *Step, sent []json.RawMessage, closed bool) {
	r := c.rec
	ignored := r.ignore
	r.ignore = ""
	if ignored != "" && len(sent) == 0 && len(in.Diffs) == 0 && !closed {
		w.stats["recorded: "+ignored+" left out while rejoining"]++
		return
	}
	if in.Recv != nil {
		typ, _ := wire.PeekType(in.Recv)
		switch {
		case closed:
			in.Action = "unavailable"
		case typ == wire.TypeError && sendsJoin(sent):
			// The browser's core starts over by itself (leave, join) on an
			// ack, op or joined; on an error it asks for a resync.
			in.Action = "resync"
			r.rejoin = true
		}
	}
	r.t.Steps = append(r.t.Steps, w.stepOf(c, *in, sent))
}

func sendsJoin(msgs []json.RawMessage) bool {
	for _, m := range msgs {
		if typ, _ := wire.PeekType(m); typ == wire.TypeJoin {
			return true
		}
	}
	return false
}

// stepOf completes s with what c sent and holds now.
func (w *World) stepOf(c *simClient, s Step, sent []json.RawMessage) Step {
	s.At, s.Send = w.step, sent
	if s.Send == nil {
		s.Send = []json.RawMessage{}
	}
	if c.doc != nil {
		s.Text, s.Rev = c.doc.Text(), c.doc.Rev()
	}
	return s
}

// sentSince returns the messages the client wrote on its connection since
// the last call, and whether it has closed that connection.
func (w *World) sentSince(r *recorder) (msgs []json.RawMessage, closed bool) {
	if r.link == nil {
		return nil, false
	}
	w.net.mu.Lock()
	b := r.link.sent
	closed = r.link.C.closed
	w.net.mu.Unlock()
	if r.off < 0 {
		n := skipHello(b)
		if n < 0 {
			r.err = fmt.Errorf("step %d: %s: no hello before the welcome", w.step, r.link)
			return nil, closed
		}
		r.off = n
	}
	for {
		n := frameLen(b[r.off:])
		if n == 0 {
			return msgs, closed
		}
		fin, op, payload := parseFrame(b[r.off : r.off+n])
		r.off += n
		if op >= 8 {
			continue // ping, pong, close
		}
		r.frag = append(r.frag, payload...)
		if fin {
			msgs = append(msgs, json.RawMessage(r.frag))
			r.frag = nil
		}
	}
}

// skipHello returns the length of the HTTP request head and the first
// frame (the hello) of what a client wrote, or -1 if they are not there.
func skipHello(b []byte) int {
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		return -1
	}
	n := frameLen(b[i+4:])
	if n == 0 {
		return -1
	}
	return i + 4 + n
}

// parseFrame decodes a whole WebSocket frame (RFC 6455 section 5.2),
// unmasking its payload.
func parseFrame(f []byte) (fin bool, op byte, payload []byte) {
	fin, op = f[0]&0x80 != 0, f[0]&0x0f
	n := 2
	switch f[1] & 0x7f {
	case 126:
		n = 4
	case 127:
		n = 10
	}
	payload = f[n:]
	if f[1]&0x80 != 0 {
		mask := f[n : n+4]
		payload = bytes.Clone(f[n+4:])
		for i := range payload {
			payload[i] ^= mask[i&3]
		}
	}
	return fin, op, payload
}

// client returns the client named name.
func (w *World) client(name string) *simClient {
	for _, c := range w.clients {
		if c.name == name {
			return c
		}
	}
	return nil
}

// transcripts returns the clients' transcripts, or the first thing that
// could not be recorded.
func (w *World) transcripts() ([]Transcript, error) {
	var ts []Transcript
	for _, c := range w.clients {
		if c.rec == nil {
			continue
		}
		if c.rec.err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, c.rec.err)
		}
		t := c.rec.t
		t.Name = fmt.Sprintf("seed %d %s", w.cfg.Seed, c.name)
		ts = append(ts, t)
	}
	return ts, nil
}
