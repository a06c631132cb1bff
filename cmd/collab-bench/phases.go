package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/collabd/collab/internal/bench/procstat"
	"github.com/collabd/collab/internal/bench/stats"
	"github.com/collabd/collab/storage/bolt"
)

// runEdits connects the editors, lets them type for the duration, waits for
// the last acks and deliveries, checks convergence and builds the report.
// It returns the report with an error when the run failed its checks.
func runEdits(ctx context.Context, tgt *target, o *options, progress io.Writer) (*report, error) {
	wl := o.workload()
	e := &engine{wl: wl, sys: tgt.sys, log: progress}
	if o.readers == "wire" {
		if _, ok := collabdOf(tgt.sys); !ok {
			return nil, fmt.Errorf("-readers wire: %s is not collabd", tgt.name)
		}
		e.wireReaders = true
	}
	for _, u := range tgt.nodes {
		e.nodes = append(e.nodes, &nodeStats{url: u})
	}
	var idle *idleProbe
	if o.idle {
		var err error
		if idle, err = startIdle(ctx, tgt, o); err != nil {
			return nil, err
		}
		fmt.Fprintf(progress, "server rss before connecting: %.1f MB (for another run's -base-rss-mb)\n", float64(idle.before.RSS)/(1<<20))
	}
	connStart := time.Now()
	docs, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeAll(docs)
	connectTime := time.Since(connStart)
	if idle != nil {
		if err := idle.markConnected(); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(progress, "%s: %d connections open in %.1fs; typing for %s\n",
		tgt.name, wl.connections(), connectTime.Seconds(), wl.duration)

	sampling := startSampling(ctx, tgt)
	var store0 bolt.Stats
	if tgt.storeStats != nil {
		store0 = tgt.storeStats()
	}

	edCtx, stopEditors := context.WithCancel(ctx)
	stop := make(chan struct{})
	e.t0 = time.Now()
	var wg, stopped sync.WaitGroup
	var editors []*editor
	stream := uint64(0) // the editor's index: its edits' random stream
	for k, d := range docs {
		for j, s := range d.sessions {
			stopped.Add(1)
			ed := &editor{e: e, d: d, s: s, stop: stop, stopped: &stopped, typist: j < wl.typists, node: e.nodeStats(k, j),
				gen: newEditGen(wl.seed, stream, wl.maxLen),
				rng: rand.New(rand.NewPCG(wl.seed^0x9e3779b97f4a7c15, stream))}
			stream++
			editors = append(editors, ed)
			wg.Go(func() { ed.run(edCtx) })
		}
	}
	progDone := make(chan struct{})
	var progWG sync.WaitGroup
	progWG.Go(func() { e.progress(progDone, sampling) })

	select {
	case <-time.After(wl.duration):
	case <-ctx.Done():
	}
	window := time.Since(e.t0)
	atEnd := e.snapshot()
	if idle != nil {
		var hc *http.Client
		if cs, ok := tgt.sys.(*clientSystem); ok {
			hc = cs.http
		}
		idle.markEnd(ctx, hc)
	}
	if o.memProf != "" {
		if err := writeHeapProfile(o.memProf); err != nil {
			fmt.Fprintf(progress, "heap profile: %v\n", err)
		}
	}
	var store *storeSummary
	if tgt.storeStats != nil {
		store = summarizeStore(store0, tgt.storeStats(), window)
	}
	close(stop)
	stopped.Wait() // no edit after this: the drain and the check see the last ones
	srvSum, eachSrv, benchSum := sampling.stop()

	drained := e.waitDrained(ctx, docs, wl.drain)
	close(progDone)
	progWG.Wait()
	conv := checkConvergence(ctx, tgt.sys, docs)
	stopEditors()
	wg.Wait()

	rep := e.report(tgt, docs, window, atEnd, connectTime)
	rep.Converged, rep.ConvergeNote = conv.ok, conv.note
	rep.Server, rep.Bench, rep.Store = srvSum, benchSum, store
	rep.Nodes = e.nodeReports(eachSrv)
	rep.noteLag(wl, window, editors)
	if idle != nil {
		rep.Mode, rep.Idle = "idle", idle.summary(wl.connections(), window)
		if idle.err != nil {
			rep.Failures = append(rep.Failures, fmt.Sprintf("server memory at the end: %v", idle.err))
		}
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	if !drained {
		rep.Failures = append(rep.Failures, fmt.Sprintf("after %s, %d editors still had unacknowledged edits and %d revisions were not delivered to every editor", wl.drain, unsynced(docs), e.open.Load()))
	}
	if conv.ok != nil && !*conv.ok {
		rep.Failures = append(rep.Failures, conv.note)
	}
	if len(rep.Failures) > 0 {
		return rep, fmt.Errorf("run failed: %s", rep.Failures[0])
	}
	return rep, nil
}

// sampling reads the server's (or a cluster's nodes') and this process's
// CPU and memory every second while the editors type.
type sampling struct {
	srv    []*procstat.Sampler // one per server process; empty if unknown
	bench  *procstat.Sampler
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startSampling(ctx context.Context, tgt *target) *sampling {
	ctx, cancel := context.WithCancel(ctx)
	s := &sampling{bench: procstat.NewSampler(os.Getpid()), cancel: cancel}
	for _, pid := range tgt.pids {
		s.srv = append(s.srv, procstat.NewSampler(pid))
	}
	for _, sm := range append([]*procstat.Sampler{s.bench}, s.srv...) {
		s.wg.Go(func() { sm.Run(ctx, time.Second) })
	}
	return s
}

// stop ends sampling and returns the summaries: srv is the server
// processes' together (nil when unknown), each is every process's own.
func (s *sampling) stop() (srv *procstat.Summary, each []procstat.Summary, bench procstat.Summary) {
	s.cancel()
	s.wg.Wait()
	for _, sm := range s.srv {
		sum, _ := sm.Summary()
		each = append(each, sum)
	}
	if len(each) > 0 {
		sum := sumUsage(each)
		srv = &sum
	}
	bench, _ = s.bench.Summary()
	return srv, each, bench
}

// serverRSS returns the server processes' resident memory together.
func (s *sampling) serverRSS() (int64, bool) {
	var rss int64
	for _, sm := range s.srv {
		rss += sm.Current().RSS
	}
	return rss, len(s.srv) > 0
}

type counts struct {
	edits, acks, deliveries int64
}

func (e *engine) snapshot() counts {
	return counts{edits: e.edits.Load(), acks: e.acks.Load(), deliveries: e.deliveries.Load()}
}

// waitDrained waits until every edit is acknowledged and every revision
// reached every other editor, or until limit passes.
func (e *engine) waitDrained(ctx context.Context, docs []*docState, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		if e.open.Load() == 0 && unsynced(docs) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// progress prints a line a second until done.
func (e *engine) progress(done <-chan struct{}, smp *sampling) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last, lastAt := e.snapshot(), time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			c := e.snapshot()
			dt := now.Sub(lastAt).Seconds()
			line := fmt.Sprintf("[%4.0fs] edits %6.0f/s  acks %6.0f/s  deliveries %7.0f/s  undelivered revisions %d  reconnects %d  errors %d",
				now.Sub(e.t0).Seconds(), float64(c.edits-last.edits)/dt, float64(c.acks-last.acks)/dt,
				float64(c.deliveries-last.deliveries)/dt, e.open.Load(), e.reconnects.Load(), e.errs.Load())
			if rss, ok := smp.serverRSS(); ok {
				line += fmt.Sprintf("  server rss %.0f MB", float64(rss)/(1<<20))
			}
			fmt.Fprintln(e.log, line)
			last, lastAt = c, now
		}
	}
}

// unsynced counts the editors with unacknowledged edits.
func unsynced(docs []*docState) int {
	n := 0
	for _, d := range docs {
		for _, s := range d.sessions {
			if !s.Synced() {
				n++
			}
		}
	}
	return n
}

type convergence struct {
	ok   *bool // nil: not checked
	note string
}

// checkConvergence compares every editor's text with the server's.
func checkConvergence(ctx context.Context, sys system, docs []*docState) convergence {
	var (
		mu       sync.Mutex
		diverged int
		first    string
		checked  = true
		wg       sync.WaitGroup
		next     = make(chan *docState)
	)
	for range 8 {
		wg.Go(func() {
			for d := range next {
				want, ok, err := sys.text(ctx, d.id)
				if !ok {
					mu.Lock()
					checked = false
					mu.Unlock()
					continue
				}
				bad := ""
				if err != nil {
					bad = fmt.Sprintf("%s: %v", d.id, err)
				}
				for i, s := range d.sessions {
					if bad != "" {
						break
					}
					if got, ok := s.Text(); ok && got != want { // a wire reader keeps no text
						bad = fmt.Sprintf("%s: editor %d has %d code points, the server %d", d.id, i, runeCount(got), runeCount(want))
					}
				}
				if bad != "" {
					mu.Lock()
					diverged++
					if first == "" {
						first = bad
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, d := range docs {
		next <- d
	}
	close(next)
	wg.Wait()
	if !checked {
		return convergence{note: "not checked: the system keeps no text"}
	}
	ok := diverged == 0
	if ok {
		server := "the server's"
		if cs, isCluster := sys.(*clusterSystem); isCluster {
			server = fmt.Sprintf("every node's (%d nodes)", len(cs.nodes))
		}
		return convergence{ok: &ok, note: fmt.Sprintf("all %d documents: every editor's text equals %s", len(docs), server)}
	}
	return convergence{ok: &ok, note: fmt.Sprintf("%d of %d documents diverged; first: %s", diverged, len(docs), first)}
}

func (e *engine) report(tgt *target, docs []*docState, window time.Duration, atEnd counts, connect time.Duration) *report {
	var acks, delivs []*stats.Recorder
	undelivered := 0
	for _, d := range docs {
		d.mu.Lock()
		acks = append(acks, &d.ack)
		delivs = append(delivs, &d.deliv)
		for _, en := range d.pending {
			undelivered += d.others - en.arrived
		}
		d.mu.Unlock()
	}
	ackS, delS := stats.Merge(acks...), stats.Merge(delivs...)
	sec := window.Seconds()
	r := &report{
		System:           tgt.name,
		Mode:             "edits",
		Docs:             e.wl.docs,
		Editors:          e.wl.editors,
		Typists:          e.wl.typists,
		Readers:          e.wl.readers,
		Connections:      e.wl.connections(),
		Rate:             e.wl.rate,
		Seed:             e.wl.seed,
		DurationS:        round3(sec),
		ConnectS:         round3(connect.Seconds()),
		Edits:            atEnd.edits,
		EditsPerSec:      round1(float64(atEnd.edits) / sec),
		Acks:             e.acks.Load(),
		AcksPerSec:       round1(float64(atEnd.acks) / sec),
		Deliveries:       e.deliveries.Load(),
		DeliveriesPerSec: round1(float64(atEnd.deliveries) / sec),
		SubmitToAck:      ackS.Summarize(),
		SubmitToOthers:   delS.Summarize(),
		Reconnects:       e.reconnects.Load(),
		Errors:           e.errs.Load(),
		Rejects:          e.rejects.Load(),
		MissedEvents:     e.missed.Load(),
		Skew:             e.skew.Load(),
		Undelivered:      int64(undelivered),
		ServerInProcess:  tgt.inprocess,
		Machine:          thisMachine(),
		series:           &plotData{ack: ackS, deliv: delS},
	}
	return r
}
