package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"
)

// startProfile starts the JavaScript CPU profiler of tab (page names it) when
// COLLAB_BENCH_PROFILE names a directory, and returns the function that
// stops it, writes the profile there and logs the functions that took the
// most time of their own.
func startProfile(b *testing.B, tab context.Context, page string) (stop func()) {
	dir := os.Getenv("COLLAB_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	call := func(f func(ctx context.Context, t *chromedp.Target) error) {
		b.Helper()
		run(b, tab, chromedp.Func(f))
	}
	call(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, profiler.Enable, cdp.Empty{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, t, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, profiler.Start, cdp.Empty{})
		return err
	})
	return func() {
		var prof *profiler.Profile
		call(func(ctx context.Context, t *chromedp.Target) error {
			res, err := cdp.Call(ctx, t, profiler.Stop, cdp.Empty{})
			prof = res.Profile
			return err
		})
		if prof == nil {
			b.Fatal("no profile")
		}
		data, err := json.Marshal(prof)
		if err != nil {
			b.Fatal(err)
		}
		name := filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+"-"+page+".cpuprofile")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			b.Fatal(err)
		}
		top := topSelf(prof, 40)
		if err := os.WriteFile(strings.TrimSuffix(name, ".cpuprofile")+".top.txt", []byte(top), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("profile %s, self time in .top.txt", name)
	}
}

// topSelf lists the n functions with the most self time in prof.
func topSelf(prof *profiler.Profile, n int) string {
	origin := ""
	for _, node := range prof.Nodes {
		if u, err := url.Parse(node.CallFrame.URL); err == nil && u.Host != "" {
			origin = u.Scheme + "://" + u.Host
			break
		}
	}
	byID := map[int64]*profiler.ProfileNode{}
	for _, node := range prof.Nodes {
		byID[node.ID] = node
	}
	self := map[string]float64{}
	var total float64
	for i, id := range prof.Samples {
		if i >= len(prof.TimeDeltas) {
			break
		}
		ms := float64(prof.TimeDeltas[i]) / 1000
		node := byID[id]
		if node == nil || node.CallFrame == nil {
			continue
		}
		f := node.CallFrame
		key := fmt.Sprintf("%s %s:%d:%d", f.FunctionName, strings.TrimPrefix(f.URL, origin), f.LineNumber+1, f.ColumnNumber+1)
		self[key] += ms
		total += ms
	}
	keys := make([]string, 0, len(self))
	for k := range self {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return self[keys[i]] > self[keys[j]] })
	var sb strings.Builder
	fmt.Fprintf(&sb, "\t%.0f ms sampled\n", total)
	for _, k := range keys[:min(n, len(keys))] {
		fmt.Fprintf(&sb, "\t%8.1f ms  %s\n", self[k], k)
	}
	return sb.String()
}

// ackMeter reports, when stopped, the server's mean time from receiving a
// submit to sending its ack since it started (ack-mean-ms) and the mean
// time of a store commit, fsync included (commit-mean-ms), from url's
// /metrics: the part of the server stage spent in collabd.
func ackMeter(b *testing.B, url string) (stop func()) {
	s0 := scrape(b, url)
	return func() {
		s1 := scrape(b, url)
		mean := func(name, unit string) {
			if n := s1[name+"_count"] - s0[name+"_count"]; n > 0 {
				b.ReportMetric((s1[name+"_sum"]-s0[name+"_sum"])/n*1000, unit)
			}
		}
		mean("collab_submit_to_ack_seconds", "ack-mean-ms")
		mean("collab_commit_seconds", "commit-mean-ms")
	}
}

// scrape reads the unlabelled samples of url's /metrics.
func scrape(b *testing.B, url string) map[string]float64 {
	res, err := http.Get(url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(data), "\n") {
		name, v, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			out[name] = f
		}
	}
	return out
}

// pressKey presses the key of a lower-case letter as a keyboard does: one
// keyDown that carries its text (keydown, keypress and input in one task),
// then keyUp. chromedp.KeyEvent sends the text in a second call after the
// keydown, so a latency measured from keydown would include that round
// trip of the driver.
func pressKey(letter string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		code := "Key" + strings.ToUpper(letter)
		vk := int64(strings.ToUpper(letter)[0])
		down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Key: letter, Code: code, Text: letter, UnmodifiedText: letter, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk}
		if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		up := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyUp, Key: letter, Code: code, WindowsVirtualKeyCode: vk, NativeVirtualKeyCode: vk}
		_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, up)
		return err
	})
}

// reportLoad reports the machine's one-minute load average (Linux), which
// the browser benchmarks' figures depend on.
func reportLoad(b *testing.B) {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return
	}
	var load float64
	if _, err := fmt.Sscan(string(data), &load); err == nil {
		b.ReportMetric(load, "loadavg")
	}
}

// cpuTimes returns the CPU time used so far by this process (under "go":
// the server and the benchmark) and by its descendants (Chromium), by
// Chromium's kind of process ("browser", "renderer", "gpu-process",
// "utility"), on Linux.
func cpuTimes() map[string]time.Duration {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	cpu := map[int]time.Duration{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command, which ends with the last ')': state,
		// ppid, ... utime (11th) and stime (12th) in clock ticks.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		parent[pid], _ = strconv.Atoi(f[1])
		ut, _ := strconv.Atoi(f[11])
		st, _ := strconv.Atoi(f[12])
		cpu[pid] = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	}
	me := os.Getpid()
	out := map[string]time.Duration{"go": cpu[me]}
	for pid, d := range cpu {
		for p := parent[pid]; p > 1; p = parent[p] {
			if p == me {
				out[chromiumKind(pid)] += d
				break
			}
		}
	}
	return out
}

// chromiumKind returns the --type of a Chromium process, or "browser" for
// the main one.
func chromiumKind(pid int) string {
	data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	// Chromium's children rewrite their command line as one string.
	for _, arg := range strings.FieldsFunc(string(data), func(r rune) bool { return r == 0 || r == ' ' }) {
		if kind, ok := strings.CutPrefix(arg, "--type="); ok {
			return kind
		}
	}
	return "browser"
}

// cpuMeter reports, when stopped, the CPU time used since it started by
// the test process (go-cpu-ms: the server and the benchmark's driver) and
// by Chromium (browser-cpu-ms, and each kind of its processes), in ms per
// unit of work (n units): set against the latencies, it tells the
// machine's load from the work.
func cpuMeter(b *testing.B) (stop func(n int)) {
	t0 := cpuTimes()
	return func(n int) {
		t1 := cpuTimes()
		perUnit := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(n) }
		var browser time.Duration
		for kind, d := range t1 {
			if kind == "go" {
				b.ReportMetric(perUnit(d-t0[kind]), "go-cpu-ms")
				continue
			}
			browser += d - t0[kind]
			b.ReportMetric(perUnit(d-t0[kind]), "cpu-"+kind+"-ms")
		}
		b.ReportMetric(perUnit(browser), "browser-cpu-ms")
	}
}
