package web_test

// Browser tests of the Monaco binding (static/js/monaco.js) against
// monaco-editor from npm (web/node_modules, installed by `npm ci --prefix
// web`; collab does not ship Monaco). The page is served on its own
// origin with collab's scripts and Monaco, and connects to a test server.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/web"
)

// monacoDir is monaco-editor as npm installs it; the tests skip without it
// (fail under COLLAB_E2E_REQUIRED=1).
func monacoDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("node_modules", "monaco-editor")
	if _, err := os.Stat(filepath.Join(dir, "min", "vs", "loader.js")); err != nil {
		msg := "monaco-editor is not installed: run npm ci --prefix web to run the Monaco browser tests"
		if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
			t.Fatal(msg + " (COLLAB_E2E_REQUIRED=1)")
		}
		t.Skip(msg)
	}
	return dir
}

// serveMonaco serves monaco-editor's files at /monaco-editor/ (test only).
func serveMonaco(t testing.TB, mux *http.ServeMux) {
	mux.Handle("/monaco-editor/", http.StripPrefix("/monaco-editor/", http.FileServer(http.Dir(monacoDir(t)))))
}

// monacoPage is the test page: /monaco?doc=ID&name=NAME[&readonly].
const monacoPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monaco</title>
<style>html, body { margin: 0; } #editor { width: 900px; height: 480px; margin-top: 40px; }</style></head>
<body><div id="editor"></div>
<script src="/monaco-editor/min/vs/loader.js"></script>
<script type="module">
import { DocClient } from '/js/client.js';
import { MonacoBinding } from '/js/monaco.js';
const q = new URLSearchParams(location.search);
require.config({ paths: { vs: '/monaco-editor/min/vs' } });
await new Promise((resolve, reject) => require(['vs/editor/editor.main'], resolve, reject));
const client = new DocClient({ server: %s, doc: q.get('doc'), name: q.get('name'), color: '#d33', readonly: q.has('readonly') }).start();
const editor = monaco.editor.create(document.getElementById('editor'), {
  value: client.text, fontSize: 16, minimap: { enabled: false }, wordWrap: 'on',
  autoClosingBrackets: 'never', autoClosingQuotes: 'never', autoIndent: 'none',
  quickSuggestions: false, wordBasedSuggestions: 'off', acceptSuggestionOnEnter: 'off',
});
window.seen = [];
editor.getModel().onDidChangeContent(() => window.seen.push(editor.getValue()));
window.client = client;
window.editor = editor;
window.binding = new MonacoBinding(client, editor, monaco);
</script></body></html>`

// monacoSite serves the test page, collab's scripts and Monaco on an
// origin of its own, for the collab server set with the returned function.
func monacoSite(t *testing.T) (*httptest.Server, func(main string)) {
	t.Helper()
	var mu sync.Mutex
	var main string
	mux := http.NewServeMux()
	serveMonaco(t, mux)
	mux.HandleFunc("/monaco", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		m := main
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, monacoPage, jsString(m))
	})
	mux.Handle("/", web.Handler())
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	return site, func(m string) { mu.Lock(); main = m; mu.Unlock() }
}

// monacoPages starts a server and opens doc in two Monaco pages of browser,
// as Ada and Bo, both synced.
func monacoPages(t *testing.T, browser context.Context, doc string) (srv *testServer, a, b context.Context) {
	t.Helper()
	s, setMain := monacoSite(t)
	srv = startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AllowedOrigins: []string{s.URL}})
	setMain(srv.URL)
	a = openMonaco(t, browser, s.URL+"/monaco?doc="+doc+"&name=Ada", mSynced)
	b = openMonaco(t, browser, s.URL+"/monaco?doc="+doc+"&name=Bo", mSynced)
	return srv, a, b
}

func openMonaco(t *testing.T, browser context.Context, url, ready string) context.Context {
	t.Helper()
	ctx := openPage(t, browser, url, ".monaco-editor")
	mWait(t, ctx, "the Monaco page "+url, `!!window.binding && `+ready)
	return ctx
}

// mWait is waitJS on a Monaco page, which tells on failure what the
// editor and the client hold.
func mWait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if err := pollJS(ctx, expr); err != nil {
		t.Fatalf("waiting for %s: %v (%s)", what, err, evalString(ctx, `JSON.stringify({ editor: window.editor && editor.getValue(), client: window.client && client.text, state: window.client && client.state, pending: window.client && client.pendingCount })`))
	}
}

const mSynced = `(window.client.state === 'synced' && window.client.pendingCount === 0)`

// mTextIs: the editor and the client hold s.
func mTextIs(s string) string {
	return `(window.editor.getValue() === ` + jsString(s) + ` && window.client.text === ` + jsString(s) + `)`
}

// mSelect focuses the editor and selects UTF-16 offsets [from, to) (-1: the end).
func mSelect(from, to int) chromedp.Action[chromedp.Void] {
	return evalJS(fmt.Sprintf(`(() => { const m = editor.getModel(); const n = m.getValueLength();
		const a = m.getPositionAt(%d < 0 ? n : %d); const b = m.getPositionAt(%d < 0 ? n : %d);
		editor.focus(); editor.setSelection(new monaco.Selection(a.lineNumber, a.column, b.lineNumber, b.column)); return true; })()`,
		from, from, to, to))
}

func mCaretAt(i int) chromedp.Action[chromedp.Void] { return mSelect(i, i) }

// mConverge waits until both pages show want with nothing pending, and
// the server holds want.
func mConverge(t *testing.T, srv *testServer, doc, want string, a, b context.Context) {
	t.Helper()
	mWait(t, a, "A to show "+jsString(want), mTextIs(want)+" && "+mSynced)
	mWait(t, b, "B to show "+jsString(want), mTextIs(want)+" && "+mSynced)
	if got := srv.text(t, doc); got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
}

// typePieces types each piece: ASCII with key events, the rest as an
// emoji keyboard or an IME commit inserts it.
func typePieces(ctx context.Context, pieces []string) error {
	for _, p := range pieces {
		act := chromedp.KeyEvent(p)
		if strings.ContainsFunc(p, func(r rune) bool { return r > 0x7e }) {
			act = insertText(p)
		}
		if err := chromedp.Do(ctx, act); err != nil {
			return err
		}
	}
	return nil
}

// TestE2EMonaco runs the Monaco tests in one browser: starting Chromium
// costs more than most of them.
func TestE2EMonaco(t *testing.T) {
	monacoDir(t)
	browser := newBrowser(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T, context.Context)
	}{
		{"ConcurrentUnicode", testMonacoConcurrentUnicode},
		{"CaretsOnTheirCharacters", testMonacoCaretsOnTheirCharacters},
		{"UndoOwnEditsOnly", testMonacoUndoOwnEditsOnly},
		{"IMEComposition", testMonacoIMEComposition},
		{"ReloadWithUnsentEdits", testMonacoReloadWithUnsentEdits},
		{"ReadOnly", testMonacoReadOnly},
		{"MixedLineBreaks", testMonacoMixedLineBreaks},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, browser) })
	}
}

func testMonacoConcurrentUnicode(t *testing.T, browser context.Context) {
	srv, a, b := monacoPages(t, browser, "mconc")
	run(t, a, mCaretAt(0), chromedp.KeyEvent("|"))
	mConverge(t, srv, "mconc", "|", a, b)

	// Ada types before the bar and Bo after it, at the same time.
	adas := []string{"A", "😀", "👩‍💻", "e\u0301", "中文", " ", "👍🏽", "x"}
	bos := []string{"b", "👨‍👩‍👧", "n\u0303", "한국어", "🇫🇷", "!", "漢字", "y"}
	run(t, a, mCaretAt(0))
	run(t, b, mCaretAt(-1))
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, p := range []struct {
		ctx    context.Context
		pieces []string
	}{{a, adas}, {b, bos}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := typePieces(p.ctx, p.pieces); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := strings.Join(adas, "") + "|" + strings.Join(bos, "")
	mConverge(t, srv, "mconc", want, a, b)

	// Two cursors, before and after the first emoji, type at once: one
	// content change with two ranges.
	run(t, a, evalJS(`(() => { editor.focus(); editor.setSelections([new monaco.Selection(1, 2, 1, 2), new monaco.Selection(1, 4, 1, 4)]); return true; })()`),
		chromedp.KeyEvent("+"))
	mConverge(t, srv, "mconc", "A+😀+"+strings.TrimPrefix(want, "A😀"), a, b)
}

func testMonacoCaretsOnTheirCharacters(t *testing.T, browser context.Context) {
	srv, a, b := monacoPages(t, browser, "mcarets")
	text := "😀👩‍💻 ab\ncd 中文 ef"
	run(t, a, mCaretAt(0), insertText(text))
	mConverge(t, srv, "mcarets", text, a, b)
	// Ada selects "cd 中" (UTF-16 offsets 11 to 15, after two astral
	// characters and a ZWJ sequence): on B, her selection covers the same
	// characters and her caret sits where B's editor draws offset 15.
	run(t, a, mSelect(11, 15))
	const adasSelection = `editor.getModel().getAllDecorations().filter(d => (d.options.className || '').includes('collab-monaco-selection') && d.options.hoverMessage && d.options.hoverMessage.value === 'Ada').map(d => editor.getModel().getValueInRange(d.range)).join('')`
	mWait(t, b, "Ada's selection on B", adasSelection+` === "cd 中" && document.querySelectorAll('.collab-monaco-selection').length > 0`)
	caretAt := func(offset int) string {
		return fmt.Sprintf(`(() => { const c = document.querySelector('.collab-monaco-caret[data-name="Ada"]');
			if (!c || c.querySelector('.collab-monaco-label').textContent !== 'Ada') return false;
			const p = editor.getScrolledVisiblePosition(editor.getModel().getPositionAt(%d)); const e = editor.getDomNode().getBoundingClientRect();
			const r = c.getBoundingClientRect();
			return Math.abs(r.left + 1 - (e.left + p.left)) < 3 && Math.abs(r.top - (e.top + p.top)) < 3 && r.height > 0; })()`, offset)
	}
	mWait(t, b, "Ada's caret at offset 15 on B", caretAt(15))
	// Bo types before Ada's selection: it moves with its characters.
	run(t, b, mCaretAt(0), chromedp.KeyEvent("Bo: "))
	mConverge(t, srv, "mcarets", "Bo: "+text, a, b)
	mWait(t, b, "Ada's selection moved on B", adasSelection+` === "cd 中"`)
	mWait(t, b, "Ada's caret moved on B", caretAt(19))
}

func testMonacoUndoOwnEditsOnly(t *testing.T, browser context.Context) {
	srv, a, b := monacoPages(t, browser, "mundo")
	adas, bos := "Ada wrote 😀 this. ", "Bo adds this."
	run(t, a, mCaretAt(0), chromedp.KeyEvent("Ada wrote "), insertText("😀"), chromedp.KeyEvent(" this. "))
	mWait(t, b, "B to see Ada's words", mTextIs(adas))
	run(t, b, mCaretAt(-1), chromedp.KeyEvent(bos))
	mConverge(t, srv, "mundo", adas+bos, a, b)

	// Ctrl+Z until Ada's words are gone, a press per word or so; Bo's
	// words stay through every press.
	run(t, a, mCaretAt(0))
	presses := 0
	for cur := adas + bos; cur != bos; presses++ {
		if presses == len(adas) {
			t.Fatalf("after %d presses of Ctrl+Z the text is %q, want %q", presses, cur, bos)
		}
		run(t, a, shortcut("z", false))
		mWait(t, a, "Ctrl+Z to change the text", `editor.getValue() !== `+jsString(cur))
		cur = evalString(a, `editor.getValue()`)
		if !strings.HasSuffix(cur, bos) || len(cur) >= len(adas)+len(bos) {
			t.Fatalf("after Ctrl+Z the text is %q: only Ada's words may shrink, Bo's %q stay", cur, bos)
		}
	}
	mConverge(t, srv, "mundo", bos, a, b)

	// Bo types where Ada's words were; then Ada redoes while Bo types at
	// the end: her words come back after his new ones, his all stay.
	run(t, b, mCaretAt(0), chromedp.KeyEvent("NEW "))
	mConverge(t, srv, "mundo", "NEW "+bos, a, b)
	run(t, b, mCaretAt(-1))
	more := " And more."
	var wg sync.WaitGroup
	wg.Add(1)
	var boErr error
	go func() {
		defer wg.Done()
		boErr = chromedp.Do(b, chromedp.KeyEvent(more))
	}()
	for i := 0; i < presses; i++ {
		run(t, a, shortcut("z", true))
	}
	wg.Wait()
	if boErr != nil {
		t.Fatal(boErr)
	}
	mConverge(t, srv, "mundo", "NEW "+adas+bos+more, a, b)

	// Ctrl+Z then Ctrl+Y, with Bo's caret in the text.
	run(t, a, shortcut("z", false))
	mWait(t, a, "Ctrl+Z to take Ada's last word", `editor.getValue().startsWith("NEW ") && editor.getValue().endsWith(`+jsString(bos+more)+`) && editor.getValue().length < `+fmt.Sprint(len(utf16("NEW "+adas+bos+more))))
	run(t, a, shortcut("y", false))
	mConverge(t, srv, "mundo", "NEW "+adas+bos+more, a, b)

	// Bo's undo takes his words only.
	run(t, b, shortcut("z", false))
	mWait(t, b, "Bo's Ctrl+Z to take his last word", `editor.getValue() !== `+jsString("NEW "+adas+bos+more))
	if got := evalString(b, `editor.getValue()`); !strings.HasPrefix(got, "NEW "+adas+bos) {
		t.Fatalf("after Bo's Ctrl+Z the text is %q: Ada's words must stay", got)
	}
}

func testMonacoIMEComposition(t *testing.T, browser context.Context) {
	srv, a, b := monacoPages(t, browser, "mime")
	run(t, a, mCaretAt(0), chromedp.KeyEvent("[] tail"))
	mConverge(t, srv, "mime", "[] tail", a, b)
	run(t, b, evalJS(`(() => { window.seen = []; return true; })()`))

	// Ada composes にほんご inside the brackets, then commits 日本語.
	run(t, a, mCaretAt(1), compose("に"), compose("にほ"), compose("にほん"))
	mWait(t, a, "the composition on A", `editor.getValue() === "[にほん] tail"`)
	// Bo types while Ada composes: the remote edit reaches A's client and
	// waits for the commit to reach the editor.
	run(t, b, mCaretAt(-1), chromedp.KeyEvent("!"))
	mWait(t, b, "B's edit saved", mTextIs("[] tail!")+" && "+mSynced)
	mWait(t, a, "Bo's edit to reach A's client without breaking the composition",
		`client.text === "[] tail!" && editor.getValue() === "[にほん] tail"`)
	run(t, a, compose("にほんご"), insertText("日本語"))
	mConverge(t, srv, "mime", "[日本語] tail!", a, b)

	// A second composition replaced by a different commit, then cancelled.
	run(t, a, mCaretAt(len(utf16("[日本語]"))), compose("かな"), insertText("仮名"))
	mConverge(t, srv, "mime", "[日本語]仮名 tail!", a, b)
	run(t, a, compose("x"), compose(""))
	mConverge(t, srv, "mime", "[日本語]仮名 tail!", a, b)

	// B never saw the kana being composed, and saw each commit once.
	seen := evalString(b, `JSON.stringify(window.seen)`)
	if strings.ContainsAny(seen, "にほんごかなx") {
		t.Errorf("B saw composition text: %s", seen)
	}
	if got := srv.text(t, "mime"); strings.Count(got, "日本語") != 1 || strings.Count(got, "仮名") != 1 {
		t.Errorf("server text %q: each commit must appear once", got)
	}
}

func testMonacoReloadWithUnsentEdits(t *testing.T, browser context.Context) {
	s, setMain := monacoSite(t)
	dbPath := filepath.Join(t.TempDir(), "collab.db")
	opts := collab.Options{AllowedOrigins: []string{s.URL}}
	srv := startServer(t, "127.0.0.1:0", dbPath, opts)
	setMain(srv.URL)
	a := openMonaco(t, browser, s.URL+"/monaco?doc=mreload&name=Ada", mSynced)
	run(t, a, mCaretAt(0), chromedp.KeyEvent("saved. "))
	mWait(t, a, "the first words saved", mTextIs("saved. ")+" && "+mSynced)

	srv.stop()
	run(t, a, mCaretAt(-1), chromedp.KeyEvent("unsent "), insertText("😀👩‍💻"), chromedp.KeyEvent(" words."))
	want := "saved. unsent 😀👩‍💻 words."
	mWait(t, a, "the unsent edits pending", mTextIs(want)+` && client.pendingCount > 0`)
	// The page reloads while the server is down: the editor shows the
	// unsent edits, which go out once the server is back.
	run(t, a, chromedp.Reload())
	mWait(t, a, "the reloaded page to show the unsent edits", `!!window.binding && `+mTextIs(want)+` && client.pendingCount > 0`)
	srv2 := startServer(t, srv.addr, dbPath, opts)
	mWait(t, a, "the edits saved", mTextIs(want)+" && "+mSynced)
	if got := srv2.text(t, "mreload"); got != want {
		t.Errorf("server text %q, want %q (nothing lost or doubled)", got, want)
	}
}

func testMonacoReadOnly(t *testing.T, browser context.Context) {
	s, setMain := monacoSite(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AllowedOrigins: []string{s.URL}})
	setMain(srv.URL)
	w := openMonaco(t, browser, s.URL+"/monaco?doc=mro&name=Ada", mSynced)
	r := openMonaco(t, browser, s.URL+"/monaco?doc=mro&name=Bo&readonly", `client.state === 'readonly'`)
	run(t, w, mCaretAt(0), chromedp.KeyEvent("written 😀."))
	mWait(t, r, "the reader to show the writer's words", mTextIs("written 😀."))

	// Keys, a paste-like insert and a script's edit change nothing.
	run(t, r, mCaretAt(-1), chromedp.KeyEvent("typed"), insertText("pasted"),
		evalJS(`(() => { editor.getModel().applyEdits([{ range: new monaco.Range(1, 1, 1, 3), text: 'X' }]); return true; })()`))
	run(t, w, mCaretAt(-1), chromedp.KeyEvent(" more"))
	want := "written 😀. more"
	mWait(t, r, "the reader to show the writer's words only", mTextIs(want))
	mWait(t, w, "the writer to show its words only", mTextIs(want)+" && "+mSynced)
	if got := srv.text(t, "mro"); got != want {
		t.Errorf("server text %q, want %q", got, want)
	}
	if got := evalString(r, `JSON.stringify(window.seen.filter(s => s.includes('typed') || s.includes('pasted')))`); got != "[]" {
		t.Errorf("the read-only editor showed typed text: %s", got)
	}
}

func testMonacoMixedLineBreaks(t *testing.T, browser context.Context) {
	srv, a, b := monacoPages(t, browser, "meol")
	run(t, a, mCaretAt(0), chromedp.KeyEvent("one\ntwo"))
	mConverge(t, srv, "meol", "one\ntwo", a, b)
	// A bot adds a \r\n line break, which Monaco's \n models normalise:
	// the editors turn read-only rather than send edits at offsets the
	// document no longer has.
	run(t, a, evalJS(`(() => { window.bot = new client.constructor({ server: `+jsString(srv.URL)+`, doc: 'meol', name: 'Bot', storage: null, session: null }).start(); return true; })()`))
	mWait(t, a, "the bot joined", `window.bot.joined`)
	run(t, a, evalJS(`(() => { bot.applyLocal([7, '\r\nthree']); return true; })()`))
	want := "one\ntwo\r\nthree"
	for _, p := range []context.Context{a, b} {
		mWait(t, p, "the editor read-only after the \\r\\n", `binding.adapter.broken && editor.getOption(monaco.editor.EditorOption.readOnly) && client.text === `+jsString(want))
		// The person is told, in plain words, over the editor.
		mWait(t, p, "the banner saying why", `(document.querySelector('.collab-monaco-problem[role=alert]')?.textContent || '').includes('mixes two kinds of line breaks')`)
	}
	run(t, b, mCaretAt(-1), chromedp.KeyEvent("zz"),
		evalJS(`(() => { editor.getModel().applyEdits([{ range: new monaco.Range(1, 1, 1, 1), text: 'Y' }]); return true; })()`))
	run(t, a, evalJS(`(() => { bot.applyLocal([14, '.']); return true; })()`))
	want += "."
	mWait(t, b, "B's client to take the bot's next edit, and nothing of B's", `client.text === `+jsString(want)+` && `+mSynced)
	if got := srv.text(t, "meol"); got != want {
		t.Errorf("server text %q, want %q", got, want)
	}
}
