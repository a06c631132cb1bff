package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/collabd/collab/internal/bench/trace"
)

// runTrace replays a trace through the server as one typist. With -rate 0
// each transaction waits for the acks of the one before (a transaction of
// several patches is one submit and one composed submit); with -rate R transactions are typed R times a
// second and the client composes those made while a submit is in flight.
// The final text, the typist's and the server's, must equal the trace's
// end content.
func runTrace(ctx context.Context, tgt *target, o *options, progress io.Writer) (*report, error) {
	tr, err := trace.Load(o.trace)
	if err != nil {
		return nil, err
	}
	wl := o.workload()
	wl.docs, wl.editors = 1, 1
	e := &engine{wl: wl, sys: tgt.sys, log: progress}
	d := &docState{id: "trace-" + wl.runID, pending: make(map[uint64]*revEntry)}
	open := tgt.sys.open
	if o.traceWith == "wire" {
		cs, ok := collabdOf(tgt.sys)
		if !ok {
			return nil, fmt.Errorf("-trace-client wire: %s is not collabd", tgt.name)
		}
		open = cs.openTypist
	}
	s, err := open(ctx, d.id, "t"+wl.runID)
	if err != nil {
		return nil, err
	}
	d.sessions = []session{s}
	defer closeAll([]*docState{d})
	ed := &editor{e: e, d: d, s: s}

	fmt.Fprintf(progress, "%s: replaying %s: %d transactions, %d patches\n",
		tgt.name, filepath.Base(o.trace), len(tr.Txns), tr.Patches())
	sampling := startSampling(ctx, tgt)
	e.t0 = time.Now()
	if err := ed.replay(ctx, tr, o.rate); err != nil {
		sampling.stop()
		return nil, err
	}
	window := time.Since(e.t0)
	srv, _, bench := sampling.stop()

	rep := e.report(tgt, []*docState{d}, window, e.snapshot(), 0)
	rep.Mode, rep.Trace, rep.Server, rep.Bench = "trace", filepath.Base(o.trace), srv, bench
	rep.TraceClient = o.traceWith
	local, _ := s.Text()
	server, _, err := tgt.sys.text(ctx, d.id)
	ok := err == nil && local == tr.EndContent && server == tr.EndContent
	rep.Converged = &ok
	switch {
	case err != nil:
		rep.ConvergeNote = fmt.Sprintf("server text: %v", err)
	case ok:
		rep.ConvergeNote = fmt.Sprintf("the typist's and the server's text equal the trace's end content (%d code points)", runeCount(server))
	default:
		_, at := trace.Equal(server, tr.EndContent)
		rep.ConvergeNote = fmt.Sprintf("server text differs from the trace's end content at code point %d (typist's text equal to it: %v)",
			at, local == tr.EndContent)
	}
	if !ok {
		rep.Failures = append(rep.Failures, rep.ConvergeNote)
		return rep, fmt.Errorf("run failed: %s", rep.ConvergeNote)
	}
	return rep, nil
}

// replay types every transaction of tr, then waits for the last ack.
func (ed *editor) replay(ctx context.Context, tr *trace.Trace, rate float64) error {
	var interval time.Duration
	if rate > 0 {
		interval = time.Duration(float64(time.Second) / rate)
	}
	next, lastLog := ed.e.t0, ed.e.t0
	for i, tx := range tr.Txns {
		for _, p := range tx.Patches {
			if !ed.apply(func(int) (int, int, string) { return p.Pos, p.Del, p.Ins }) {
				return fmt.Errorf("transaction %d: the typist's text does not fit the patch (a lost or doubled edit?)", i)
			}
		}
		var err error
		if interval > 0 {
			next = next.Add(interval)
			err = ed.await(ctx, time.Until(next), false)
		} else {
			err = ed.await(ctx, ed.e.wl.drain, true)
		}
		if err != nil {
			return fmt.Errorf("transaction %d: %w", i, err)
		}
		if time.Since(lastLog) >= time.Second {
			lastLog = time.Now()
			fmt.Fprintf(ed.e.log, "[%4.0fs] transaction %d/%d  acks %d  reconnects %d  errors %d\n",
				time.Since(ed.e.t0).Seconds(), i+1, len(tr.Txns), ed.e.acks.Load(), ed.e.reconnects.Load(), ed.e.errs.Load())
		}
	}
	return ed.await(ctx, ed.e.wl.drain, true)
}

var errNoAck = errors.New("no ack in time")

// await handles events for d, or until nothing is in flight when synced
// is set (then d is a time limit).
func (ed *editor) await(ctx context.Context, d time.Duration, synced bool) error {
	if synced && ed.s.Synced() {
		return nil
	}
	t := time.NewTimer(max(d, 0))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if synced {
				return errNoAck
			}
			return nil
		case ev, ok := <-ed.s.Events():
			if !ok {
				return errors.New("connection ended")
			}
			ed.handle(ev)
			if synced && ed.s.Synced() {
				return nil
			}
		}
	}
}
