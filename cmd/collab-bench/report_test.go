package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/internal/bench/procstat"
	"github.com/collabd/collab/internal/bench/stats"
)

func sampleReport() *report {
	var a, d stats.Recorder
	for i := 1; i <= 100; i++ {
		a.Add(time.Duration(i)*10*time.Millisecond, time.Duration(i)*time.Millisecond)
		d.Add(time.Duration(i)*10*time.Millisecond, time.Duration(2*i)*time.Millisecond)
	}
	ok := true
	return &report{
		System: "collabd at http://x", Mode: "edits", Docs: 2, Editors: 3, Connections: 6, Rate: 2,
		DurationS: 1, Acks: 100, AcksPerSec: 100, Deliveries: 200, DeliveriesPerSec: 200,
		SubmitToAck: stats.Merge(&a).Summarize(), SubmitToOthers: stats.Merge(&d).Summarize(),
		Server:    &procstat.Summary{CPUPercent: 50, RSSMaxMB: 12},
		Converged: &ok, ConvergeNote: "all 2 documents: every editor's text equals the server's",
		Baseline:       &report{System: "baseline hub (in process)", Mode: "edits", AcksPerSec: 400, DeliveriesPerSec: 800},
		AcksVsBaseline: 0.25, DeliveriesVsBaseline: 0.25,
		series: &plotData{ack: stats.Merge(&a), deliv: stats.Merge(&d)},
	}
}

func TestWriteReportTable(t *testing.T) {
	var b bytes.Buffer
	if err := writeReport(&b, sampleReport(), false); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"2 docs × 3 editors (6 connections), 2 edits/s each",
		"submit→ack", "50.00", "99.00", "100.00", // p50, p99, max of 1..100 ms
		"submit→others", "198.00",
		"server", "cpu 50%",
		"baseline hub (in process)",
		"deliveries/s 25.0%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteReportJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeReport(&b, sampleReport(), true); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	ack := got["submit_to_ack"].(map[string]any)
	if ack["p99_ms"] != 99.0 || ack["count"] != 100.0 {
		t.Errorf("submit_to_ack = %v, want p99_ms 99 and count 100", ack)
	}
	if got["deliveries_vs_baseline"] != 0.25 || got["converged"] != true {
		t.Errorf("deliveries_vs_baseline %v converged %v", got["deliveries_vs_baseline"], got["converged"])
	}
}

func TestPlotSVG(t *testing.T) {
	svg := plotSVG(sampleReport())
	if !strings.HasPrefix(svg, "<svg") || strings.Count(svg, "<polyline") != 4 {
		t.Errorf("want an SVG with four lines (p50 and p99 of both latencies), got:\n%.300s", svg)
	}
	if !strings.Contains(svg, "submit→others p99 198.0 ms") {
		t.Error("plot lacks the whole-run p99")
	}
}

func TestNiceCeil(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{{0, 1}, {0.7, 1}, {1.2, 2}, {3, 5}, {7, 10}, {130, 200}} {
		if got := niceCeil(tt.in); got != tt.want {
			t.Errorf("niceCeil(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNoteLag(t *testing.T) {
	mk := func(made ...int64) []*editor {
		var eds []*editor
		for _, m := range made {
			ed := &editor{typist: true}
			ed.made.Store(m)
			eds = append(eds, ed)
		}
		// A reader never types: it neither starves nor counts.
		eds = append(eds, &editor{})
		return eds
	}
	wl := workload{rate: 2, duration: 10 * time.Second}
	tests := []struct {
		name     string
		window   time.Duration
		made     []int64
		warnings int
	}{
		{"on time", 10*time.Second + 200*time.Millisecond, []int64{20, 19, 21}, 0},
		{"window overran", 14 * time.Second, []int64{20, 20}, 1},
		{"an editor starved", 10 * time.Second, []int64{20, 3}, 1},
		{"both", 30 * time.Second, []int64{1, 20}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r report
			r.noteLag(wl, tt.window, mk(tt.made...))
			if len(r.Warnings) != tt.warnings {
				t.Errorf("warnings = %q, want %d", r.Warnings, tt.warnings)
			}
			if want := slicesMin(tt.made); r.FewestEdits != want {
				t.Errorf("FewestEdits = %d, want %d", r.FewestEdits, want)
			}
			if r.EditorsWhoTyped != len(tt.made) {
				t.Errorf("EditorsWhoTyped = %d, want %d", r.EditorsWhoTyped, len(tt.made))
			}
		})
	}
}

func slicesMin(xs []int64) int64 {
	m := xs[0]
	for _, x := range xs {
		m = min(m, x)
	}
	return m
}
