package web_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/collabd/collab/collab"
)

// embeddingPages returns the pages of docs/embedding.md by name: each
// ```html block after a <!-- page: NAME --> line.
func embeddingPages(t *testing.T) map[string]string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "embedding.md"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)<!-- page: ([a-z]+) -->\n```html\n(.*?)\n```")
	pages := make(map[string]string)
	for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
		pages[m[1]] = m[2]
	}
	return pages
}

// TestE2EEmbeddingPages runs every page of docs/embedding.md, served on
// another origin, on one document: what each types reaches the others.
func TestE2EEmbeddingPages(t *testing.T) {
	pages := embeddingPages(t)
	for _, name := range []string{"widget", "codemirror", "textarea", "monaco"} {
		if pages[name] == "" {
			t.Fatalf("docs/embedding.md has no page %q", name)
		}
	}
	var main string
	mux := http.NewServeMux()
	serveMonaco(t, mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(strings.ReplaceAll(page, "http://localhost:8080", main)))
	})
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AllowedOrigins: []string{site.URL}})
	main = srv.URL
	browser := newBrowser(t)

	widget := newTab(t, browser, site.URL+"/widget")
	waitJS(t, widget, "the widget synced", synced)
	run(t, widget, caretAt(0), chromedp.KeyEvent("widget 😀. "))

	cmPage := openPage(t, browser, site.URL+"/codemirror", ".cm-content")
	waitJS(t, cmPage, "the CodeMirror page to show the widget's words", `window.collabView.state.doc.toString() === "widget 😀. "`)
	run(t, cmPage, evalJS(`(() => { const v = window.collabView; v.focus(); v.dispatch({ selection: { anchor: v.state.doc.length } }); return true; })()`),
		chromedp.KeyEvent("codemirror. "))

	taPage := openPage(t, browser, site.URL+"/textarea", "#notes")
	want := "widget 😀. codemirror. "
	waitJS(t, taPage, "the textarea page to show both", `document.getElementById('notes').value === `+jsString(want))
	run(t, taPage, evalJS(`(() => { const ta = document.getElementById('notes'); ta.focus(); ta.setSelectionRange(ta.value.length, ta.value.length); return true; })()`),
		chromedp.KeyEvent("textarea."))
	want += "textarea."
	waitJS(t, taPage, "the textarea page saved", `document.title === 'synced' && document.getElementById('notes').value === `+jsString(want))

	moPage := openPage(t, browser, site.URL+"/monaco", ".monaco-editor")
	waitJS(t, moPage, "the Monaco page to show the three", `window.collabMonaco && window.collabMonaco.getValue() === `+jsString(want))
	run(t, moPage, evalJS(`(() => { const e = window.collabMonaco; const m = e.getModel(); const p = m.getPositionAt(m.getValueLength());
		e.focus(); e.setPosition(p); return true; })()`), chromedp.KeyEvent(" monaco"), insertText("🇫🇷"))
	want += " monaco🇫🇷"
	waitJS(t, taPage, "the textarea page to show Monaco's words", `document.title === 'synced' && document.getElementById('notes').value === `+jsString(want))
	waitJS(t, widget, "the widget to show all four", textIs(want))
	waitJS(t, moPage, "the Monaco page to show all four", `window.collabMonaco.getValue() === `+jsString(want))
	waitJS(t, cmPage, "the CodeMirror page to show all four", `window.collabView.state.doc.toString() === `+jsString(want))
	if got := srv.text(t, "notes"); got != want {
		t.Errorf("server text %q, want %q", got, want)
	}
}
