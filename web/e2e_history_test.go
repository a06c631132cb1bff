package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
)

// headRev is the server's revision of document id.
func headRev(t *testing.T, srv *testServer, id string) uint64 {
	t.Helper()
	res, err := http.Get(srv.URL + "/api/docs/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct{ Rev uint64 }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Rev
}

const historyText = `document.getElementById('history-text').textContent`

// scrub moves the panel's slider to rev and waits until it shows it.
func scrub(t *testing.T, ctx context.Context, rev uint64) {
	t.Helper()
	run(t, ctx, evalJS(fmt.Sprintf(`(() => { const s = document.getElementById('history-rev'); s.value = '%d';
		s.dispatchEvent(new Event('input')); return true; })()`, rev)))
	waitJS(t, ctx, fmt.Sprintf("the panel to show revision %d", rev), fmt.Sprintf(`document.getElementById('history-panel').dataset.rev === '%d'`, rev))
}

// TestE2EHistoryPanel: in the panel of /d/{id}, the slider shows the text
// of the chosen revision coloured by author; naming and restoring work,
// and the other page receives the restore as one edit.
func TestE2EHistoryPanel(t *testing.T) {
	srv, a, b := twoPages(t, "hist")
	run(t, a, caretAt(0), chromedp.KeyEvent("Hello"))
	converge(t, srv, "hist", "Hello", a, b)
	hello := headRev(t, srv, "hist")
	run(t, b, caretAt(-1), chromedp.KeyEvent(" world"))
	converge(t, srv, "hist", "Hello world", a, b)

	run(t, a, evalJS(`document.querySelector('#history-panel summary').click()`))
	head := headRev(t, srv, "hist")
	waitJS(t, a, "the panel to show the head", fmt.Sprintf(`document.getElementById('history-panel').dataset.rev === '%d' && %s === 'Hello world'`, head, historyText))
	authors := evalString(a, `Array.from(document.querySelectorAll('#history-text .history-span')).map((s) => s.title + ':' + s.textContent).join('|')`)
	if authors != "Ada:Hello|Bo: world" {
		t.Fatalf("spans by author = %q, want Ada:Hello|Bo: world", authors)
	}
	screenshot(t, a, "screenshot-history.png")

	// Scrub back to the revision of "Hello": nothing in it is new.
	scrub(t, a, hello)
	waitJS(t, a, "the panel to show Hello", historyText+` === 'Hello' && !document.querySelector('#history-text .history-new')`)

	// Forward again: what the head added since is marked.
	scrub(t, a, head)
	waitJS(t, a, "the head's additions to be marked", `Array.from(document.querySelectorAll('#history-text .history-new')).map((s) => s.textContent).join('|') === ' world'`)
	scrub(t, a, hello)

	run(t, a, evalJS(`(() => { document.getElementById('history-name').value = 'greeting';
		document.getElementById('history-name-btn').click(); return true; })()`))
	waitJS(t, a, "the version to be listed", `document.getElementById('history-versions').textContent.includes('greeting (revision `+fmt.Sprint(hello)+`)')`)

	run(t, b, recordTexts())
	run(t, a, evalJS(`document.getElementById('history-restore').click()`))
	converge(t, srv, "hist", "Hello", a, b)
	if seen := evalString(b, `JSON.stringify(window.seen)`); seen != `["Hello world","Hello"]` {
		t.Fatalf("B saw %s, want the restore as one edit", seen)
	}
	if got := headRev(t, srv, "hist"); got != head+1 {
		t.Fatalf("head %d after the restore, want %d: one op", got, head+1)
	}
}
