package web_test

// Benchmarks of the editors in headless Chromium (docs/benchmarks.md,
// "Browser editors"). They are benchmarks, not tests: they report
// latencies and never assert them. Run them all with
//
//	go test -run '^$' -bench Browser -benchtime 1x -count 3 -timeout 90m -v ./web/
//
// (-v prints why a benchmark was skipped: an editor that did not keep up.)
// Each sub-benchmark measures a fixed sample whatever b.N is. With
// COLLAB_BENCH_PROFILE=dir, the pages' JavaScript CPU profiles are written
// to dir (open them in Chrome's DevTools), each with its costliest
// functions in a .top.txt file.

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
)

// benchText returns about n bytes of prose: paragraphs of five lines.
func benchText(n int) string {
	const line = "The quick brown fox jumps over the lazy dog, again and again and again.\n"
	para := strings.Repeat(line, 5) + "\n"
	return strings.Repeat(para, n/len(para)+1)[:n]
}

// percentile returns the p-th percentile of sorted xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return xs[min(len(xs)-1, int(p*float64(len(xs))))]
}

// afterPaint is a JavaScript function body that calls done with the time
// once the frame after now has been painted.
const afterPaint = `requestAnimationFrame(() => setTimeout(done));`

// stageTimes wraps the page's WebSocket to timestamp, per inserted code
// point, when a submit left (sent) and when an op arrived (arrived), its
// handler returned (handled) and the next frame was painted (painted).
// Times are the wall clock in ms (performance.timeOrigin + now), which
// pages of one browser share.
const stageTimes = `(() => {
	const W = window.WebSocket;
	const now = () => performance.timeOrigin + performance.now();
	const count = (data) => JSON.parse(data).op.filter((c) => typeof c === 'string').reduce((k, s) => k + s.length - (s.match(/[\ud800-\udbff][\udc00-\udfff]/g) || []).length, 0);
	const push = (list, t, n) => { for (let i = 0; i < n; i++) list.push(t); };
	window.stages = { sent: [], arrived: [], handled: [], painted: [] };
	window.WebSocket = class extends W {
		send(data) {
			if (typeof data === 'string' && data.startsWith('{"type":"submit"')) push(stages.sent, now(), count(data));
			super.send(data);
		}
		set onmessage(f) {
			super.onmessage = (e) => {
				const t0 = now();
				f(e);
				if (typeof e.data !== 'string' || !e.data.startsWith('{"type":"op"')) return;
				const t1 = now();
				const n = count(e.data);
				push(stages.arrived, t0, n);
				push(stages.handled, t1, n);
				const done = () => push(stages.painted, now(), n);
				` + afterPaint + `
			};
		}
	};
})();`

// withScript is a step, before navigating, that runs src in every new
// document of the tab.
func withScript(src string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	})
}

// stages reads a page's stage timestamps.
func readStages(b *testing.B, tab context.Context) map[string][]float64 {
	var st map[string][]float64
	if err := json.Unmarshal([]byte(evalString(tab, `JSON.stringify(stages)`)), &st); err != nil {
		b.Fatal(err)
	}
	return st
}

// keptUp waits, as waitJS does, until expr is true in tab; a page that is
// still behind waitFor after the workload ended is the benchmark's result
// (the editor did not keep up), reported as a skip with that reason.
func keptUp(b *testing.B, tab context.Context, what, expr string) {
	b.Helper()
	tctx, cancel := context.WithTimeout(tab, waitFor+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitFor)))
	if err != nil {
		b.Skipf("did not keep up: %s, not done %v after the workload (%v)", what, waitFor, err)
	}
}

// reportLatency reports the p50 and p95 of to[i]-from[i] over [lo, hi).
func reportLatency(b *testing.B, from, to []float64, lo, hi int, unit string) {
	b.Helper()
	if len(from) < hi || len(to) < hi {
		b.Fatalf("%s: %d and %d times, want %d", unit, len(from), len(to), hi)
	}
	var d []float64
	for i := lo; i < hi; i++ {
		d = append(d, to[i]-from[i])
	}
	sort.Float64s(d)
	b.ReportMetric(percentile(d, 0.5), unit+"-p50-ms")
	b.ReportMetric(percentile(d, 0.95), unit+"-p95-ms")
}

// BenchmarkBrowserKeystrokeToPaint: a key pressed on page A until the
// character is painted on page B, both editing one document, typing at the
// end or in the middle.
func BenchmarkBrowserKeystrokeToPaint(b *testing.B) {
	for _, editor := range []string{"codemirror", "textarea"} {
		for _, doc := range []struct {
			name string
			text string
		}{{"1KB", benchText(1 << 10)}, {"1MB", benchText(1 << 20)}} {
			for _, where := range []string{"end", "middle"} {
				b.Run(editor+"/"+doc.name+"/"+where, func(b *testing.B) {
					keystrokeToPaint(b, editor, doc.text, where)
				})
			}
		}
	}
	// One paragraph: too long for Markdown highlighting, which is turned
	// off (js/langcap.js), so it costs what the 1 MB of paragraphs does.
	for _, n := range []int{1 << 13, 1 << 20} {
		text := strings.ReplaceAll(benchText(n), "\n\n", "\n")
		b.Run(fmt.Sprintf("codemirror/%dKB-one-paragraph/middle", n>>10), func(b *testing.B) {
			keystrokeToPaint(b, "codemirror", text, "middle")
		})
	}
}

// keystrokeToPaint reports the latency from keydown on A to the frame
// painted on B (key), and its stages: keydown to the submit leaving A
// (send), to the op arriving on B (server: the network, the server and
// its fsync), B's message handler (apply), and from there to the frame
// painted (paint).
func keystrokeToPaint(b *testing.B, editor, text string, where string) {
	const keys, warm = 60, 5
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	putDoc(b, srv, "bench", text)
	url := srv.URL + "/d/bench?editor=" + editor + "&name="
	pa := openPage(b, browser, url+"A", editorSelector, withScript(stageTimes))
	pb := openPage(b, browser, url+"B", editorSelector, withScript(stageTimes))
	waitJS(b, pa, "A synced", synced)
	waitJS(b, pb, "B synced", synced)
	run(b, pa, evalJS(`(() => { window.keyTimes = [];
		document.addEventListener('keydown', () => keyTimes.push(performance.timeOrigin + performance.now()), true); return true; })()`))
	at := -1
	if where == "middle" {
		at = len(text) / 2
	}
	run(b, pa, caretAt(at))
	run(b, pb, scrollTo(at)) // B watches the place A types at
	quiet(b, pa)
	quiet(b, pb)
	stop := startProfile(b, pb, "B")
	cpu := cpuMeter(b)
	acks := ackMeter(b, srv.URL)
	b.ResetTimer()
	for i := 0; i < warm+keys; i++ {
		run(b, pa, pressKey("x"))
		time.Sleep(80 * time.Millisecond) // the typing pace (a workload, not a wait)
	}
	keptUp(b, pb, "B to paint every key", fmt.Sprintf(`stages.painted.length >= %d`, warm+keys))
	b.StopTimer()
	cpu(warm + keys)
	acks()
	reportLoad(b)
	stop()
	var keyTimes []float64
	if err := json.Unmarshal([]byte(evalString(pa, `JSON.stringify(keyTimes)`)), &keyTimes); err != nil {
		b.Fatal(err)
	}
	sa, sb := readStages(b, pa), readStages(b, pb)
	n := warm + keys
	reportLatency(b, keyTimes, sb["painted"], warm, n, "key")
	reportLatency(b, keyTimes, sa["sent"], warm, n, "send")
	reportLatency(b, sa["sent"], sb["arrived"], warm, n, "server")
	reportLatency(b, sb["arrived"], sb["handled"], warm, n, "apply")
	reportLatency(b, sb["handled"], sb["painted"], warm, n, "paint")
}

// scrollTo scrolls the editor, without moving its caret, so that UTF-16
// index i (-1: the end) is in view.
func scrollTo(i int) chromedp.Action[chromedp.Void] {
	return evalJS(fmt.Sprintf(`(() => { %s
		const n = view ? view.state.doc.length : ta.value.length; const a = %d < 0 ? n : %d;
		if (view) view.dispatch({ effects: view.constructor.scrollIntoView(a, { y: 'center' }) });
		else ta.scrollTop = a / Math.max(n, 1) * ta.scrollHeight - ta.clientHeight / 2;
		return true; })()`, editorJS, i, i))
}

// BenchmarkBrowserRemoteOp: what another editor's op costs the page that
// receives it, as the document grows: the time in its message handler and
// until the next frame is painted. The ops come from a Go client inserting
// one character in the middle of the document; insert-to-paint is the
// keystroke benchmark's key latency with the typing page replaced by that
// client (the server's part and the receiving page's).
func BenchmarkBrowserRemoteOp(b *testing.B) {
	for _, editor := range []string{"codemirror", "textarea"} {
		for _, size := range []struct {
			name string
			n    int
		}{{"10KB", 10 << 10}, {"1MB", 1 << 20}, {"10MB", 10 << 20}} {
			b.Run(editor+"/"+size.name, func(b *testing.B) { remoteOp(b, editor, size.n) })
		}
	}
}

func remoteOp(b *testing.B, editor string, size int) {
	const ops, warm = 100, 10
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	putDoc(b, srv, "bench", benchText(size))
	tab := openPage(b, browser, srv.URL+"/d/bench?name=B&editor="+editor, editorSelector, withScript(stageTimes))
	waitJS(b, tab, "the page synced", synced)
	run(b, tab, scrollTo(size/2)) // the page shows where the ops land
	quiet(b, tab)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, err := client.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws", client.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	doc, err := conn.Join(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	stop := startProfile(b, tab, "page")
	cpu := cpuMeter(b)
	var sent []float64 // wall clock in ms, as the page's stage times
	b.ResetTimer()
	for i := 0; i < warm+ops; i++ {
		sent = append(sent, float64(time.Now().UnixMicro())/1000)
		if err := doc.Insert(doc.Len()/2, "y"); err != nil {
			b.Fatal(err)
		}
		if err := doc.WaitSynced(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // the pace of another typist (a workload, not a wait)
	}
	keptUp(b, tab, "the page to handle every op", fmt.Sprintf(`stages.painted.length >= %d`, warm+ops))
	b.StopTimer()
	cpu(warm + ops)
	reportLoad(b)
	stop()
	st := readStages(b, tab)
	reportLatency(b, st["arrived"], st["handled"], warm, warm+ops, "handler")
	reportLatency(b, st["arrived"], st["painted"], warm, warm+ops, "painted")
	reportLatency(b, sent, st["painted"], warm, warm+ops, "insert-to-paint")
}

// quiet turns off the DevTools agents chromedp enables on a tab and the
// benchmark does not use (network, DOM, CSS, log, inspector): each reports
// every WebSocket frame or DOM change of the page to the driver, work a
// person's browser does not do.
func quiet(b *testing.B, tab context.Context) {
	b.Helper()
	run(b, tab, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, m := range []string{"Network.disable", "DOM.disable", "CSS.disable", "Log.disable", "Inspector.disable"} {
			if err := t.Call(ctx, m, nil, nil); err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
		return nil
	}))
}
