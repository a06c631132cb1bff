package web_test

// End-to-end tests in headless Chromium, driven with chromedp. Each test
// starts the real server in-process (collab.NewServer on a bbolt file in
// t.TempDir, plus web.Handler) and real pages. They skip with a reason
// when no Chromium is installed, unless COLLAB_E2E_REQUIRED=1.
//
// With COLLAB_SCREENSHOTS=docs they also write docs/screenshot-editor.png
// and docs/screenshot-embed.png.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/web"
)

const waitFor = 30 * time.Second // upper bound of every DOM wait

// chromePath finds Chromium or skips (fails under COLLAB_E2E_REQUIRED=1).
func chromePath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium not found: install it (apt-get install -y chromium) to run the browser tests"
	if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
		t.Fatal(msg + " (COLLAB_E2E_REQUIRED=1)")
	}
	t.Skip(msg)
	return ""
}

// testServer is collabd's handler tree on a real listener over a store.
type testServer struct {
	URL    string
	addr   string
	http   *httptest.Server
	collab *collab.Server
	db     *bolt.DB // closed by stop; nil when the store is shared
}

// startServer serves collab and the pages at addr ("127.0.0.1:0" for any
// port) with the database at dbPath.
func startServer(t testing.TB, addr, dbPath string, opts collab.Options) *testServer {
	t.Helper()
	db, err := bolt.Open(dbPath, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	s, err := serveStore(t, addr, db, opts)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	s.db = db
	return s
}

// startNode serves collab and the pages over a store that outlives it
// (shared with other nodes, closed by the caller after every node stopped).
func startNode(t testing.TB, store storage.Store, opts collab.Options) *testServer {
	t.Helper()
	s, err := serveStore(t, "127.0.0.1:0", store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func serveStore(t testing.TB, addr string, store storage.Store, opts collab.Options) (*testServer, error) {
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // the old socket is still closing; retry the bind
	}
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	cs := collab.NewServer(store, opts)
	mux := http.NewServeMux()
	for _, p := range []string{"/ws", "/api/", "/healthz", "/metrics"} {
		mux.Handle(p, cs)
	}
	mux.Handle("/", web.Handler())
	hs := httptest.NewUnstartedServer(mux)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	s := &testServer{URL: hs.URL, addr: ln.Addr().String(), http: hs, collab: cs}
	t.Cleanup(s.stop)
	return s, nil
}

func (s *testServer) stop() {
	if s.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.collab.Shutdown(ctx)
	s.http.CloseClientConnections()
	s.http.Close()
	if s.db != nil {
		s.db.Close()
	}
	s.http = nil
}

// text returns the document's text as the server holds it.
func (s *testServer) text(t testing.TB, id string) string {
	t.Helper()
	res, err := http.Get(s.URL + "/api/docs/" + id)
	if err != nil {
		t.Fatalf("GET doc: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return ""
	}
	var body struct{ Text string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("GET doc: status %d: %v", res.StatusCode, err)
	}
	return body.Text
}

// newBrowser starts headless Chromium; tabs are made with newTab.
func newBrowser(t testing.TB) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromePath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		// Chromium preloads the WebUI pages of its omnibox popup in a
		// renderer of their own, even headless: seconds of a core after each
		// start, taken from the pages under test and measured.
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,PreloadTopChromeWebUI,WebUIOmniboxPopup,WebUIOmniboxFullPopup,WebUIOmniboxAimPopup"),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.WindowSize(1000, 640),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// newTab opens url in a new tab of the browser.
func newTab(t testing.TB, browser context.Context, url string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, which lives as long as ctx
		t.Fatalf("new tab: %v", err)
	}
	run(t, ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(editorSelector)))
	return ctx
}

// editorSelector finds the widget's editor: CodeMirror's content (the
// default) or the textarea (editor=textarea).
const editorSelector = "collab-editor textarea, collab-editor .cm-content"

// editorJS is a JavaScript function body prefix that sets ed (the widget),
// view (its EditorView, or null) and ta (its textarea, or null).
const editorJS = `const ed = document.querySelector('collab-editor'); const view = ed.view; const ta = ed.querySelector('textarea');`

func run(t testing.TB, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 2*waitFor)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls until the JavaScript expression is truthy.
func waitJS(t testing.TB, ctx context.Context, what, expr string) {
	t.Helper()
	if err := pollJS(ctx, expr); err != nil {
		t.Fatalf("waiting for %s: %v (state %q, text %q)", what, err, evalString(ctx, `document.querySelector('collab-editor').dataset.state`), pageText(ctx))
	}
}

// pollJS polls until the JavaScript expression is truthy, for waitFor at most.
func pollJS(ctx context.Context, expr string) error {
	tctx, cancel := context.WithTimeout(ctx, waitFor+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(tctx, chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitFor)))
	return err
}

func evalString(ctx context.Context, expr string) string {
	tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Evaluate[string](expr))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return s
}

func pageText(ctx context.Context) string {
	return evalString(ctx, `document.querySelector('collab-editor').getText()`)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// caretAt focuses the editor and puts the caret at UTF-16 index i (-1: end).
func caretAt(i int) chromedp.Action[chromedp.Void] {
	return selectRange(i, i)
}

// selectRange focuses the editor and selects UTF-16 indexes [from, to)
// (-1: the end).
func selectRange(from, to int) chromedp.Action[chromedp.Void] {
	return evalJS(fmt.Sprintf(`(() => { %s
		const n = view ? view.state.doc.length : ta.value.length; const a = %d < 0 ? n : %d; const b = %d < 0 ? n : %d;
		if (view) { view.focus(); view.dispatch({ selection: { anchor: a, head: b } }); }
		else { ta.focus(); ta.setSelectionRange(a, b); }
		return true; })()`, editorJS, from, from, to, to))
}

// evalJS runs a JavaScript expression as a step.
func evalJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[any](expr)(ctx, t)
		return err
	})
}

// insertText inserts text as an emoji keyboard or an IME commit does.
func insertText(s string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, input.InsertText, input.InsertTextParams{Text: s})
		return err
	})
}

const synced = `document.querySelector('collab-editor').dataset.state === 'synced'`

func textIs(s string) string {
	return `(() => { ` + editorJS + ` return ed.getText() === ` + jsString(s) +
		` && (view ? view.state.doc.toString() : ta.value) === ` + jsString(s) + `; })()`
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("COLLAB_SCREENSHOTS") != "docs" {
		return
	}
	tctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "docs", name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

func TestE2EConcurrentTyping(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/x?name=Ada")
	b := newTab(t, browser, srv.URL+"/d/x?name=Bo")
	waitJS(t, a, "page A synced", synced)
	waitJS(t, b, "page B synced", synced)
	run(t, a, caretAt(0), chromedp.KeyEvent("|"))
	waitJS(t, b, "B to see A's bar", textIs("|"))

	// Ada types before the bar and Bo after it, at the same time.
	wordA, wordB := "Ada types here. ", " Bo writes there."
	run(t, a, caretAt(0))
	run(t, b, caretAt(-1))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, p := range []struct {
		ctx  context.Context
		text string
	}{{a, wordA}, {b, wordB}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range p.text {
				if err := chromedp.Do(p.ctx, chromedp.KeyEvent(string(r))); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := wordA + "|" + wordB
	waitJS(t, a, "A to converge", textIs(want)+" && "+synced)
	waitJS(t, b, "B to converge", textIs(want)+" && "+synced)
	if got := srv.text(t, "x"); got != want {
		t.Errorf("server text = %q, want %q", got, want)
	}
}

func TestE2EUnicodeArrivesIntact(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/unicode?name=Ada")
	b := newTab(t, browser, srv.URL+"/d/unicode?name=Bo")
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	run(t, a, caretAt(0), chromedp.KeyEvent("ab"))
	// Text from an emoji keyboard or an IME commit, then keys around it.
	run(t, a, insertText("😀中文"))
	run(t, a, chromedp.KeyEvent("e"), insertText("\u0301"), insertText("👩‍👩‍👧 한국어 🇫🇷"))
	// A caret placed after the first emoji, then typing: nothing splits it.
	run(t, a, caretAt(4), chromedp.KeyEvent("X"))
	want := "ab😀X中文e\u0301👩‍👩‍👧 한국어 🇫🇷"
	waitJS(t, a, "A's text", textIs(want)+" && "+synced)
	waitJS(t, b, "B's text", textIs(want))
	if got := srv.text(t, "unicode"); got != want {
		t.Errorf("server text = %q, want %q", got, want)
	}
}

func TestE2EServerRestartLosesNothing(t *testing.T) {
	browser := newBrowser(t)
	dbPath := filepath.Join(t.TempDir(), "collab.db")
	srv := startServer(t, "127.0.0.1:0", dbPath, collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/restart?name=Ada")
	waitJS(t, a, "synced", synced)
	run(t, a, caretAt(0), chromedp.KeyEvent("saved before. "))
	waitJS(t, a, "first words saved", textIs("saved before. ")+" && "+synced)

	srv.stop()
	waitJS(t, a, "offline status", `document.querySelector('collab-editor').dataset.state === 'offline'`)
	run(t, a, caretAt(-1), chromedp.KeyEvent("typed while the server was down. "))
	waitJS(t, a, "offline with unsent edits", `document.querySelector('collab-editor .collab-status').textContent.includes('kept on this device')`)
	run(t, a, chromedp.KeyEvent("more."))

	// The same data, the same port.
	srv2 := startServer(t, srv.addr, dbPath, collab.Options{})
	want := "saved before. typed while the server was down. more."
	waitJS(t, a, "reconnected and saved", textIs(want)+" && "+synced)
	if got := srv2.text(t, "restart"); got != want {
		t.Errorf("server text after restart = %q, want %q (nothing lost or doubled)", got, want)
	}
	// A fresh page sees the same text.
	b := newTab(t, browser, srv2.URL+"/d/restart?name=Bo")
	waitJS(t, b, "a new page to load the text", textIs(want))
}

// embedPage serves, on its own origin, a page embedding the widget of the
// server set later with the returned function.
func embedPage(t *testing.T, doc string) (*httptest.Server, func(main string)) {
	t.Helper()
	var mu sync.Mutex
	var main string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		m := main
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Team notes</title>
<script type="module" src="%[1]s/collab.js"></script>
<style>body{font:16px system-ui,sans-serif;margin:2rem;max-width:44rem;color:#1f2328}collab-editor{height:16rem}</style></head>
<body><h1>Our team page</h1><p>The notes below are edited together, live:</p>
<collab-editor server="%[1]s" doc="%[2]s" name="Embedder" color="#8250df"></collab-editor></body></html>`, m, doc)
	}))
	t.Cleanup(hs.Close)
	return hs, func(m string) { mu.Lock(); main = m; mu.Unlock() }
}

func TestE2EEmbedOnAnotherOrigin(t *testing.T) {
	browser := newBrowser(t)
	embed, setMain := embedPage(t, "shared")
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AllowedOrigins: []string{embed.URL}})
	setMain(srv.URL)
	e := newTab(t, browser, embed.URL)
	d := newTab(t, browser, srv.URL+"/d/shared?name=Ada")
	waitJS(t, e, "embed synced", synced)
	waitJS(t, d, "page synced", synced)
	run(t, e, caretAt(0), chromedp.KeyEvent("from the embed. "))
	waitJS(t, d, "the embed's words on /d/shared", textIs("from the embed. "))
	run(t, d, caretAt(-1), chromedp.KeyEvent("from the page."))
	waitJS(t, e, "the page's words in the embed", textIs("from the embed. from the page."))
	waitJS(t, e, "the page's caret in the embed", `[...document.querySelectorAll('collab-editor .cm-collab-label')].some(l => l.textContent === 'Ada')`)
	screenshot(t, e, "screenshot-embed.png")

	// A server that does not allow the embedding origin refuses it.
	refused, setClosed := embedPage(t, "shared")
	closed := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "closed.db"), collab.Options{})
	setClosed(closed.URL)
	r := newTab(t, browser, refused.URL)
	// The page learns why from /api/origin-check and says what to set.
	waitJS(t, r, "the origin refusal told", `(() => { const s = document.querySelector('collab-editor .collab-status').textContent;
		return s.includes('not allowed to connect') && s.includes(`+jsString(refused.URL)+`) && s.includes('-allowed-origins'); })()`)
	run(t, r, caretAt(0), chromedp.KeyEvent("should not arrive"))
	if got := closed.text(t, "shared"); got != "" {
		t.Errorf("refused origin changed the document: %q", got)
	}
}

func TestE2ECaretShowsName(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/carets?name=Ada&color=%23d33&editor=textarea")
	b := newTab(t, browser, srv.URL+"/d/carets?name=Bo&color=%2336c&editor=textarea")
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	text := "Meeting notes\n\n- ship the editor widget\n- measure fan-out with 200 editors\n- write the release notes"
	run(t, a, caretAt(0), chromedp.KeyEvent(text))
	waitJS(t, b, "B sees the text", textIs(text))
	run(t, a, evalJS(`(() => { const ta = document.querySelector('collab-editor textarea'); ta.focus(); ta.setSelectionRange(17, 40); return true; })()`))
	waitJS(t, b, "Ada's caret with her name on B", `[...document.querySelectorAll('collab-editor .collab-caret')].some(c => c.dataset.name === 'Ada' && c.querySelector('.collab-caret-label').textContent === 'Ada' && c.getBoundingClientRect().height > 0)`)
	// The selection is drawn over the text it covers: the mirror that
	// places it holds the textarea's text, and its highlight spans as many
	// pixels as that text does there.
	waitJS(t, b, "Ada's selection on B", `(() => { const ta = document.querySelector('collab-editor textarea');
		const m = document.querySelector('collab-editor .collab-mirror'); if (!m || m.firstChild.data !== ta.value) return false;
		const r = document.createRange(); r.setStart(m.firstChild, 17); r.setEnd(m.firstChild, 40);
		const want = [...r.getClientRects()].reduce((w, x) => w + x.width, 0);
		const got = [...document.querySelectorAll('collab-editor .collab-selection')].filter(s => s.dataset.name === 'Ada').reduce((w, s) => w + s.getBoundingClientRect().width, 0);
		return want > 0 && Math.abs(got - want) < 1; })()`)
	waitJS(t, b, "Ada listed as present", `document.querySelector('collab-editor .collab-people').textContent.includes('Ada')`)
	run(t, b, caretAt(-1), chromedp.KeyEvent("\n"))
	waitJS(t, a, "Bo's caret on A", `[...document.querySelectorAll('collab-editor .collab-caret')].some(c => c.dataset.name === 'Bo')`)
	run(t, b, chromedp.KeyEvent("- celebrate"))
	waitJS(t, a, "A sees Bo's words", textIs(text+"\n- celebrate")+" && "+synced)
	waitJS(t, b, "B synced", synced)
	if strings.Count(srv.text(t, "carets"), "celebrate") != 1 {
		t.Errorf("server text = %q", srv.text(t, "carets"))
	}
}
