package web_test

// Failures a person can hit in the page, each told in plain words with a
// way out: a paste larger than a frame, one larger than the document may
// grow, a deleted document, the network going away, a peer that dies.

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/collabd/collab/collab"
	"github.com/golang-jwt/jwt/v5"
)

const notice = `document.querySelector('collab-editor .collab-notice')`

// lengthIs is true when the widget's text has n code units and ends with end.
func lengthIs(n int, end string) string {
	return `(() => { ` + editorJS + ` const s = ed.getText(); return s.length === ` + strconv.Itoa(n) + ` && s.endsWith(` + jsString(end) + `); })()`
}

// pasteJS inserts n characters ending with end at the start of the
// textarea, as a paste does (one input event).
func pasteJS(n int, end string) chromedp.Action[chromedp.Void] {
	return evalJS(`(() => { const ta = document.querySelector('collab-editor textarea'); ta.focus();
		const s = 'x'.repeat(` + strconv.Itoa(n-len(end)) + `) + ` + jsString(end) + `;
		ta.setSelectionRange(0, 0); document.execCommand('insertText', false, s); return true; })()`)
}

func TestE2ELargePasteAndRefusal(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{MaxDocSize: 2 << 20})
	a := newTab(t, browser, srv.URL+"/d/big?name=Ada&editor=textarea")
	b := newTab(t, browser, srv.URL+"/d/big?name=Bo")
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)

	const size = 1200 * 1000
	run(t, a, pasteJS(size, "END1"))
	waitJS(t, b, "the 1.2 MB paste on the other page", lengthIs(size, "END1"))
	waitJS(t, a, "A saved", synced)
	if got := len(srv.text(t, "big")); got != size {
		t.Fatalf("server text has %d bytes, want %d", got, size)
	}

	// A second one would take the document over 2 MiB: refused once, taken
	// out of the text, offered to copy or download.
	run(t, a, pasteJS(size, "END2"))
	waitJS(t, a, "the refusal told", notice+` && `+notice+`.textContent.includes('not saved') && `+notice+`.textContent.includes('larger than the server allows')`)
	waitJS(t, a, "the refused paste out of the text", lengthIs(size, "END1")+" && "+synced)
	if n := evalString(a, `String(document.querySelectorAll('collab-editor .collab-notice').length)`); n != "1" {
		t.Errorf("%s refusal notices, want 1", n)
	}
	if got := evalString(a, `[...document.querySelectorAll('collab-editor .collab-notice button')].map(b => b.textContent).join('|')`); !strings.Contains(got, "Copy") || !strings.Contains(got, "Download") {
		t.Errorf("notice buttons = %q, want copy and download", got)
	}
	run(t, a, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(editorSelector)))
	waitJS(t, a, "A synced after reload", synced+" && "+lengthIs(size, "END1"))
	if n := evalString(a, `String(Object.keys(localStorage).filter(k => k.startsWith('collab:pending:')).length)`); n != "0" {
		t.Errorf("%s outbox records after reload, want 0", n)
	}
	if got := evalString(a, `String(document.querySelectorAll('collab-editor .collab-notice').length)`); got != "0" {
		t.Errorf("the refusal came back after reload (%s notices)", got)
	}
	if got := len(srv.text(t, "big")); got != size {
		t.Errorf("server text has %d bytes, want %d", got, size)
	}
}

// TestE2EDeletedWhileOpen: a document deleted (by a token naming Cy)
// while two pages have it open. Both are told who deleted it and keep
// their text; reconnecting recreates nothing; Bo leaves for the list and
// Ada recreates the document from her text.
func TestE2EDeletedWhileOpen(t *testing.T) {
	browser := newBrowser(t)
	secret := []byte("e2e-deleted-secret-0123456789ab")
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AuthSecret: secret})
	mint := func(doc string, perm collab.Perm, name string) string {
		tok, err := collab.MintToken(secret, collab.Claims{Doc: doc, Perm: perm, Name: name,
			RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	admin := mint("*", collab.PermAdmin, "Cy")
	a := newTab(t, browser, srv.URL+"/d/gone?editor=textarea&token="+url.QueryEscape(mint("gone", collab.PermWrite, "Ada")))
	b := newTab(t, browser, srv.URL+"/d/gone?editor=textarea&token="+url.QueryEscape(mint("gone", collab.PermWrite, "Bo")))
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	run(t, a, caretAt(0), chromedp.KeyEvent("my notes"))
	waitJS(t, a, "A saved", synced+" && "+textIs("my notes"))
	waitJS(t, b, "B has the text", textIs("my notes"))

	if code := adminCall(t, http.MethodDelete, srv.URL+"/api/docs/gone", admin); code != http.StatusNoContent {
		t.Fatalf("DELETE: %d", code)
	}
	for _, tab := range []context.Context{a, b} {
		waitJS(t, tab, "the deletion told, and by whom", notice+` && `+notice+`.dataset.kind === 'deleted' && `+notice+`.textContent.includes('was deleted by Cy')`)
		waitJS(t, tab, "the text kept and read-only", textIs("my notes")+` && document.querySelector('collab-editor textarea').readOnly`)
		if st := evalString(tab, `document.querySelector('collab-editor .collab-status').textContent`); st != "This document was deleted" {
			t.Errorf("status = %q", st)
		}
	}
	// Reconnecting (as after coming online) does not recreate it.
	run(t, a, evalJS(`(() => { window.dispatchEvent(new Event('online')); return true; })()`))
	if code := adminCall(t, http.MethodGet, srv.URL+"/api/docs/gone", admin); code != http.StatusNotFound {
		t.Errorf("GET after the deletion: %d, want 404: the document was recreated without asking", code)
	}

	clickNotice := func(tab context.Context, label string) {
		run(t, tab, evalJS(`(() => { [...document.querySelectorAll('collab-editor .collab-notice button')].find(b => b.textContent === `+jsString(label)+`).click(); return true; })()`))
	}
	clickNotice(b, "Leave")
	run(t, b, chromedp.WaitReady(chromedp.CSS("#doc-list"))) // the page navigates
	if got := evalString(b, `location.pathname`); got != "/" {
		t.Errorf("Bo left for %q, want the list", got)
	}
	if code := adminCall(t, http.MethodGet, srv.URL+"/api/docs/gone", admin); code != http.StatusNotFound {
		t.Errorf("GET after leaving: %d, want 404", code)
	}
	clickNotice(a, "Recreate it from my text")
	waitJS(t, a, "recreated", synced)
	if got := authedText(t, srv.URL, "gone", url.QueryEscape(admin)); got != "my notes" {
		t.Errorf("recreated text = %q, want %q", got, "my notes")
	}
}

// adminCall sends a request without a body under token and returns its status.
func adminCall(t *testing.T, method, target, token string) int {
	t.Helper()
	req, _ := http.NewRequest(method, target, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// setOffline switches the tab's network off or on, as the browser sees it
// (navigator.onLine and its events) and for its connections.
func setOffline(t *testing.T, ctx context.Context, offline bool) {
	t.Helper()
	run(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := cdp.Call(ctx, tg, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}},
		}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
}

func TestE2EOfflineThenOnline(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/net?name=Ada&editor=textarea")
	b := newTab(t, browser, srv.URL+"/d/net?name=Bo&editor=textarea")
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	run(t, b, caretAt(0), chromedp.KeyEvent("."))
	const boCaret = `[...document.querySelectorAll('collab-editor .collab-caret')].some(c => c.dataset.name === 'Bo')`
	const boStale = `[...document.querySelectorAll('collab-editor .collab-person')].some(p => p.textContent === 'Bo' && p.classList.contains('collab-stale'))`
	waitJS(t, a, "Bo's caret on A", boCaret+` && !`+boStale)
	waitJS(t, a, "B's edit on A", textIs(".")+` && `+synced)
	setOffline(t, a, true)
	waitJS(t, a, "offline told", stateIs+`'offline'`)
	// Bo may be gone meanwhile: at once, his caret goes and his name dims.
	waitJS(t, a, "Bo stale on A", `!`+boCaret+` && `+boStale)
	run(t, a, caretAt(0), chromedp.KeyEvent("typed offline"))
	waitJS(t, a, "edits kept", `document.querySelector('collab-editor .collab-status').textContent === 'Offline — your changes are kept on this device'`)
	if got := evalString(a, `document.querySelector('collab-editor .collab-retry').hidden ? 'hidden' : 'shown'`); got != "shown" {
		t.Errorf("Retry now is %s while offline", got)
	}
	// The next attempt waits an hour: only the online event can reconnect
	// before the test gives up.
	awaitHour(t, a, "")
	setOffline(t, a, false)
	waitJS(t, a, "reconnected and saved after online", synced)
	if got := srv.text(t, "net"); got != "typed offline." {
		t.Errorf("server text = %q", got)
	}
	waitJS(t, a, "Bo listed again, not stale", `[...document.querySelectorAll('collab-editor .collab-person')].some(p => p.textContent === 'Bo') && !`+boStale)

	// A connection lost with the browser online: Retry now skips the wait.
	awaitHour(t, a, `c.transport.drop('test');`)
	waitJS(t, a, "offline with Retry now", stateIs+`'offline' && !document.querySelector('collab-editor .collab-retry').hidden`)
	run(t, a, caretAt(-1), chromedp.KeyEvent(", then retried"))
	run(t, a, evalJS(`(() => { document.querySelector('collab-editor .collab-retry').click(); return true; })()`))
	waitJS(t, a, "reconnected and saved after Retry now", synced)
	if got := srv.text(t, "net"); got != "typed offline., then retried" {
		t.Errorf("server text = %q", got)
	}
}

// awaitHour makes the widget's next reconnect wait an hour, as a long
// backoff would, runs then (JavaScript, with the client as c), and waits
// until such a reconnect is scheduled: one that comes sooner came from
// something else.
func awaitHour(t *testing.T, ctx context.Context, then string) {
	t.Helper()
	run(t, ctx, evalJS(`(() => { const c = document.querySelector('collab-editor').client;
		c.maxBackoff = () => 3600000; c.transport.attempt = 16; `+then+` return true; })()`))
	// Scheduling an attempt counts it: 17 is the one an hour away.
	waitJS(t, ctx, "a reconnect an hour away", `(c => c.transport.waiting && c.attempt >= 17)(document.querySelector('collab-editor').client)`)
}

// blackHole forwards TCP connections to a backend until cut, after which
// it drops everything both ways without closing anything: a peer whose
// network died, as the server sees it.
type blackHole struct {
	ln  net.Listener
	cut atomic.Bool
}

func newBlackHole(t *testing.T, backend string) *blackHole {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &blackHole{ln: ln}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, b)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); h.pipe(b, c) }()
			go func() { defer wg.Done(); h.pipe(c, b) }()
		}
	}()
	return h
}

// pipe copies src to dst until src ends; once cut, what it reads is lost.
func (h *blackHole) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !h.cut.Load() {
			dst.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func TestE2EKilledPeerCaretGoes(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"),
		collab.Options{PingPeriod: 500 * time.Millisecond, PongWait: 2 * time.Second})
	hole := newBlackHole(t, srv.addr)
	a := newTab(t, browser, srv.URL+"/d/peer?name=Ada&editor=textarea")
	b := newTab(t, browser, "http://"+hole.ln.Addr().String()+"/d/peer?name=Bo&editor=textarea")
	waitJS(t, a, "A synced", synced)
	waitJS(t, b, "B synced", synced)
	run(t, b, caretAt(0), chromedp.KeyEvent("hello"))
	const boCaret = `[...document.querySelectorAll('collab-editor .collab-caret')].some(c => c.dataset.name === 'Bo')`
	waitJS(t, a, "Bo's caret on A", boCaret)
	// Bo's connection dies without a close: only the server's pings find out.
	hole.cut.Store(true)
	waitJS(t, a, "Bo's caret gone from A", `!`+boCaret+` && !document.querySelector('collab-editor .collab-people').textContent.includes('Bo')`)
	// Bo's browser still holds the socket open; the unanswered submit
	// gives it up, and the page says the edit is kept, not "Saving…".
	run(t, b, chromedp.KeyEvent(" again"))
	waitJS(t, b, "Bo told his edit is kept", `document.querySelector('collab-editor .collab-status').textContent === 'Offline — your changes are kept on this device'`)
}
