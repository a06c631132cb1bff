// Package sim is a deterministic simulation of the collab protocol: the
// real server (collab.NewServer) and real Go clients (client) in one
// process, over an in-memory network (Network) and a store whose commits
// wait for the simulation's decision (Store), all driven by one seeded
// random source, in the style of FoundationDB's and TigerBeetle's
// simulators. Run it inside a testing/synctest bubble: time is virtual, and
// the World takes one action at a time (deliver one frame, cut a link,
// make an edit, let a commit through, crash the server, let time pass)
// and waits with synctest.Wait until every goroutine is blocked before the
// next, so that a seed replays. What it checks is in check.go and in
// docs/protocol.md ("How the protocol is verified"). With Config.Record
// it also writes down what each client got and sent (record.go), which
// TestSimJavaScriptCore replays through the browser's sync core.
package sim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
)

// Doc is the document every client edits.
const Doc = "d"

// Config is one run.
type Config struct {
	Seed    uint64
	Clients int       // default: 2 to 5, drawn from the seed
	Steps   int       // default: 300 to 800, drawn from the seed
	Trace   io.Writer // if set, receives every line of the trace
	// WholeMarkers fails a run in which an insert landed inside another
	// editor's marker (see checkMarkers).
	WholeMarkers bool
	// StaleHello lets a link be cut half-open before its hello reached the
	// server, so that a late hello arrives on an older connection (see
	// cutLink).
	StaleHello bool
	// Record writes down each client's transcript (see record.go), with
	// the clients' rate limit off.
	Record bool
}

// Result is what a run found.
type Result struct {
	Err   error          // the first broken rule, or nil
	Hash  string         // of the whole trace: equal for runs that went alike
	Steps int            // steps taken
	Tail  []string       // the last lines of the trace
	Stats map[string]int // how often each action and notable event happened
	// Transcripts are the clients' (Config.Record); RecordErr says what
	// could not be recorded.
	Transcripts []Transcript
	RecordErr   error
}

// World is one simulated run. Only the goroutine running Run touches it,
// apart from disk and Network, which have their own locks.
type World struct {
	cfg     Config
	rng     *rand.Rand
	net     *Network
	disk    *disk
	srv     *server // nil while the server is down
	gen     int     // server incarnations started
	clients []*simClient
	cut     map[string]bool // partitioned clients
	ctx     context.Context // canceled at the end: stops clients still setting up
	cancel  context.CancelFunc
	bg      sync.WaitGroup // servers' Serve loops and crashed servers' shutdowns

	step  int
	hash  hash.Hash
	tail  []string
	stats map[string]int
	bad   []string         // broken rules seen while delivering
	frags map[*pipe][]byte // fragments of a message being delivered

	acked     map[string]bool   // "client seq" of every ack delivered
	submitted map[string]uint64 // highest seq each client's submits brought the server
	racy      map[string]uint64 // clients whose resuming join came with that seq uncommitted

	catchUp uint64 // the server's MaxCatchUp: 1 to 3, so that resets are common
	stall   int    // steps during which no commit is decided (a slow disk)
}

type server struct {
	srv *collab.Server
	hs  *http.Server
	st  *Store
	gen int
}

// simClient is one editor: a client.Conn with Reconnect on the one Doc.
type simClient struct {
	name    string
	idx     int
	setup   chan setupResult // cap 1: Dial and Join finished
	conn    *client.Conn     // nil until setup
	doc     *client.Doc      // nil until setup
	failed  bool             // setup failed; its result was taken
	markers []string         // every marker this client inserted
	edits   int
	rec     *recorder // with Config.Record
}

type setupResult struct {
	conn *client.Conn
	doc  *client.Doc
	err  error
}

const tailLines = 400

// Run runs cfg's simulation. It must be called in a testing/synctest
// bubble, and returns after every goroutine it started has ended.
func Run(cfg Config) Result {
	w := &World{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		net:   newNetwork(),
		disk:  newDisk(),
		cut:   make(map[string]bool),
		hash:  sha256.New(),
		stats: make(map[string]int),
		frags: make(map[*pipe][]byte),
		acked: make(map[string]bool),

		submitted: make(map[string]uint64),
		racy:      make(map[string]uint64),
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 2 + w.rng.IntN(4)
	}
	if cfg.Steps <= 0 {
		cfg.Steps = 300 + w.rng.IntN(500)
	}
	w.catchUp = uint64(1 + w.rng.IntN(3))
	w.net.tap = cfg.Record
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.start()
	for i := range cfg.Clients {
		c := &simClient{name: fmt.Sprintf("c%d", i+1), idx: i, setup: make(chan setupResult, 1)}
		if cfg.Record {
			c.rec = newRecorder(c)
		}
		w.clients = append(w.clients, c)
		w.startClient(c)
	}
	synctest.Wait()
	err := w.loop(cfg.Steps)
	w.teardown()
	w.net.mu.Lock()
	for k, v := range w.net.events {
		w.stats[k] += v
	}
	w.net.mu.Unlock()
	res := Result{Err: err, Hash: hex.EncodeToString(w.hash.Sum(nil)), Steps: w.step, Tail: w.tail, Stats: w.stats}
	res.Transcripts, res.RecordErr = w.transcripts()
	return res
}

// loop takes steps actions, settling and checking every rule now and
// then and at the end.
func (w *World) loop(steps int) error {
	acts := w.actions()
	total := 0
	for _, a := range acts {
		total += a.weight
	}
	for w.step = 1; w.step <= steps; w.step++ {
		w.net.step(false)
		w.stall = max(0, w.stall-1)
		for try := 0; try < 10 && !w.act(acts, total); try++ {
		}
		synctest.Wait()
		if err := w.observe(); err != nil {
			return err
		}
	}
	w.logf("final check")
	if err := w.settle(); err != nil {
		return err
	}
	return w.check()
}

// act draws an action and takes it; false if it found nothing to do.
func (w *World) act(acts []action, total int) bool {
	n := w.rng.IntN(total)
	for _, a := range acts {
		if n -= a.weight; n < 0 {
			if !a.do() {
				w.logf("(%s: nothing to do)", a.name)
				return false
			}
			w.stats[a.name]++
			return true
		}
	}
	return false
}

// observe collects what clients did since the last step and reports a
// rule broken meanwhile.
func (w *World) observe() error {
	for _, c := range w.clients {
		w.collect(c)
		w.record(c)
	}
	if len(w.bad) > 0 {
		return fmt.Errorf("step %d: %s", w.step, w.bad[0])
	}
	w.disk.mu.Lock()
	defer w.disk.mu.Unlock()
	if len(w.disk.bad) > 0 {
		return fmt.Errorf("step %d: %s", w.step, w.disk.bad[0])
	}
	return nil
}

// start starts a server incarnation over the disk.
func (w *World) start() {
	w.gen++
	st := w.disk.newStore()
	srv := collab.NewServer(st, collab.Options{
		MaxCatchUp: w.catchUp, // joins a few ops behind get a reset
		Window:     4,         // catching up and transforming soon read the store
		QueueLen:   4,         // a held link soon fills its queue
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	hs := &http.Server{Handler: srv, ErrorLog: log.New(io.Discard, "", 0)}
	ln := w.net.listen()
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		hs.Serve(ln)
	}()
	w.srv = &server{srv: srv, hs: hs, st: st, gen: w.gen}
	w.logf("server %d up", w.gen)
}

// crash kills the server as kill -9 would: every link is reset, commits in
// flight are kept or lost at random, and the dead incarnation can touch
// neither the disk nor the network; its goroutines are reaped in the
// background.
func (w *World) crash() {
	s := w.srv
	w.srv = nil
	w.net.crash()
	kept := w.disk.crash(s.st, func() bool { return w.rng.IntN(2) == 0 })
	w.logf("server %d crashed; commits in flight: %v", s.gen, kept)
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		s.srv.Shutdown(context.Background())
		s.hs.Close()
	}()
}

func (w *World) startClient(c *simClient) {
	opts := client.Options{
		ClientID:  c.name,
		Name:      c.name,
		Reconnect: true,
		MinDelay:  100 * time.Millisecond,
		MaxDelay:  2 * time.Second,
		Rand:      rand.New(rand.NewPCG(w.cfg.Seed, uint64(c.idx)+1)),
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Dialer:    &websocket.Dialer{NetDialContext: w.net.Dial(c.name, c.idx), HandshakeTimeout: 10 * time.Second},
	}
	if w.cfg.Record {
		opts.MaxRate = -1
		opts.Diff = c.rec.diff
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		for {
			conn, err := client.Dial(w.ctx, "ws://localhost/ws", opts)
			if err != nil {
				if w.ctx.Err() != nil {
					c.setup <- setupResult{err: err}
					return
				}
				time.Sleep(500 * time.Millisecond)
				continue
			}
			doc, err := conn.Join(w.ctx, Doc)
			if err != nil {
				conn.Close()
			}
			c.setup <- setupResult{conn: conn, doc: doc, err: err}
			return
		}
	}()
}

// collect takes c's setup result and events.
func (w *World) collect(c *simClient) {
	if c.doc == nil {
		select {
		case r := <-c.setup:
			if r.err != nil {
				c.failed = true
				w.bad = append(w.bad, fmt.Sprintf("%s could not join: %v", c.name, r.err))
				return
			}
			c.conn, c.doc = r.conn, r.doc
			w.logf("%s joined at rev %d", c.name, c.doc.Rev())
		default:
			return
		}
	}
	for {
		select {
		case e, ok := <-c.doc.Events():
			if !ok {
				w.bad = append(w.bad, fmt.Sprintf("%s: document ended: %v", c.name, c.doc.Err()))
				return
			}
			w.event(c, e)
		default:
			return
		}
	}
}

func (w *World) event(c *simClient, e client.Event) {
	switch e.Kind {
	case client.EventReject:
		w.bad = append(w.bad, fmt.Sprintf("%s: seq %d rejected: %v", c.name, e.Seq, e.Err))
	case client.EventError, client.EventReset:
		w.stats["client "+e.Kind.String()]++
		w.logf("%s event %v rev %d err %v", c.name, e.Kind, e.Rev, e.Err)
	}
}

// teardown closes every client and server and waits for their goroutines.
func (w *World) teardown() {
	w.cancel()
	for _, c := range w.clients {
		if c.conn != nil {
			c.conn.Close()
		}
	}
	w.net.heal()
	w.disk.commitAll()
	if s := w.srv; s != nil {
		s.srv.Shutdown(context.Background())
		s.hs.Close()
	}
	w.net.crash() // a Serve loop waiting for a connection ends
	w.bg.Wait()
	for _, c := range w.clients {
		if c.doc == nil && !c.failed {
			if r := <-c.setup; r.conn != nil {
				r.conn.Close()
			}
		}
	}
}

// logf adds a line to the trace.
func (w *World) logf(format string, args ...any) {
	w.logAs("", format, args...)
}

// logAs adds a line to the trace that is hashed as key if key is set.
func (w *World) logAs(key, format string, args ...any) {
	line := fmt.Sprintf("%d: ", w.step) + fmt.Sprintf(format, args...)
	if key == "" {
		key = line
	}
	io.WriteString(w.hash, key+"\n")
	if w.cfg.Trace != nil {
		fmt.Fprintln(w.cfg.Trace, line)
	}
	if len(w.tail) == tailLines {
		w.tail = append(w.tail[:0], w.tail[tailLines/2:]...)
	}
	w.tail = append(w.tail, line)
}
