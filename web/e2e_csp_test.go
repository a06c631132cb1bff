package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
	"github.com/collabd/collab/web"
)

// recordViolations makes every document of the tab collect its
// Content-Security-Policy violations in window.cspViolations, from before
// the page's own scripts run.
func recordViolations() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
			window.cspViolations = [];
			document.addEventListener('securitypolicyviolation', (e) =>
				window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));`})
		return err
	})
}

const noViolations = `JSON.stringify(window.cspViolations)`

// TestE2EContentSecurityPolicy: collab's pages work under their policy,
// with no violation while loading and editing; a caret colour that got
// past the server could not make the browser fetch another origin; an
// /embed page shows in a frame of another site only when that site is
// among the frame ancestors.
func TestE2EContentSecurityPolicy(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	for _, path := range []string{"/d/csp?name=Ada&color=%23d33", "/embed/csp?name=Bo&color=%2336c"} {
		tab := openPage(t, browser, srv.URL+path, editorSelector, recordViolations())
		waitJS(t, tab, path+" synced", synced)
		run(t, tab, caretAt(-1), chromedp.KeyEvent("x"))
		waitJS(t, tab, path+" saved the edit", synced+` && document.querySelector('collab-editor').getText().endsWith('x')`)
		if v := evalString(tab, noViolations); v != "[]" {
			t.Errorf("%s: policy violations %s", path, v)
		}
	}
	list := openPage(t, browser, srv.URL+"/", "#doc-list li", recordViolations())
	if v := evalString(list, noViolations); v != "[]" {
		t.Errorf("/: policy violations %s", v)
	}

	// A colour such as url(…) in a caret's style: the image is blocked.
	var leaks atomic.Int64
	leak := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaks.Add(1) }))
	t.Cleanup(leak.Close)
	tab := openPage(t, browser, srv.URL+"/d/csp?name=Cy", editorSelector, recordViolations())
	run(t, tab, evalJS(fmt.Sprintf(`(() => {
		const caret = document.createElement('span'), label = document.createElement('span');
		caret.className = 'collab-caret'; label.className = 'collab-caret-label'; label.textContent = 'Eve';
		caret.style.setProperty('--collab-peer', 'url(%s/leak)'); caret.append(label);
		document.querySelector('collab-editor').append(caret); return true; })()`, leak.URL)))
	waitJS(t, tab, "the blocked image reported", `window.cspViolations.some((v) => v.startsWith('img-src') && v.includes('/leak'))`)
	if n := leaks.Load(); n != 0 {
		t.Errorf("the other origin received %d requests", n)
	}

	// Frames: refused by default, shown when the embedding site is listed.
	embedder := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><iframe id="f" src="%s/embed/csp?name=Framed" width="600" height="300"
			onload="this.dataset.loaded = '1'"></iframe>`, r.URL.Query().Get("server"))
	}))
	t.Cleanup(embedder.Close)
	allowing := startPages(t, web.Options{FrameAncestors: []string{"'self'", embedder.URL}})
	for _, tt := range []struct {
		server string
		shown  bool
	}{{srv.URL, false}, {allowing, true}} {
		parent := openPage(t, browser, embedder.URL+"/?server="+tt.server, "#f")
		waitJS(t, parent, "the frame loaded", `document.getElementById('f').dataset.loaded === '1'`)
		if got := frameShown(t, parent); got != tt.shown {
			t.Errorf("frame of %s on %s shown = %v, want %v", tt.server, embedder.URL, got, tt.shown)
		}
	}
}

// frameShown reports whether the tab's first child frame shows a collab
// page (rather than the error page of a blocked frame).
func frameShown(t *testing.T, ctx context.Context) bool {
	t.Helper()
	tree, err := chromedp.Run(ctx, chromedp.Action[*page.FrameTree](func(ctx context.Context, tg *chromedp.Target) (*page.FrameTree, error) {
		res, err := cdp.Call(ctx, tg, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		return res.FrameTree, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.ChildFrames) != 1 {
		t.Fatalf("%d child frames, want 1", len(tree.ChildFrames))
	}
	t.Logf("child frame URL %s", tree.ChildFrames[0].Frame.URL)
	return tree.ChildFrames[0].Frame.URL != "chrome-error://chromewebdata/"
}

// startPages serves collab (open, in memory) with pages made with opts
// and returns its URL.
func startPages(t *testing.T, opts web.Options) string {
	t.Helper()
	pages, err := web.NewHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	cs := collab.NewServer(memory.New(), collab.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	mux := http.NewServeMux()
	mux.Handle("/ws", cs)
	mux.Handle("/", pages)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		cs.Shutdown(ctx)
	})
	return hs.URL
}
