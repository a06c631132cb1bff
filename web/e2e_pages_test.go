package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/collabd/collab/collab"
)

// putDoc sets a document's text through the HTTP API.
func putDoc(t testing.TB, srv *testServer, id, text string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/api/docs/"+id, strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", id, err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("PUT %s: status %d, want 2xx", id, res.StatusCode)
	}
}

// openPage opens url in a new tab and waits until sel is visible.
func openPage(t testing.TB, browser context.Context, url, sel string, before ...chromedp.Action[chromedp.Void]) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	run(t, ctx, append(before, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))...)
	return ctx
}

func evalValue[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, waitFor)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// tabTo presses Tab from where the focus is until the element with the id
// has the focus, and returns how many presses it took (at most max).
func tabTo(t *testing.T, ctx context.Context, id string, max int) int {
	t.Helper()
	for n := 1; n <= max; n++ {
		run(t, ctx, chromedp.KeyEvent(kb.Tab))
		if evalValue[string](t, ctx, `document.activeElement ? document.activeElement.id : ''`) == id {
			return n
		}
	}
	t.Fatalf("#%s not focused after %d presses of Tab (focus on %s)", id, max,
		evalString(ctx, `document.activeElement ? document.activeElement.outerHTML.slice(0, 80) : 'nothing'`))
	return 0
}

// axName returns the accessible name Chromium computes for the first
// element matching sel.
func axName(sel string) chromedp.Action[string] {
	return chromedp.QueryAfter(chromedp.CSS(sel), func(ctx context.Context, t *chromedp.Target, nodes []*chromedp.Node) (string, error) {
		id := nodes[0].BackendNodeID
		no := false
		res, err := cdp.Call(ctx, t, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{BackendNodeID: id, FetchRelatives: &no})
		if err != nil {
			return "", err
		}
		for _, n := range res.Nodes {
			if n.BackendDOMNodeID != id || n.Name == nil {
				continue
			}
			var name string
			if err := json.Unmarshal([]byte(n.Name.Value), &name); err != nil {
				return "", fmt.Errorf("accessible name %s: %w", n.Name.Value, err)
			}
			return name, nil
		}
		return "", nil
	})
}

func TestE2EDocumentListAndCreateByKeyboard(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	putDoc(t, srv, "alpha", "first document")
	putDoc(t, srv, "beta.notes", "second document")

	p := openPage(t, browser, srv.URL+"/", "#new-doc")
	waitJS(t, p, "the list of two documents", `document.querySelectorAll('#doc-list li a').length === 2`)
	var links []struct{ Text, Href string }
	if err := json.Unmarshal([]byte(evalValue[string](t, p, `JSON.stringify([...document.querySelectorAll('#doc-list li a')]
		.map(a => ({Text: a.textContent, Href: new URL(a.href).pathname})).sort((x, y) => x.Text < y.Text ? -1 : 1))`)), &links); err != nil {
		t.Fatal(err)
	}
	want := []struct{ Text, Href string }{{"alpha", "/d/alpha"}, {"beta.notes", "/d/beta.notes"}}
	if fmt.Sprint(links) != fmt.Sprint(want) {
		t.Errorf("document links = %v, want %v", links, want)
	}

	// Keyboard only: from the top of the page, Tab to the name field.
	if got := evalValue[string](t, p, `document.activeElement === document.body ? 'body' : document.activeElement.outerHTML`); got != "body" {
		t.Fatalf("focus on a fresh page is on %s, want the body", got)
	}
	if n := tabTo(t, p, "doc-name", 4); n != 3 {
		t.Errorf("the name field took %d presses of Tab, want 3 (skip link, brand, field)", n)
	}

	// An invalid name: the error shows, the field is marked, nothing navigates.
	run(t, p, evalJS(`window.stayedHere = true`), chromedp.KeyEvent("bad name!"), chromedp.KeyEvent(kb.Enter))
	waitJS(t, p, "the error message", `!document.getElementById('doc-name-error').hidden && document.getElementById('doc-name-error').textContent.includes('no spaces')`)
	if got := evalValue[string](t, p, `[location.pathname, String(window.stayedHere), document.getElementById('doc-name').getAttribute('aria-invalid'), document.activeElement.id].join('|')`); got != "/|true|true|doc-name" {
		t.Errorf("after an invalid name: path|same page|aria-invalid|focus = %q, want %q", got, "/|true|true|doc-name")
	}

	// Correct it with the keyboard and submit: the editor of that name opens.
	run(t, p, chromedp.KeyEvent(strings.Repeat(kb.Backspace, len("bad name!"))))
	waitJS(t, p, "the field to be empty", `document.getElementById('doc-name').value === '' `)
	run(t, p, chromedp.KeyEvent("team-notes"))
	waitJS(t, p, "a valid name clears the error", `document.getElementById('doc-name-error').hidden`)
	run(t, p, chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS(editorSelector)))
	if got := evalValue[string](t, p, `location.pathname + '|' + document.getElementById('doc-title').textContent`); got != "/d/team-notes|team-notes" {
		t.Errorf("after Enter: path|title = %q, want %q", got, "/d/team-notes|team-notes")
	}
	waitJS(t, p, "the new document's editor synced", synced)
}

func TestE2ECopyLinkByKeyboard(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	d := openPage(t, browser, srv.URL+"/d/share-me?name=Ada", editorSelector)
	waitJS(t, d, "synced", synced)

	tctx, cancel := context.WithTimeout(d, waitFor)
	name, err := chromedp.Run(tctx, axName("#copy-link"))
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if name != "Copy link" {
		t.Errorf("accessible name of the copy-link button = %q, want %q", name, "Copy link")
	}
	// From the top of the page: skip link, brand, name field, copy link.
	run(t, d, evalJS(`document.activeElement.blur()`))
	if n := tabTo(t, d, "copy-link", 6); n != 4 {
		t.Errorf("the copy-link button took %d presses of Tab, want 4", n)
	}
	run(t, d, chromedp.KeyEvent(kb.Enter))
	// Either the clipboard took the link, or the link is shown to copy by hand.
	waitJS(t, d, "the copy to be confirmed", `['Link copied', location.origin + '/d/share-me'].includes(document.getElementById('copy-done').textContent)`)
}

// noOverflow holds when nothing sticks out of the page sideways.
const noOverflow = `document.documentElement.scrollWidth <= window.innerWidth`

func TestE2ENarrowScreen(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	long := "quarterly-planning-notes-for-the-platform-team.2025"
	putDoc(t, srv, long, "Agenda\n- budgets\n- hiring")
	putDoc(t, srv, "short", "x")
	narrow := chromedp.EmulateViewport(360, 740)

	p := openPage(t, browser, srv.URL+"/", "#new-doc", narrow)
	waitJS(t, p, "the list", `document.querySelectorAll('#doc-list li a').length === 2`)
	if w := evalValue[float64](t, p, `window.innerWidth`); w != 360 {
		t.Fatalf("viewport width = %v, want 360", w)
	}
	if got := evalValue[string](t, p, `document.documentElement.scrollWidth + ' > ' + window.innerWidth`); !evalValue[bool](t, p, noOverflow) {
		t.Errorf("the document list overflows sideways at 360 px: scrollWidth %s", got)
	}

	d := openPage(t, browser, srv.URL+"/d/"+long+"?name=Ada", editorSelector, narrow)
	waitJS(t, d, "synced", synced+` && `+textIs("Agenda\n- budgets\n- hiring"))
	if got := evalValue[string](t, d, `document.documentElement.scrollWidth + ' > ' + window.innerWidth`); !evalValue[bool](t, d, noOverflow) {
		t.Errorf("the editor page overflows sideways at 360 px: scrollWidth %s", got)
	}
	var box struct{ Left, Right, Top, Bottom, Width, Height float64 }
	if err := json.Unmarshal([]byte(evalValue[string](t, d, `JSON.stringify((r => ({Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom, Width: r.width, Height: r.height}))(document.querySelector('collab-editor .cm-editor, collab-editor textarea').getBoundingClientRect()))`)), &box); err != nil {
		t.Fatal(err)
	}
	if box.Width < 300 || box.Height < 100 || box.Left < 0 || box.Right > 360 || box.Top < 0 || box.Top >= 740 {
		t.Errorf("textarea at 360×740 is %+v, want at least 300 px wide, 100 px high, inside the viewport", box)
	}
	if vis := evalValue[string](t, d, `getComputedStyle(document.querySelector('collab-editor .cm-editor, collab-editor textarea')).visibility`); vis != "visible" {
		t.Errorf("textarea visibility = %q", vis)
	}
	screenshot(t, d, "screenshot-narrow.png")
}

func TestE2EDocumentListSortedByChange(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	for _, id := range []string{"alpha", "beta", "gamma"} {
		putDoc(t, srv, id, "first text of "+id)
	}
	putDoc(t, srv, "beta", "beta changed last")
	order := `[...document.querySelectorAll('#doc-list li a')].map(a => a.textContent).join(',')`

	p := openPage(t, browser, srv.URL+"/", "#doc-list li")
	waitJS(t, p, "the list by name", order+` === 'alpha,beta,gamma'`)
	run(t, p, evalJS(`(s => { s.value = 'updated'; s.dispatchEvent(new Event('change')); })(document.getElementById('sort'))`))
	waitJS(t, p, "the list by last change", order+` === 'beta,gamma,alpha'`)
	if got := evalValue[string](t, p, `location.search`); got != "?sort=updated" {
		t.Errorf("the address keeps the order as %q, want ?sort=updated", got)
	}
	q := openPage(t, browser, srv.URL+"/?sort=updated", "#doc-list li")
	waitJS(t, q, "a link to the list by last change", order+` === 'beta,gamma,alpha' && document.getElementById('sort').value === 'updated'`)
}
