package web_test

// Benchmarks of the editors in headless Chromium (docs/benchmarks.md,
// "Browser editors"). They are benchmarks, not tests: they report
// latencies and never assert them. Run them with
//
//	go test -run '^$' -bench Browser -benchtime 1x ./web/
//
// Each sub-benchmark measures a fixed sample whatever b.N is.

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

// BenchmarkBrowserKeystrokeToPaint: a key pressed on page A until the
// character is painted on page B, both editing one document, typing at the
// end or in the middle.
func BenchmarkBrowserKeystrokeToPaint(b *testing.B) {
	for _, editor := range []string{"codemirror", "textarea"} {
		for _, size := range []struct {
			name string
			n    int
		}{{"1KB", 1 << 10}, {"1MB", 1 << 20}} {
			for _, where := range []string{"end", "middle"} {
				b.Run(editor+"/"+size.name+"/"+where, func(b *testing.B) {
					keystrokeToPaint(b, editor, size.n, where)
				})
			}
		}
	}
}

func keystrokeToPaint(b *testing.B, editor string, size int, where string) {
	const keys, warm = 60, 5
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	putDoc(b, srv, "bench", benchText(size))
	pa := newTab(b, browser, srv.URL+"/d/bench?name=A&editor="+editor)
	pb := newTab(b, browser, srv.URL+"/d/bench?name=B&editor="+editor)
	waitJS(b, pa, "A synced", synced)
	waitJS(b, pb, "B synced", synced)
	run(b, pa, evalJS(`(() => { window.keyTimes = [];
		document.addEventListener('keydown', () => keyTimes.push(performance.timeOrigin + performance.now()), true); return true; })()`))
	run(b, pb, evalJS(`(() => { window.paintTimes = []; window.hidden = document.visibilityState;
		document.querySelector('collab-editor').client.addEventListener('change', (e) => {
			if (e.detail.local) return;
			const n = e.detail.op.filter((c) => typeof c === 'string').reduce((k, s) => k + [...s].length, 0);
			const done = () => { const t = performance.timeOrigin + performance.now(); for (let i = 0; i < n; i++) paintTimes.push(t); };
			`+afterPaint+`
		}); return true; })()`))
	at := -1
	if where == "middle" {
		at = size / 2
	}
	run(b, pa, caretAt(at))
	b.ResetTimer()
	for i := 0; i < warm+keys; i++ {
		run(b, pa, chromedp.KeyEvent("x"))
		time.Sleep(80 * time.Millisecond) // the typing pace (a workload, not a wait)
	}
	waitJS(b, pb, "B to paint every key", fmt.Sprintf(`paintTimes.length >= %d`, warm+keys))
	b.StopTimer()
	var sent, painted []float64
	if err := json.Unmarshal([]byte(evalString(pa, `JSON.stringify(keyTimes)`)), &sent); err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal([]byte(evalString(pb, `JSON.stringify(paintTimes)`)), &painted); err != nil {
		b.Fatal(err)
	}
	if len(sent) < warm+keys || len(painted) < warm+keys {
		b.Fatalf("%d keys, %d paints", len(sent), len(painted))
	}
	var lat []float64
	for i := warm; i < warm+keys; i++ {
		lat = append(lat, painted[i]-sent[i])
	}
	sort.Float64s(lat)
	b.ReportMetric(percentile(lat, 0.5), "p50-ms")
	b.ReportMetric(percentile(lat, 0.95), "p95-ms")
	b.Logf("B's page was %s", evalString(pb, `window.hidden`))
}

// BenchmarkBrowserRemoteOp: what another editor's op costs the page that
// receives it, as the document grows: the time in its message handler and
// until the next frame is painted. The ops come from a Go client inserting
// one character in the middle of the document.
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

// timeMessages wraps the page's WebSocket so that each op message records
// the time its handler took and the time until the next frame painted.
const timeMessages = `(() => {
	const W = window.WebSocket;
	window.opTimes = [];
	window.WebSocket = class extends W {
		set onmessage(f) {
			super.onmessage = (e) => {
				const t0 = performance.now();
				f(e);
				if (!e.data.startsWith('{"type":"op"')) return;
				const handled = performance.now() - t0;
				const done = () => opTimes.push([handled, performance.now() - t0]);
				` + afterPaint + `
			};
		}
	};
})();`

func remoteOp(b *testing.B, editor string, size int) {
	const ops, warm = 100, 10
	browser := newBrowser(b)
	srv := startServer(b, "127.0.0.1:0", filepath.Join(b.TempDir(), "collab.db"), collab.Options{})
	putDoc(b, srv, "bench", benchText(size))
	tab := openPage(b, browser, srv.URL+"/d/bench?name=B&editor="+editor, editorSelector,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: timeMessages})
			return err
		}))
	waitJS(b, tab, "the page synced", synced)

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
	b.ResetTimer()
	for i := 0; i < warm+ops; i++ {
		if err := doc.Insert(doc.Len()/2, "y"); err != nil {
			b.Fatal(err)
		}
		if err := doc.WaitSynced(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond) // the pace of another typist (a workload, not a wait)
	}
	waitJS(b, tab, "the page to handle every op", fmt.Sprintf(`opTimes.length >= %d`, warm+ops))
	b.StopTimer()
	var times [][2]float64
	if err := json.Unmarshal([]byte(evalString(tab, `JSON.stringify(opTimes)`)), &times); err != nil {
		b.Fatal(err)
	}
	var handled, painted []float64
	for _, t := range times[warm:] {
		handled = append(handled, t[0])
		painted = append(painted, t[1])
	}
	sort.Float64s(handled)
	sort.Float64s(painted)
	b.ReportMetric(percentile(handled, 0.5), "handler-p50-ms")
	b.ReportMetric(percentile(painted, 0.5), "painted-p50-ms")
	b.ReportMetric(percentile(painted, 0.95), "painted-p95-ms")
}
