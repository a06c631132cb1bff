package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
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

// historyText is the text the panel shows, without what it marks deleted.
const historyText = `Array.from(document.querySelectorAll('#history-text .history-span')).map((s) => s.textContent).join('')`

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

// oldSession stores document id's first two revisions, "Dear team," typed
// by Old two hours ago, so that what the pages type is a later session.
func oldSession(t *testing.T, srv *testServer, id string) {
	t.Helper()
	at := time.Now().Add(-2 * time.Hour)
	var b1, b2 ot.Builder
	recs := []storage.Record{
		{Rev: 1, Op: b1.Insert("Dear ").Op(), Client: "old-client", Seq: 1, Author: "Old", Time: at},
		{Rev: 2, Op: b2.Retain(5).Insert("team,").Op(), Client: "old-client", Seq: 2, Author: "Old", Time: at.Add(time.Second)},
	}
	if err := srv.db.Append(t.Context(), id, recs); err != nil {
		t.Fatal(err)
	}
}

// oldSessionPages starts a server whose document id has oldSession's
// revisions and opens pageA and pageB (paths) on it, both synced.
func oldSessionPages(t *testing.T, id, pageA, pageB string) (srv *testServer, a, b context.Context) {
	t.Helper()
	browser := newBrowser(t)
	srv = startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	oldSession(t, srv, id)
	a = newTab(t, browser, srv.URL+pageA)
	b = newTab(t, browser, srv.URL+pageB)
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	return srv, a, b
}

// marked is a JavaScript expression: the texts the panel at prefix marks
// with class cls, joined by |.
func marked(prefix, cls string) string {
	return fmt.Sprintf(`Array.from(document.querySelectorAll('#%stext .%s')).map((s) => s.textContent).join('|')`, prefix, cls)
}

// TestE2EHistorySessions: the panel lists the sessions of editing, newest
// first, with their editors and named versions; choosing one shows the
// text at its end with what the session inserted underlined and what it
// deleted struck through; restoring the old session reaches the other page
// as one edit.
func TestE2EHistorySessions(t *testing.T) {
	srv, a, b := oldSessionPages(t, "sess", "/d/sess?name=Ada&editor=textarea", "/d/sess?name=Bo&editor=textarea")
	// Ada replaces "team" by "all".
	run(t, a, selectRange(5, 9), chromedp.KeyEvent("all"))
	converge(t, srv, "sess", "Dear all,", a, b)
	res, err := http.Post(srv.URL+"/api/docs/sess/versions", "application/json", strings.NewReader(`{"name":"draft","rev":2}`))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("naming revision 2: %v %v", res, err)
	}
	res.Body.Close()

	run(t, a, evalJS(`document.querySelector('#history-panel summary').click()`))
	waitJS(t, a, "two sessions", `document.querySelectorAll('#history-sessions .history-session').length === 2`)
	labels := evalString(a, `Array.from(document.querySelectorAll('#history-sessions .history-session')).map((b) => b.dataset.from + '-' + b.dataset.to + ' ' + b.textContent).join('\n')`)
	lines := strings.Split(labels, "\n")
	head := headRev(t, srv, "sess")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], fmt.Sprintf("3-%d Ada · ", head)) || !strings.HasPrefix(lines[1], "1-2 Old · 2 edits") || !strings.HasSuffix(lines[1], "★ draft") {
		t.Fatalf("sessions listed:\n%s", labels)
	}

	// The newest session: against the text before it, "all" is new and "team" gone.
	run(t, a, evalJS(`document.querySelector('#history-sessions .history-session').click()`))
	waitJS(t, a, "Ada's session shown", fmt.Sprintf(`document.getElementById('history-panel').dataset.rev === '%d' && document.getElementById('history-panel').dataset.since === '2'`, head))
	if got := evalString(a, marked("history-", "history-new")); got != "all" {
		t.Errorf("inserted in Ada's session: %q, want all", got)
	}
	if got := evalString(a, marked("history-", "history-deleted")); got != "team" {
		t.Errorf("deleted in Ada's session: %q, want team", got)
	}
	if got := evalString(a, historyText); got != "Dear all," {
		t.Errorf("text at the end of Ada's session: %q", got)
	}
	authors := evalString(a, `Array.from(document.querySelectorAll('#history-text .history-span')).map((s) => s.title + ':' + s.textContent).join('|')`)
	if authors != "Old:Dear |Ada:all|Old:," {
		t.Errorf("spans by author = %q", authors)
	}
	screenshot(t, a, "screenshot-history.png")

	// The old session: everything in it is new; restore it.
	run(t, a, evalJS(`document.querySelectorAll('#history-sessions .history-session')[1].click()`))
	waitJS(t, a, "Old's session shown", `document.getElementById('history-panel').dataset.rev === '2' && document.getElementById('history-panel').dataset.since === '0'`)
	if got := evalString(a, marked("history-", "history-new")); got != "Dear team," {
		t.Errorf("inserted in Old's session: %q", got)
	}
	run(t, b, recordTexts())
	run(t, a, evalJS(`document.getElementById('history-restore').click()`))
	converge(t, srv, "sess", "Dear team,", a, b)
	if seen := evalString(b, `JSON.stringify(window.seen)`); seen != `["Dear all,","Dear team,"]` {
		t.Fatalf("B saw %s, want the restore as one edit", seen)
	}
	waitJS(t, a, "the restore listed in the newest session", fmt.Sprintf(`document.querySelector('#history-sessions .history-session').dataset.to === '%d'`, head+1))
}

// TestE2EWidgetHistory: <collab-editor history> shows the same panel
// inside the widget (here the /embed page), with ids of its own: scrub to
// an older revision and restore it; the other widget receives one edit.
func TestE2EWidgetHistory(t *testing.T) {
	srv, a, b := oldSessionPages(t, "wid", "/embed/wid?name=Ada&editor=textarea&history", "/embed/wid?name=Bo&editor=textarea")
	if n := evalString(b, `String(document.querySelectorAll('.history-panel').length)`); n != "0" {
		t.Fatalf("a widget without history shows %s panels", n)
	}
	run(t, a, caretAt(-1), chromedp.KeyEvent(" hi"))
	converge(t, srv, "wid", "Dear team, hi", a, b)

	const panel = `document.querySelector('collab-editor .history-panel')`
	prefix := evalString(a, panel+`.id.replace(/panel$/, '')`)
	if !strings.HasPrefix(prefix, "collab-") {
		t.Fatalf("the widget's panel has id prefix %q", prefix)
	}
	run(t, a, evalJS(panel+`.querySelector('summary').click()`))
	waitJS(t, a, "two sessions in the widget", panel+`.querySelectorAll('.history-session').length === 2`)
	head := headRev(t, srv, "wid")
	waitJS(t, a, "the head shown", fmt.Sprintf(panel+`.dataset.rev === '%d'`, head))
	run(t, a, evalJS(fmt.Sprintf(`(() => { const s = %s.querySelector('.history-rev'); s.value = '1';
		s.dispatchEvent(new Event('input')); return true; })()`, panel)))
	waitJS(t, a, "revision 1 in the widget", panel+`.dataset.rev === '1'`)
	if got := evalString(a, fmt.Sprintf(`Array.from(document.querySelectorAll('#%stext .history-span')).map((s) => s.textContent).join('')`, prefix)); got != "Dear " {
		t.Fatalf("widget panel text at 1: %q", got)
	}
	if got := evalString(a, marked(prefix, "history-deleted")); got != "team,| hi" && got != "team, hi" {
		t.Errorf("deleted since the head: %q", got)
	}
	run(t, b, recordTexts())
	run(t, a, evalJS(panel+`.querySelector('.history-restore').click()`))
	converge(t, srv, "wid", "Dear ", a, b)
	if seen := evalString(b, `JSON.stringify(window.seen)`); seen != `["Dear team, hi","Dear "]` {
		t.Fatalf("B saw %s, want the restore as one edit", seen)
	}
}
