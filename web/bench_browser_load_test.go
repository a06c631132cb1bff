package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
)

// countInserted wraps the page's WebSocket to count the code points that
// ops from the server inserted (inserted) and to record the wall-clock
// time of the frame painted after each (insertedAt).
const countInserted = `(() => {
	const W = window.WebSocket;
	window.inserted = 0;
	window.insertedAt = [];
	window.WebSocket = class extends W {
		set onmessage(f) {
			super.onmessage = (e) => {
				f(e);
				if (typeof e.data !== 'string' || !e.data.startsWith('{"type":"op"')) return;
				for (const c of JSON.parse(e.data).op) if (typeof c === 'string') inserted += c.length - (c.match(/[\ud800-\udbff][\udc00-\udfff]/g) || []).length;
				const n = inserted;
				const done = () => insertedAt.push([n, performance.timeOrigin + performance.now()]);
				` + afterPaint + `
			};
		}
	};
})();`

// wsLog wraps the page's WebSocket to log every message sent or received
// with its wall-clock time and size (wsLog: [ms, 'send' | 'recv', type,
// bytes]), and records the page's long tasks (longTasks: [ms, duration]).
const wsLog = `(() => {
	const W = window.WebSocket;
	const now = () => performance.timeOrigin + performance.now();
	const type = (d) => typeof d === 'string' ? (d.match(/^{"type":"(\w+)"/) || [])[1] : 'binary';
	window.wsLog = [];
	window.longTasks = [];
	new PerformanceObserver((l) => { for (const e of l.getEntries()) longTasks.push([performance.timeOrigin + e.startTime, e.duration]); }).observe({ type: 'longtask' });
	window.WebSocket = class extends W {
		send(d) { wsLog.push([now(), 'send', type(d), d.length]); super.send(d); }
		set onmessage(f) { super.onmessage = (e) => { wsLog.push([now(), 'recv', type(e.data), e.data.length]); f(e); }; }
	};
})();`

// stagePaste puts text in the page (window.pasteText) before the timing
// starts, so that carrying it over the DevTools protocol is not timed.
func stagePaste(text string) chromedp.Action[chromedp.Void] {
	return evalJS(`(() => { window.pasteText = ` + jsString(text) + `; return true; })()`)
}

// paste is a step pasting the staged text into the focused editor:
// CodeMirror's paste handler for CodeMirror, the browser's own text
// insertion (as for a paste) for the textarea.
func paste(editor string) chromedp.Action[chromedp.Void] {
	if editor == "textarea" {
		return evalJS(`document.execCommand('insertText', false, window.pasteText)`)
	}
	return evalJS(`(() => { ` + editorJS + `
		const dt = new DataTransfer(); dt.setData('text/plain', window.pasteText);
		view.contentDOM.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
		return true; })()`)
}

// BenchmarkBrowserPaste: 1 MB pasted on page A, until B has painted all of
// it (the edit goes as several submits under the server's 1 MB frame
// limit), and until A has it acknowledged.
func BenchmarkBrowserPaste(b *testing.B) {
	for _, editor := range []string{"codemirror", "textarea"} {
		b.Run(editor+"/1MB", func(b *testing.B) { pasteToPaint(b, editor, 1<<20) })
	}
}

func pasteToPaint(b *testing.B, editor string, size int) {
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	putDoc(b, srv, "bench", benchText(1<<10))
	url := srv.URL + "/d/bench?editor=" + editor + "&name="
	pa := openPage(b, browser, url+"A", editorSelector, withScript(wsLog))
	pb := openPage(b, browser, url+"B", editorSelector, withScript(countInserted), withScript(wsLog))
	waitJS(b, pa, "A synced", synced)
	waitJS(b, pb, "B synced", synced)
	text := benchText(size)
	run(b, pa, caretAt(-1), stagePaste(text))
	stopA, stopB := startProfile(b, pa, "A"), startProfile(b, pb, "B")
	cpu := cpuMeter(b)
	b.ResetTimer()
	start := time.Now()
	pctx, cancel := context.WithTimeout(pa, waitFor)
	defer cancel()
	if err := chromedp.Do(pctx, paste(editor)); err != nil {
		b.Skipf("did not keep up: A took more than %v to take the paste (%v)", waitFor, err)
	}
	keptUp(b, pb, "B to paint the paste", fmt.Sprintf(`inserted >= %d`, len(text)))
	waitJS(b, pb, "B's frame", `insertedAt.length > 0 && insertedAt[insertedAt.length - 1][0] >= `+fmt.Sprint(len(text)))
	waitJS(b, pa, "A to be acknowledged", synced)
	acked := time.Since(start)
	b.StopTimer()
	cpu(1)
	reportLoad(b)
	stopA()
	stopB()
	var at [][2]float64
	if err := json.Unmarshal([]byte(evalString(pb, `JSON.stringify(insertedAt)`)), &at); err != nil {
		b.Fatal(err)
	}
	painted := at[len(at)-1][1] - float64(start.UnixMicro())/1000
	b.ReportMetric(painted, "on-B-ms")
	b.ReportMetric(float64(acked.Milliseconds()), "acked-on-A-ms")
	b.ReportMetric(float64(len(at)), "ops")
	t0 := float64(start.UnixMicro()) / 1000
	for _, p := range []struct {
		name string
		tab  context.Context
	}{{"A", pa}, {"B", pb}} {
		var log [][]any
		if err := json.Unmarshal([]byte(evalString(p.tab, `JSON.stringify(wsLog)`)), &log); err != nil {
			b.Fatal(err)
		}
		var sb strings.Builder
		for _, e := range log {
			if ms := e[0].(float64) - t0; ms >= 0 {
				fmt.Fprintf(&sb, " %.0fms:%s:%s:%.0f", ms, e[1], e[2], e[3])
			}
		}
		var tasks [][2]float64
		if err := json.Unmarshal([]byte(evalString(p.tab, `JSON.stringify(longTasks)`)), &tasks); err != nil {
			b.Fatal(err)
		}
		sb.WriteString("; long tasks:")
		for _, t := range tasks {
			if t[0] >= t0 {
				fmt.Fprintf(&sb, " %.0fms+%.0f", t[0]-t0, t[1])
			}
		}
		b.Logf("%s's messages after the paste:%s", p.name, sb.String())
	}
}

// readyScript records, in the page, when the editor first shows the
// whole document (n UTF-16 units) synchronised: the time of the frame
// painted after since the navigation's start (readyMs), and when the
// joined message arrived and its handler returned (joined).
func readyScript(n int) string {
	return fmt.Sprintf(`(() => {
	window.readyMs = 0;
	window.joined = [0, 0];
	const W = window.WebSocket;
	window.WebSocket = class extends W {
		set onmessage(f) {
			super.onmessage = (e) => {
				const t0 = performance.now();
				f(e);
				if (typeof e.data === 'string' && e.data.startsWith('{"type":"joined"')) joined = [t0, performance.now()];
			};
		}
	};
	const check = () => {
		const ed = document.querySelector('collab-editor');
		const ta = ed && ed.querySelector('textarea');
		const shown = ed && ed.dataset.state === 'synced' && (ed.view ? ed.view.state.doc.length === %d : ta && ta.value.length === %d);
		if (!shown) { requestAnimationFrame(check); return; }
		const done = () => { readyMs = performance.now(); };
		`+afterPaint+`
	};
	requestAnimationFrame(check);
})();`, n, n)
}

// BenchmarkBrowserOpen: how long a page takes from navigation to the
// editor showing the document synchronised (ready), and how long the
// first key typed then takes to be painted (first-key). The 1 KB
// document gives what a page costs whatever its document.
func BenchmarkBrowserOpen(b *testing.B) {
	for _, editor := range []string{"codemirror", "textarea"} {
		for _, size := range []struct {
			name string
			n    int
		}{{"1KB", 1 << 10}, {"1MB", 1 << 20}, {"10MB", 10 << 20}} {
			b.Run(editor+"/"+size.name, func(b *testing.B) { openDoc(b, editor, size.n) })
		}
	}
}

func openDoc(b *testing.B, editor string, size int) {
	const runs = 3
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	text := benchText(size)
	putDoc(b, srv, "bench", text)
	var ready, key, arrived, handled []float64
	cpu := cpuMeter(b)
	b.ResetTimer()
	for i := 0; i < runs; i++ {
		tab, cancel := chromedp.NewContext(browser)
		b.Cleanup(cancel)
		if err := chromedp.Do(tab); err != nil {
			b.Fatalf("new tab: %v", err)
		}
		// The profiler follows the renderer of this site.
		run(b, tab, chromedp.Navigate(srv.URL+"/healthz"), withScript(readyScript(len(text))))
		stop := startProfile(b, tab, "page")
		run(b, tab, chromedp.Navigate(srv.URL+"/d/bench?editor="+editor+"&name=R"+fmt.Sprint(i)))
		keptUp(b, tab, "the document shown", `readyMs > 0`)
		stop()
		ready = append(ready, evalFloat(b, tab, `readyMs`))
		arrived = append(arrived, evalFloat(b, tab, `joined[0]`))
		handled = append(handled, evalFloat(b, tab, `joined[1] - joined[0]`))
		run(b, tab, evalJS(`(() => { window.keyMs = 0; let t = 0;
			document.addEventListener('keydown', () => { t = performance.now(); }, true);
			document.querySelector('collab-editor').client.addEventListener('change', (e) => {
				if (!e.detail.local || keyMs) return;
				const done = () => { keyMs = performance.now() - t; };
				`+afterPaint+`
			}); return true; })()`))
		run(b, tab, caretAt(-1), pressKey("x"))
		waitJS(b, tab, "the first key painted", `keyMs > 0`)
		key = append(key, evalFloat(b, tab, `keyMs`))
		text += "x"
		waitJS(b, tab, "the key saved", synced)
		run(b, tab, chromedp.Navigate("about:blank"))
	}
	b.StopTimer()
	cpu(runs)
	reportLoad(b)
	sort.Float64s(ready)
	sort.Float64s(key)
	b.ReportMetric(ready[len(ready)/2], "ready-median-ms")
	b.ReportMetric(ready[len(ready)-1], "ready-max-ms")
	b.ReportMetric(key[len(key)/2], "first-key-median-ms")
	b.Logf("ready %v ms, joined arrived %v ms, handled in %v ms, first key %v ms", ready, arrived, handled, key)
}

func evalFloat(b *testing.B, tab context.Context, expr string) float64 {
	b.Helper()
	tctx, cancel := context.WithTimeout(tab, waitFor)
	defer cancel()
	f, err := chromedp.Run(tctx, chromedp.Evaluate[float64](expr))
	if err != nil {
		b.Fatalf("%s: %v", expr, err)
	}
	return f
}
