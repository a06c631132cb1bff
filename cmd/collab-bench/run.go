package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/collabd/collab/storage/bolt"
)

// env is what run needs from the outside world.
type env struct {
	stdout, stderr io.Writer
}

const usageText = `collab-bench drives a collab server with simulated editors and reports
throughput, latency, server CPU and memory, and whether every editor ended
with the server's text.

Usage:
  collab-bench [flags]                       N documents × M editors typing
  collab-bench -trace FILE.json.gz [flags]   one typist replaying a real trace
  collab-bench -idle [flags]                 idle crowd: the server's memory per connection
  collab-bench -cold-start -collabd BIN      a big database: collabd's start and first joins

Servers (-server):
  inproc     collabd's server in this process, with a fresh bbolt file
             (durable commits). CPU and RSS are the whole process's: server
             and load generator together.
  inproc-mem the same server over the in-memory store (memory.Store):
             nothing durable; shows what the storage costs.
  baseline   a bare WebSocket broadcast hub in this process: no OT, no
             storage; acks each submit at once and relays it. The practical
             limit of the machine. Its editors use a minimal protocol client
             that does not transform ops (the hub does not either), so no
             convergence check is possible.
  URL        a running server, e.g. http://127.0.0.1:8080; with -server-pid
             its CPU and RSS are read from /proc.
  URL,URL,…  the nodes of a collabd cluster (collabd -nats, docs/cluster.md):
             editor i of every document connects to node i mod n, so each
             document has editors on several nodes, and reconnects to that
             same node (-spread documents: every editor of document k on
             node k mod n, as a load balancer routing by document would). The convergence check reads every document from
             every node, which must all hold every editor's text. With
             -server-pid PID,PID,… the processes' CPU, RSS and file
             descriptors are summed (RSS: the sum of each one's largest);
             one pid per node, in the order of the URLs, also gives each
             node's own figures. The report names the nodes with the
             editors, acks, deliveries and reconnects of each.

Editors. Each editor has its own WebSocket connection (the Go client package,
package client, with reconnection on) and makes random edits: typing at a
moving caret (65%), emoji (10%), backspace (13%), deleting a selection (7%),
pasting a few words (5%); documents are trimmed around -max-len code points.
With -rate R each editor edits R times a second (phases spread evenly); with
-rate 0 it edits as fast as acks allow: the next edit is made when the last
is acknowledged. As in every OT client, one submit is in flight per document
and edits made meanwhile are composed into the next submit. With -typists N
only the first N editors of each document type; the others only receive
(a crowded document: -docs 1 -editors 1000 -typists 20).

Figures.
  edits/s         local edits made, per second of the typing window
  acks/s          submits acknowledged (durably committed) per second
  deliveries/s    other editors' ops received per second
  submit→ack      from the moment the submit's frame is written to the
                  author's socket to the moment its ack is read from it
  submit→others   from the same moment to the moment the op is read from
                  the socket of each other editor of the document
  The tool watches each connection's bytes (the client's frames are
  parsed as they are written and read), so composed submits and resent
  ones are timed exactly, and the load generator's own delays after a
  read are not counted. An ack whose submit was never seen leaving is
  counted as "seq skew" and not timed. Correlation is exact: the author's
  ack names the revision its submit became, and every other editor
  receives that revision in an op; (document, revision) joins the two.
  Latency
  percentiles are exact (nearest rank over every sample), not estimated.
  After the typing window the tool waits (-drain) for every ack and every
  delivery, then compares each editor's text with the server's
  (GET /api/docs/{id}); any difference, or an edit never acknowledged,
  fails the run with a non-zero exit.

Idle crowd (-idle). Every editor connects and joins, nobody types; after
-duration the server's resident memory (VmRSS of -server-pid) is compared
with its value before the first connection, per connection. Its Go runtime's
own account (goroutines, stacks, heap, from /metrics) is given beside it.
One process holds at most as many sockets as its file limit, and one source
address has about 28,000 ephemeral ports: split a large crowd over two
collab-bench processes (-base-rss-mb, -base-conns) and several source
addresses (-source-addrs).

Cold start (-cold-start). Generates a database of -cold-docs documents and
-cold-ops ops through the storage package (or reuses the one in -data),
then starts -collabd on it -cold-runs times: the time from starting the
process to /healthz answering, and from a join frame written to the joined
frame read for the biggest documents (whose text is checked).

Flags:
`

type options struct {
	server    string
	servers   []string // -server split at commas: several URLs are a cluster's nodes
	serverPID []int
	docs      int
	editors   int
	typists   int
	rate      float64
	duration  time.Duration
	seed      uint64
	maxLen    int
	drain     time.Duration
	dialers   int
	baseline  bool
	pairs     int // -baseline: alternated runs of the server and the hub
	json      bool
	plot      string
	trace     string
	dataDir   string
	cpuProf   string
	memProf   string
	quiet     bool
	maxRate   float64
	byDoc     bool      // -spread documents: a document's editors all on one node
	src       *addrPool // -source-addrs
	queueLen  int       // collab.Options.QueueLen of in-process servers
	idle      bool      // connect, join and hold; nobody types
	conns     int       // connections spread over the documents; 0: docs × editors
	baseRSSMB float64   // idle: the server's RSS before an earlier run's connections
	baseConns int       // idle: that earlier run's connections, still open
	cold      coldOptions
	readers   string // go or wire: the client of the editors that do not type
	traceWith string // go or wire: the client of the trace's typist
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("collab-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
	}
	o := &options{}
	fs.StringVar(&o.server, "server", "inproc", "inproc, inproc-mem, baseline, the URL of a running server, or comma-separated URLs of the nodes of a cluster")
	serverPIDs := fs.String("server-pid", "", "pid of the server given by URL, to read its CPU and RSS from /proc; for a cluster, comma-separated pids whose figures are summed (one per node, in -server's order, also gives each node's)")
	fs.IntVar(&o.docs, "docs", 10, "documents")
	fs.IntVar(&o.editors, "editors", 4, "editors per document, each with its own connection")
	fs.IntVar(&o.typists, "typists", 0, "editors per document that type; the others only receive (0: all)")
	fs.Float64Var(&o.rate, "rate", 2, "edits per second per editor; 0: as fast as acks allow")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long the editors type")
	fs.Uint64Var(&o.seed, "seed", 1, "random seed of the edits")
	fs.IntVar(&o.maxLen, "max-len", 2000, "documents are kept around this many code points")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "how long to wait for the last acks and deliveries")
	fs.IntVar(&o.dialers, "dialers", 32, "connections opened at once while connecting")
	fs.BoolVar(&o.baseline, "baseline", false, "then run the same workload through the baseline hub in this process and report the ratios")
	fs.IntVar(&o.pairs, "pairs", 1, "-baseline: run the server and the hub this many times each, alternated, each afresh, and report every pair's ratio and their median (the tables are the first pair's)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of a table")
	fs.StringVar(&o.plot, "plot", "", "write an SVG plot of latency per second to this file")
	fs.StringVar(&o.trace, "trace", "", "replay this editing trace (gzip JSON) as one typist instead of random editors")
	fs.StringVar(&o.dataDir, "data", "", "directory of the inproc server's bbolt file, or of -cold-start's database, reused when its manifest matches (default: a temporary one)")
	fs.StringVar(&o.cpuProf, "cpuprofile", "", "write a CPU profile of this process to this file")
	fs.StringVar(&o.memProf, "memprofile", "", "write a heap profile of this process to this file at the end of the typing window (or hold), after a garbage collection; with an inproc server it holds the server's memory too")
	fs.BoolVar(&o.quiet, "q", false, "no progress lines")
	fs.Float64Var(&o.maxRate, "client-rate", 0, "most messages per second each client sends (client.Options.MaxRate); 0: the client's default (100/s, under collabd's default limit of 200/s) for a server given by URL, unlimited for inproc servers, whose limit is lifted")
	fs.BoolVar(&o.idle, "idle", false, "idle crowd: connect and join every editor, hold for -duration with nobody typing, and report the server's RSS per connection (needs the server's pid: inproc, or -server-pid)")
	fs.IntVar(&o.conns, "conns", 0, "connections in all, spread evenly over -docs (instead of -docs × -editors)")
	fs.Float64Var(&o.baseRSSMB, "base-rss-mb", 0, "-idle: the server's RSS in MB before the connections of another collab-bench -idle still holding them (its \"server rss before\"), to report both runs' connections together")
	fs.IntVar(&o.baseConns, "base-conns", 0, "-idle: the connections that other run holds")
	fs.BoolVar(&o.cold.on, "cold-start", false, "cold start: generate a database (or reuse the one in -data), start -collabd on it -cold-runs times, time process start to /healthz and the first join of the biggest documents")
	fs.StringVar(&o.cold.collabd, "collabd", "", "-cold-start: the collabd binary to start")
	fs.IntVar(&o.cold.docs, "cold-docs", 100_000, "-cold-start: documents in the database")
	fs.IntVar(&o.cold.ops, "cold-ops", 10_000_000, "-cold-start: ops in the database, all documents together")
	fs.IntVar(&o.cold.big, "cold-big", 3, "-cold-start: documents with -cold-big-ops ops each, whose first join is timed (the others share the rest)")
	fs.IntVar(&o.cold.bigOps, "cold-big-ops", 100_000, "-cold-start: ops of each big document")
	fs.IntVar(&o.cold.runs, "cold-runs", 3, "-cold-start: how many times collabd is started")
	fs.BoolVar(&o.cold.dropCache, "drop-cache", true, "-cold-start: drop the database file's pages from the page cache before each start (posix_fadvise), as after a reboot")
	fs.IntVar(&o.queueLen, "queue-len", 0, "inproc servers: outbound messages queued per connection before it is dropped as too slow (collabd -queue-len); 0: the server's default")
	fs.StringVar(&o.readers, "readers", "go", "client of the editors that do not type (see -typists): go, the Go client package, which decodes, transforms and applies every op; wire, a minimal reader that only notes each op's revision (collabd only)")
	fs.StringVar(&o.traceWith, "trace-client", "go", "client of the trace's typist: go, the Go client package; wire, a minimal typist whose text is an ot.Buffer and who composes while a submit is in flight (collabd only)")
	spread := fs.String("spread", "editors", "how a cluster's nodes share the editors: editors (editor i of every document on node i mod n: every document on every node) or documents (every editor of document k on node k mod n)")
	srcAddrs := fs.String("source-addrs", "", "bind client connections to these loopback source addresses, round-robin: a list of addresses and ranges (127.0.0.2-127.0.0.9) or a count N (127.0.0.1 to 127.0.0.N); one address has about 28,000 ephemeral ports")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.src, err = parseSourceAddrs(*srcAddrs); err != nil {
		return nil, err
	}
	switch *spread {
	case "editors":
	case "documents":
		o.byDoc = true
	default:
		return nil, fmt.Errorf("-spread: %q is neither editors nor documents", *spread)
	}
	if o.servers, err = splitServers(o.server); err != nil {
		return nil, err
	}
	if o.serverPID, err = parsePIDs(*serverPIDs); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case o.docs < 1 || o.editors < 1:
		return nil, fmt.Errorf("-docs and -editors must be at least 1")
	case o.conns != 0 && o.conns < o.docs:
		return nil, fmt.Errorf("-conns must be at least -docs")
	case (o.baseConns > 0) != (o.baseRSSMB > 0):
		return nil, fmt.Errorf("-base-rss-mb and -base-conns go together")
	case o.typists < 0 || o.typists > o.editors:
		return nil, fmt.Errorf("-typists must be between 0 (all) and -editors")
	case o.rate < 0:
		return nil, fmt.Errorf("-rate must not be negative")
	case o.readers != "go" && o.readers != "wire":
		return nil, fmt.Errorf("-readers %q: want go or wire", o.readers)
	case o.traceWith != "go" && o.traceWith != "wire":
		return nil, fmt.Errorf("-trace-client %q: want go or wire", o.traceWith)
	case o.duration <= 0 && o.trace == "":
		return nil, fmt.Errorf("-duration must be positive")
	case o.idle && (len(o.servers) > 1 || len(o.serverPID) > 1):
		return nil, fmt.Errorf("-idle measures one server: one -server URL and one -server-pid")
	}
	return o, nil
}

func run(ctx context.Context, args []string, ev env) error {
	o, err := parseFlags(args, ev.stderr)
	if err != nil {
		return err
	}
	if o.cpuProf != "" {
		f, err := os.Create(o.cpuProf)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	progress := ev.stderr
	if o.quiet {
		progress = io.Discard
	}
	if o.cold.on {
		return runColdStart(ctx, o, ev.stdout, progress)
	}
	fdLimit, _ := raiseFDLimit()

	tgt, err := startTarget(o, fdLimit)
	if err != nil {
		return err
	}
	tgt.stop = sync.OnceFunc(tgt.stop) // runPairs stops it early
	defer tgt.stop()
	if !tgt.inprocess {
		// Only the load generator runs here: trade its memory for less
		// garbage-collection CPU, which the server on the same cores needs.
		defer debug.SetGCPercent(debug.SetGCPercent(400))
	}

	var rep *report
	if o.trace != "" {
		rep, err = runTrace(ctx, tgt, o, progress)
	} else {
		rep, err = runEdits(ctx, tgt, o, progress)
		if err == nil && o.baseline {
			tgt.stop()
			err = runPairs(ctx, o, rep, progress, fdLimit)
		}
	}
	if rep != nil {
		if werr := writeReport(ev.stdout, rep, o.json); werr != nil && err == nil {
			err = werr
		}
		if o.plot != "" && rep.series != nil {
			if werr := writePlot(o.plot, rep); werr != nil && err == nil {
				err = werr
			}
		}
	}
	return err
}

// writeHeapProfile writes the live heap after a garbage collection.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// coldOptions are the flags of -cold-start.
type coldOptions struct {
	on                     bool
	collabd                string
	docs, ops, big, bigOps int
	runs                   int
	dropCache              bool
}

// target is the system under test and how to watch its process.
type target struct {
	name       string
	sys        system
	pids       []int    // server processes to sample (a cluster's nodes); none if unknown
	nodes      []string // a cluster's node URLs; nil for one server
	inprocess  bool     // the server shares this process
	stop       func()
	storeStats func() bolt.Stats // nil unless the server is in process over bbolt
}

func startTarget(o *options, fdLimit uint64) (*target, error) {
	need := o.docs * o.editors
	if o.conns > 0 {
		need = o.conns
	}
	switch o.server {
	case "inproc", "inproc-mem":
		if err := checkFDs(2*need, fdLimit); err != nil {
			return nil, err
		}
		mem := o.server == "inproc-mem"
		l, err := startInproc(o.dataDir, mem, o.queueLen)
		if err != nil {
			return nil, err
		}
		rate := o.maxRate
		if rate == 0 {
			rate = -1 // the in-process server's rate limit is lifted
		}
		sys := newClientSystem(l.base, rate, need, o.src)
		name := "collabd (in process)"
		if mem {
			name = "collabd (in process, memory store)"
		}
		return &target{name: name, sys: sys, pids: []int{os.Getpid()}, inprocess: true,
			stop: func() { sys.close(); l.stop() }, storeStats: l.stats}, nil
	case "baseline":
		if err := checkFDs(2*need, fdLimit); err != nil {
			return nil, err
		}
		l, err := startBaseline()
		if err != nil {
			return nil, err
		}
		return &target{name: "baseline hub (in process)", sys: newRawSystem(wsURL(l.base), o.src), pids: []int{os.Getpid()},
			inprocess: true, stop: l.stop}, nil
	}
	if len(o.servers) > 1 {
		if err := checkFDs(need, fdLimit); err != nil {
			return nil, err
		}
		sys := newClusterSystem(o.servers, o.maxRate, need, o.src)
		sys.byDoc = o.byDoc
		name := fmt.Sprintf("collabd cluster of %d nodes at %s", len(o.servers), strings.Join(o.servers, ", "))
		return &target{name: name, sys: sys, pids: o.serverPID, nodes: o.servers, stop: sys.close}, nil
	}
	if len(o.serverPID) > 1 {
		return nil, fmt.Errorf("-server-pid: several pids are for a cluster (several -server URLs)")
	}
	if !strings.HasPrefix(o.server, "http://") && !strings.HasPrefix(o.server, "https://") {
		return nil, fmt.Errorf("-server %q: want inproc, inproc-mem, baseline or an http:// URL", o.server)
	}
	if err := checkFDs(need, fdLimit); err != nil {
		return nil, err
	}
	sys := newClientSystem(o.server, o.maxRate, need, o.src)
	return &target{name: "collabd at " + o.server, sys: sys, pids: o.serverPID, stop: sys.close}, nil
}

func wsURL(base string) string { return "ws" + strings.TrimPrefix(base, "http") + "/ws" }

func newRunID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (o *options) workload() workload {
	typists := o.typists
	if o.idle {
		typists = 0
	} else if typists == 0 {
		typists = o.editors
	}
	return workload{
		docs: o.docs, editors: o.editors, typists: typists, rate: o.rate, duration: o.duration,
		seed: o.seed, maxLen: o.maxLen, drain: o.drain, dialers: o.dialers, runID: newRunID(), readers: o.readers, conns: o.conns,
	}
}

// runPairs runs the same workload through the baseline hub, then, for
// -pairs n, n-1 more times through a fresh server and a fresh hub, and
// attaches to rep (the first server run) the first hub run, every pair's
// figures and the median ratios.
func runPairs(ctx context.Context, o *options, rep *report, progress io.Writer, fdLimit uint64) error {
	server, n := rep, max(o.pairs, 1)
	for i := range n {
		if i > 0 {
			fmt.Fprintf(progress, "pair %d of %d: %s\n", i+1, n, rep.System)
			var err error
			if server, err = runFresh(ctx, o, progress, fdLimit); err != nil {
				return err
			}
		}
		fmt.Fprintf(progress, "pair %d of %d: baseline hub, same workload\n", i+1, n)
		bo := *o
		bo.server, bo.plot = "baseline", ""
		base, err := runFresh(ctx, &bo, progress, fdLimit)
		if err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
		if i == 0 {
			rep.Baseline = base
		}
		rep.Pairs = append(rep.Pairs, newPair(server, base))
	}
	rep.AcksVsBaseline = medianOf(rep.Pairs, func(p pair) float64 { return p.AcksRatio })
	rep.DeliveriesVsBaseline = medianOf(rep.Pairs, func(p pair) float64 { return p.DeliveriesRatio })
	return nil
}

// runFresh starts the target o names, runs its workload and stops it. A
// server given by URL is not restarted, but every run edits documents of
// its own.
func runFresh(ctx context.Context, o *options, progress io.Writer, fdLimit uint64) (*report, error) {
	tgt, err := startTarget(o, fdLimit)
	if err != nil {
		return nil, err
	}
	defer tgt.stop()
	r, err := runEdits(ctx, tgt, o, progress)
	if err != nil {
		return nil, err
	}
	r.series = nil // only the first server run is plotted
	return r, nil
}
