package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runJSON(t *testing.T, args ...string) (*report, string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := run(ctx, append(args, "-json"), env{stdout: &out, stderr: &errb})
	if err != nil {
		t.Fatalf("run %v: %v\nstderr:\n%s", args, err, errb.String())
	}
	var r report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	return &r, errb.String()
}

func TestEditsInproc(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "lat.svg")
	r, stderr := runJSON(t, "-server", "inproc", "-docs", "2", "-editors", "2", "-rate", "0", "-duration", "1s", "-plot", plot)
	if r.Acks == 0 || r.AcksPerSec <= 0 || r.Deliveries == 0 {
		t.Errorf("acks %d (%v/s), deliveries %d: want non-zero", r.Acks, r.AcksPerSec, r.Deliveries)
	}
	if r.Converged == nil || !*r.Converged {
		t.Errorf("converged = %v (%s), want checked and true", r.Converged, r.ConvergeNote)
	}
	if r.SubmitToAck.Count != int(r.Acks) || r.SubmitToAck.P99 <= 0 || r.SubmitToAck.Max < r.SubmitToAck.P99 {
		t.Errorf("submit_to_ack = %+v, want one sample per ack (%d), 0 < p99 <= max", r.SubmitToAck, r.Acks)
	}
	// Two editors per document: every ack is one delivery.
	if r.SubmitToOthers.Count != int(r.Acks) || r.Undelivered != 0 {
		t.Errorf("submit_to_others count %d, undelivered %d; want %d and 0", r.SubmitToOthers.Count, r.Undelivered, r.Acks)
	}
	if r.Skew != 0 || r.Errors != 0 || r.MissedEvents != 0 {
		t.Errorf("skew %d errors %d missed %d, want 0", r.Skew, r.Errors, r.MissedEvents)
	}
	if r.Server == nil || r.Server.RSSMaxMB <= 0 || !r.ServerInProcess {
		t.Errorf("server = %+v in process %v, want RSS read from /proc", r.Server, r.ServerInProcess)
	}
	if !strings.Contains(stderr, "edits") {
		t.Errorf("no progress line on stderr:\n%s", stderr)
	}
	svg, err := os.ReadFile(plot)
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("polyline")) {
		t.Errorf("plot: %v, %.80q", err, svg)
	}
}

func TestEditsAtRateWithBaseline(t *testing.T) {
	r, _ := runJSON(t, "-server", "inproc", "-docs", "2", "-editors", "3", "-rate", "20", "-duration", "1s", "-baseline")
	if r.Acks == 0 || r.Converged == nil || !*r.Converged {
		t.Fatalf("acks %d converged %v: want acks and convergence", r.Acks, r.Converged)
	}
	// Three editors: each ack reaches two others.
	if r.SubmitToOthers.Count != 2*int(r.Acks) {
		t.Errorf("deliveries measured %d, want 2 × %d acks", r.SubmitToOthers.Count, r.Acks)
	}
	b := r.Baseline
	if b == nil || b.Acks == 0 || b.Converged != nil {
		t.Fatalf("baseline = %+v, want acks and convergence not checked", b)
	}
	if r.DeliveriesVsBaseline <= 0 {
		t.Errorf("deliveries_vs_baseline = %v, want > 0", r.DeliveriesVsBaseline)
	}
}

func TestBaselinePairs(t *testing.T) {
	r, stderr := runJSON(t, "-server", "inproc", "-docs", "2", "-editors", "2", "-rate", "0", "-duration", "300ms", "-baseline", "-pairs", "3")
	if len(r.Pairs) != 3 {
		t.Fatalf("pairs %+v, want 3", r.Pairs)
	}
	for i, p := range r.Pairs {
		if p.DeliveriesPerSec <= 0 || p.BaseDeliveriesPerSec <= 0 || p.DeliveriesRatio <= 0 {
			t.Errorf("pair %d = %+v, want every figure > 0", i+1, p)
		}
	}
	if want := medianOf(r.Pairs, func(p pair) float64 { return p.DeliveriesRatio }); r.DeliveriesVsBaseline != want {
		t.Errorf("deliveries_vs_baseline %v, want the pairs' median %v", r.DeliveriesVsBaseline, want)
	}
	if p := r.Pairs[0]; r.DeliveriesPerSec != p.DeliveriesPerSec || r.Baseline.DeliveriesPerSec != p.BaseDeliveriesPerSec {
		t.Errorf("tables of %v and %v, want the first pair's %+v", r.DeliveriesPerSec, r.Baseline.DeliveriesPerSec, p)
	}
	if !strings.Contains(stderr, "pair 3 of 3: baseline hub") {
		t.Errorf("no progress line for the last pair:\n%s", stderr)
	}
}

func TestMedianOf(t *testing.T) {
	for _, tc := range []struct {
		ratios []float64
		want   float64
	}{
		{nil, 0},
		{[]float64{0.5}, 0.5},
		{[]float64{0.7, 0.5}, 0.6},
		{[]float64{0.9, 0.1, 0.5}, 0.5},
		{[]float64{0.4, 0.9, 0.1, 0.6}, 0.5},
	} {
		ps := make([]pair, len(tc.ratios))
		for i, x := range tc.ratios {
			ps[i].DeliveriesRatio = x
		}
		if got := medianOf(ps, func(p pair) float64 { return p.DeliveriesRatio }); got != tc.want {
			t.Errorf("medianOf(%v) = %v, want %v", tc.ratios, got, tc.want)
		}
	}
}

func TestTypists(t *testing.T) {
	// One typist in each document of four editors: the other three only
	// receive, so each ack is three deliveries and two editors typed.
	r, _ := runJSON(t, "-server", "inproc", "-docs", "2", "-editors", "4", "-typists", "1", "-rate", "0", "-duration", "500ms")
	if r.Acks == 0 || r.Converged == nil || !*r.Converged {
		t.Fatalf("acks %d converged %v (%s): want acks and convergence", r.Acks, r.Converged, r.ConvergeNote)
	}
	if r.Typists != 1 || r.EditorsWhoTyped != 2 {
		t.Errorf("typists %d, editors who typed %d; want 1 and 2", r.Typists, r.EditorsWhoTyped)
	}
	if r.SubmitToOthers.Count != 3*int(r.Acks) {
		t.Errorf("deliveries measured %d, want 3 × %d acks", r.SubmitToOthers.Count, r.Acks)
	}
	if r.FewestEdits == 0 {
		t.Errorf("fewest edits by a typist = 0, want the typists' count, not the readers'")
	}
}

func TestMemoryStore(t *testing.T) {
	r, _ := runJSON(t, "-server", "inproc-mem", "-docs", "2", "-editors", "2", "-rate", "0", "-duration", "300ms")
	if r.Acks == 0 || r.Converged == nil || !*r.Converged {
		t.Errorf("acks %d converged %v (%s): want acks and convergence", r.Acks, r.Converged, r.ConvergeNote)
	}
}

func TestBaselineHub(t *testing.T) {
	r, _ := runJSON(t, "-server", "baseline", "-docs", "2", "-editors", "2", "-rate", "0", "-duration", "500ms")
	if r.Acks == 0 || r.Deliveries == 0 || r.SubmitToOthers.Count == 0 {
		t.Errorf("acks %d deliveries %d, want non-zero", r.Acks, r.Deliveries)
	}
	if r.Converged != nil {
		t.Errorf("converged = %v, want null: the hub keeps no text", *r.Converged)
	}
}

func TestTraceReplay(t *testing.T) {
	// The first part of a real trace keeps the test short.
	path := filepath.Join(t.TempDir(), "part.json.gz")
	writeTracePrefix(t, "../../testdata/traces/sveltecomponent.json.gz", path, 300)
	r, _ := runJSON(t, "-server", "inproc", "-trace", path, "-rate", "0")
	if r.Mode != "trace" || r.Converged == nil || !*r.Converged {
		t.Fatalf("mode %q converged %v (%s): want trace, true", r.Mode, r.Converged, r.ConvergeNote)
	}
	// A transaction of several patches is a submit and a composed one.
	if r.Acks < 300 || r.Acks > r.Edits || r.Edits < 300 {
		t.Errorf("acks = %d, edits = %d; want 300 <= acks <= edits", r.Acks, r.Edits)
	}
}

func TestTraceReplayAtRate(t *testing.T) {
	// Typed faster than acks come back: the client composes, so fewer
	// submits than transactions, and the text must still be the trace's.
	path := filepath.Join(t.TempDir(), "part.json.gz")
	writeTracePrefix(t, "../../testdata/traces/sveltecomponent.json.gz", path, 300)
	r, _ := runJSON(t, "-server", "inproc", "-trace", path, "-rate", "5000")
	if r.Converged == nil || !*r.Converged {
		t.Fatalf("converged %v (%s), want true", r.Converged, r.ConvergeNote)
	}
	if r.Acks == 0 || r.Acks > r.Edits {
		t.Errorf("acks = %d, edits = %d; want 0 < acks <= edits", r.Acks, r.Edits)
	}
}

func TestFlagErrors(t *testing.T) {
	tests := [][]string{
		{"-docs", "0"},
		{"-rate", "-1"},
		{"-editors", "4", "-typists", "5"},
		{"-typists", "-1"},
		{"-readers", "js"},
		{"-docs", "3", "-conns", "2"},
		{"-idle", "-base-conns", "5"},
		{"-idle", "-server", "http://127.0.0.1:1"}, // no -server-pid
		{"-trace-client", "js"},
		{"-server", "baseline", "-readers", "wire", "-typists", "1"},
		{"-server", "ftp://x"},
		{"extra"},
	}
	for _, args := range tests {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, env{stdout: &out, stderr: &errb}); err == nil {
			t.Errorf("run %v succeeded, want an error", args)
		}
	}
	var errb bytes.Buffer
	err := run(context.Background(), []string{"-h"}, env{stdout: &bytes.Buffer{}, stderr: &errb})
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "submit→others") {
		t.Errorf("-h: err %v, want ErrHelp and the figures explained", err)
	}
}

func TestWireReaders(t *testing.T) {
	r, _ := runJSON(t, "-server", "inproc", "-docs", "2", "-editors", "4", "-typists", "1", "-readers", "wire", "-rate", "0", "-duration", "500ms")
	if r.Acks == 0 || r.Converged == nil || !*r.Converged {
		t.Fatalf("acks %d converged %v (%s): want acks and convergence", r.Acks, r.Converged, r.ConvergeNote)
	}
	if r.SubmitToOthers.Count != 3*int(r.Acks) || r.Undelivered != 0 {
		t.Errorf("deliveries measured %d, undelivered %d; want 3 × %d acks, 0", r.SubmitToOthers.Count, r.Undelivered, r.Acks)
	}
	if r.Errors != 0 || r.Readers != "wire" {
		t.Errorf("errors %d, readers %q; want 0, wire", r.Errors, r.Readers)
	}
}

func TestTraceReplayWireTypist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "part.json.gz")
	writeTracePrefix(t, "../../testdata/traces/sveltecomponent.json.gz", path, 2000)
	for _, rate := range []string{"0", "1000000"} {
		t.Run("rate="+rate, func(t *testing.T) {
			r, _ := runJSON(t, "-server", "inproc", "-trace", path, "-trace-client", "wire", "-rate", rate)
			if r.Converged == nil || !*r.Converged || r.TraceClient != "wire" {
				t.Fatalf("converged %v (%s), client %q; want true, wire", r.Converged, r.ConvergeNote, r.TraceClient)
			}
			if r.Acks == 0 || r.Acks > r.Edits || r.Errors != 0 {
				t.Errorf("acks = %d, edits = %d, errors %d; want 0 < acks <= edits, no errors", r.Acks, r.Edits, r.Errors)
			}
			if r.SubmitToAck.Count != int(r.Acks) {
				t.Errorf("submit→ack samples %d, want one per ack (%d)", r.SubmitToAck.Count, r.Acks)
			}
		})
	}
}
