package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/collabd/collab/internal/bench/procstat"
	"github.com/collabd/collab/internal/bench/stats"
	"github.com/collabd/collab/storage/bolt"
)

// report is the outcome of one run, printed as a table or as JSON.
type report struct {
	System               string            `json:"system"`
	Mode                 string            `json:"mode"` // "edits", "idle" or "trace"
	Trace                string            `json:"trace,omitempty"`
	Docs                 int               `json:"docs"`
	Editors              int               `json:"editors_per_doc"`
	Typists              int               `json:"typists_per_doc"`
	EditorsWhoTyped      int               `json:"editors_who_typed"`
	Readers              string            `json:"readers,omitempty"` // client of the editors that do not type
	TraceClient          string            `json:"trace_client,omitempty"`
	Connections          int               `json:"connections"`
	Rate                 float64           `json:"rate_per_editor"` // 0: as fast as acks allow
	Seed                 uint64            `json:"seed"`
	DurationS            float64           `json:"duration_s"`
	ConnectS             float64           `json:"connect_s"`
	Edits                int64             `json:"edits"`
	EditsPerSec          float64           `json:"edits_per_s"`
	Acks                 int64             `json:"acks"`
	AcksPerSec           float64           `json:"acks_per_s"`
	Deliveries           int64             `json:"deliveries"`
	DeliveriesPerSec     float64           `json:"deliveries_per_s"`
	SubmitToAck          stats.Summary     `json:"submit_to_ack"`
	SubmitToOthers       stats.Summary     `json:"submit_to_others"`
	Reconnects           int64             `json:"reconnects"`
	Errors               int64             `json:"errors"`
	Rejects              int64             `json:"rejects"`
	MissedEvents         int64             `json:"missed_events"`
	Skew                 int64             `json:"seq_skew"`
	Undelivered          int64             `json:"undelivered"`
	Server               *procstat.Summary `json:"server,omitempty"` // a cluster's processes summed
	Nodes                []nodeReport      `json:"nodes,omitempty"`  // a cluster's nodes
	ServerInProcess      bool              `json:"server_in_process"`
	Bench                procstat.Summary  `json:"bench_process"`
	Store                *storeSummary     `json:"store,omitempty"`
	Idle                 *idleSummary      `json:"idle,omitempty"`
	Converged            *bool             `json:"converged"` // null: not checked
	ConvergeNote         string            `json:"convergence"`
	Failures             []string          `json:"failures,omitempty"`
	Warnings             []string          `json:"warnings,omitempty"`
	FewestEdits          int64             `json:"fewest_edits_by_an_editor"`
	Baseline             *report           `json:"baseline,omitempty"`
	AcksVsBaseline       float64           `json:"acks_vs_baseline,omitempty"`
	DeliveriesVsBaseline float64           `json:"deliveries_vs_baseline,omitempty"` // with -pairs, the median of the pairs'
	Pairs                []pair            `json:"pairs,omitempty"`
	Machine              machine           `json:"machine"`

	series *plotData
}

// pair is one run of the server and the baseline hub after it (-baseline,
// -pairs).
type pair struct {
	AcksPerSec           float64 `json:"acks_per_s"`
	DeliveriesPerSec     float64 `json:"deliveries_per_s"`
	BaseAcksPerSec       float64 `json:"baseline_acks_per_s"`
	BaseDeliveriesPerSec float64 `json:"baseline_deliveries_per_s"`
	AcksRatio            float64 `json:"acks_vs_baseline"`
	DeliveriesRatio      float64 `json:"deliveries_vs_baseline"`
}

func newPair(server, base *report) pair {
	p := pair{
		AcksPerSec: server.AcksPerSec, DeliveriesPerSec: server.DeliveriesPerSec,
		BaseAcksPerSec: base.AcksPerSec, BaseDeliveriesPerSec: base.DeliveriesPerSec,
	}
	if base.AcksPerSec > 0 {
		p.AcksRatio = round3(server.AcksPerSec / base.AcksPerSec)
	}
	if base.DeliveriesPerSec > 0 {
		p.DeliveriesRatio = round3(server.DeliveriesPerSec / base.DeliveriesPerSec)
	}
	return p
}

// medianOf is the median of f over ps (the mean of the middle two for an
// even count).
func medianOf(ps []pair, f func(pair) float64) float64 {
	if len(ps) == 0 {
		return 0
	}
	xs := make([]float64, len(ps))
	for i, p := range ps {
		xs[i] = f(p)
	}
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return round3((xs[m-1] + xs[m]) / 2)
}

// storeSummary is what the in-process bbolt store did while the editors
// typed: how many group commits, how long each took, how full they were.
type storeSummary struct {
	Commits          uint64  `json:"commits"`
	MeanCommitMS     float64 `json:"mean_commit_ms"`
	AppendsPerCommit float64 `json:"appends_per_commit"` // documents per transaction, roughly
	OpsPerCommit     float64 `json:"ops_per_commit"`
	BusyPercent      float64 `json:"busy_percent"` // share of the window spent committing
}

func summarizeStore(a, b bolt.Stats, window time.Duration) *storeSummary {
	n := b.Commits - a.Commits
	if n == 0 {
		return &storeSummary{}
	}
	busy := b.CommitTime - a.CommitTime
	return &storeSummary{
		Commits:          n,
		MeanCommitMS:     round3(float64(busy) / float64(n) / float64(time.Millisecond)),
		AppendsPerCommit: round1(float64(b.Writes-a.Writes) / float64(n)),
		OpsPerCommit:     round1(float64(b.Ops-a.Ops) / float64(n)),
		BusyPercent:      round1(float64(busy) / float64(window) * 100),
	}
}

type machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	Go       string `json:"go"`
	Date     string `json:"date"`
}

func thisMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().Format("2006-01-02")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// noteLag warns when the load generator could not keep to the workload:
// the typing window overran, or some editor made far fewer edits than its
// rate asks. Latencies of such a run include the generator's own delays.
func (r *report) noteLag(wl workload, window time.Duration, eds []*editor) {
	typists := 0
	for _, ed := range eds {
		n := ed.made.Load()
		if n > 0 {
			r.EditorsWhoTyped++
		}
		if ed.typist {
			if typists == 0 || n < r.FewestEdits {
				r.FewestEdits = n
			}
			typists++
		}
	}
	if window > wl.duration+wl.duration/20+time.Second {
		r.Warnings = append(r.Warnings, fmt.Sprintf("the typing window took %.1f s for %s asked: the load generator fell behind (its goroutines waited for CPU), so latencies include its own delays", window.Seconds(), wl.duration))
	}
	if wl.rate > 0 && typists > 0 {
		want := wl.rate * wl.duration.Seconds()
		if float64(r.FewestEdits) < want/2 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("one editor made only %d edits of the %.0f its rate asks: the load generator fell behind", r.FewestEdits, want))
		}
	}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func writeReport(w io.Writer, r *report, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	writeTable(tw, r)
	if b := r.Baseline; b != nil {
		fmt.Fprintln(tw)
		writeTable(tw, b)
		fmt.Fprintln(tw)
		label := "vs baseline"
		if len(r.Pairs) > 1 {
			for i, p := range r.Pairs {
				fmt.Fprintf(tw, "pair %d\tdeliveries/s %.0f vs %.0f\t%.1f%%\n", i+1, p.DeliveriesPerSec, p.BaseDeliveriesPerSec, p.DeliveriesRatio*100)
			}
			label = fmt.Sprintf("vs baseline, median of %d pairs", len(r.Pairs))
		}
		fmt.Fprintf(tw, "%s\tacks/s %.1f%%\tdeliveries/s %.1f%%\n", label, r.AcksVsBaseline*100, r.DeliveriesVsBaseline*100)
	}
	return tw.Flush()
}

func writeTable(w io.Writer, r *report) {
	rate := fmt.Sprintf("%g edits/s each", r.Rate)
	if r.Rate == 0 {
		rate = "as fast as acks allow"
	}
	if r.Mode == "idle" {
		rate = "idle: nobody types"
	}
	fmt.Fprintf(w, "system\t%s\n", r.System)
	if r.Mode == "trace" {
		fmt.Fprintf(w, "workload\ttrace %s, one typist (%s client), %s\n", r.Trace, r.TraceClient, rate)
	} else {
		typists := ""
		if r.Typists > 0 && r.Typists < r.Editors {
			typists = fmt.Sprintf(" of whom %d type (%d did; readers: %s client)", r.Typists, r.EditorsWhoTyped, r.Readers)
		}
		fmt.Fprintf(w, "workload\t%d docs × %d editors (%d connections)%s, %s, seed %d\n", r.Docs, r.Editors, r.Connections, typists, rate, r.Seed)
	}
	fmt.Fprintf(w, "duration\t%.1f s (connecting took %.1f s)\n", r.DurationS, r.ConnectS)
	fmt.Fprintf(w, "edits\t%d\t%.1f/s\n", r.Edits, r.EditsPerSec)
	fmt.Fprintf(w, "acks\t%d\t%.1f/s\n", r.Acks, r.AcksPerSec)
	fmt.Fprintf(w, "deliveries\t%d\t%.1f/s\n", r.Deliveries, r.DeliveriesPerSec)
	fmt.Fprintf(w, "latency (ms)\tp50\tp95\tp99\tmax\tcount\n")
	for _, l := range []struct {
		name string
		s    stats.Summary
	}{{"submit→ack", r.SubmitToAck}, {"submit→others", r.SubmitToOthers}} {
		fmt.Fprintf(w, "  %s\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", l.name, l.s.P50, l.s.P95, l.s.P99, l.s.Max, l.s.Count)
	}
	fmt.Fprintf(w, "reconnects, errors, rejects\t%d, %d, %d\n", r.Reconnects, r.Errors, r.Rejects)
	fmt.Fprintf(w, "missed events, seq skew, undelivered\t%d, %d, %d\n", r.MissedEvents, r.Skew, r.Undelivered)
	if s := r.Server; s != nil {
		who := "server"
		if r.ServerInProcess {
			who = "process (server + load)"
		}
		fmt.Fprintf(w, "%s\tcpu %.0f%%\trss max %.0f MB\tfds max %d\n", who, s.CPUPercent, s.RSSMaxMB, s.FDsMax)
	}
	for _, n := range r.Nodes {
		fmt.Fprintf(w, "node %s\t%d editors\tacks %d\tdeliveries %d\treconnects %d", n.URL, n.Editors, n.Acks, n.Deliveries, n.Reconnects)
		if s := n.Server; s != nil {
			fmt.Fprintf(w, "\tcpu %.0f%%\trss max %.0f MB", s.CPUPercent, s.RSSMaxMB)
		}
		fmt.Fprintln(w)
	}
	if !r.ServerInProcess {
		fmt.Fprintf(w, "load generator\tcpu %.0f%%\trss max %.0f MB\n", r.Bench.CPUPercent, r.Bench.RSSMaxMB)
	}
	if s := r.Idle; s != nil {
		fmt.Fprintf(w, "idle\t%d connections held %.0f s\tserver rss before %.1f MB\tconnected %.1f MB\tend %.1f MB\tfds %d\n",
			s.Connections, s.HoldS, s.ServerBeforeMB, s.ServerConnectedMB, s.ServerEndMB, s.ServerFDs)
		fmt.Fprintf(w, "per connection\tserver %.1f KB (%.1f KB at connect)\tload generator %.1f KB\n", s.PerConnKB, s.AtConnectKB, s.ClientPerConnKB)
		if g := s.Runtime; g != nil {
			fmt.Fprintf(w, "server's Go runtime\t%.1f goroutines\tstacks %.1f KB\theap %.1f KB (spans in use %.1f KB) per connection\n", g.Goroutines, g.StackKB, g.HeapKB, g.HeapInuseKB)
		}
		if s.AllConns > 0 {
			fmt.Fprintf(w, "with the other run\t%d connections\tserver %.1f KB each\n", s.AllConns, s.AllPerConnKB)
		}
	}
	if s := r.Store; s != nil {
		fmt.Fprintf(w, "store (bbolt)\t%d commits\tmean %.2f ms\t%.1f appends, %.1f ops each\tbusy %.0f%%\n",
			s.Commits, s.MeanCommitMS, s.AppendsPerCommit, s.OpsPerCommit, s.BusyPercent)
	}
	fmt.Fprintf(w, "convergence\t%s\n", r.ConvergeNote)
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "WARNING\t%s\n", warn)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "FAILED\t%s\n", f)
	}
	m := r.Machine
	fmt.Fprintf(w, "machine\t%d CPUs, %s, %s, %s\n", m.CPUs, m.CPUModel, m.Go, m.Date)
}
