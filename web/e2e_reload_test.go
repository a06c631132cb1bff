package web_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/web"
)

var errGateDown = errors.New("gate: backend is down")

// gate forwards requests to a backend and can be switched off: while down
// it answers 503 and every connection it opened to the backend, WebSockets
// included, is closed. It plays a proxy or network in front of collabd
// that fails, while the pages stay reachable.
type gate struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	down  bool                  // guarded by mu
	conns map[net.Conn]struct{} // guarded by mu: open connections to the backend
}

func newGate(t *testing.T, backend string) *gate {
	t.Helper()
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{conns: make(map[net.Conn]struct{})}
	tr := &http.Transport{DialContext: g.dial}
	t.Cleanup(tr.CloseIdleConnections)
	// The Host header stays the front's, so the backend sees the page's
	// Origin as its own.
	g.proxy = httputil.NewSingleHostReverseProxy(u)
	g.proxy.Transport = tr
	g.proxy.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, "gate: "+err.Error(), http.StatusServiceUnavailable)
	}
	return g
}

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.isDown() {
		return nil, errGateDown
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.down {
		c.Close()
		return nil, errGateDown
	}
	g.conns[c] = struct{}{}
	return &gateConn{Conn: c, g: g}, nil
}

type gateConn struct {
	net.Conn
	g *gate
}

func (c *gateConn) Close() error {
	c.g.mu.Lock()
	delete(c.g.conns, c.Conn)
	c.g.mu.Unlock()
	return c.Conn.Close()
}

func (g *gate) isDown() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.down
}

func (g *gate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
	if down {
		for c := range g.conns {
			c.Close() // ends the proxied WebSockets too
		}
		clear(g.conns)
	}
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.isDown() {
		http.Error(w, "gate: backend is down", http.StatusServiceUnavailable)
		return
	}
	g.proxy.ServeHTTP(w, r)
}

// frontServer serves the pages itself and /ws and /api/ through g.
func frontServer(t *testing.T, g *gate) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ws", g)
	mux.Handle("/api/", g)
	mux.Handle("/", web.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
	})
	return hs
}

const stateIs = `document.querySelector('collab-editor').dataset.state === `

func TestE2EUnsentEditsSurviveReload(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	g := newGate(t, srv.URL)
	front := frontServer(t, g)
	a := newTab(t, browser, front.URL+"/d/reload?name=Ada")
	b := newTab(t, browser, srv.URL+"/d/reload?name=Bo") // straight to the backend: stays connected
	waitJS(t, a, "A synced through the front", synced)
	waitJS(t, b, "B synced", synced)

	parts := []string{"saved first. "}
	run(t, a, caretAt(0), chromedp.KeyEvent(parts[0]))
	waitJS(t, b, "B to see A's first words", textIs(parts[0]))
	waitJS(t, a, "A saved", synced)

	// Words typed and cut off at once: their submit may or may not have
	// reached the server, and its ack is lost either way.
	parts = append(parts, "racing the cut. ")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[1]))
	g.setDown(true)
	waitJS(t, a, "A offline", stateIs+`'offline'`)

	parts = append(parts, "typed while down. ")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[2]))
	typed := strings.Join(parts, "")
	waitJS(t, a, "unsent edits reported", textIs(typed)+` && document.querySelector('collab-editor .collab-status').textContent.includes('kept on this device')`)

	// Reload while the backend is still down: the page comes from the front,
	// its edits from localStorage.
	run(t, a, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(editorSelector)))
	waitJS(t, a, "the reloaded page to show the unsent edits", textIs(typed))
	waitJS(t, a, "the reloaded page to be offline with unsent edits",
		stateIs+`'offline' && document.querySelector('collab-editor .collab-status').textContent.includes('kept on this device')`)
	parts = append(parts, "more after the reload.")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[3]))
	want := strings.Join(parts, "")
	waitJS(t, a, "A's text after the reload", textIs(want))

	g.setDown(false)
	waitJS(t, a, "A saved after the backend came back", textIs(want)+" && "+synced)
	waitJS(t, b, "B to see every word", textIs(want))
	got := srv.text(t, "reload")
	if got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
	for _, p := range parts {
		if n := strings.Count(got, p); n != 1 {
			t.Errorf("%q appears %d times on the server, want once", p, n)
		}
	}
	if n := evalString(a, `String(Object.keys(localStorage).filter(k => k.startsWith('collab:pending:')).length)`); n != "0" {
		t.Errorf("%s records of unsent edits left in localStorage, want 0", n)
	}
}

func TestE2EDuplicatedTabTakesFreshID(t *testing.T) {
	browser := newBrowser(t)
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/dup?name=Ada")
	waitJS(t, a, "A synced", synced)
	run(t, a, caretAt(0), chromedp.KeyEvent("from A. "))
	waitJS(t, a, "A saved", synced)
	idA := evalString(a, `document.querySelector('collab-editor').client.client`)

	// Duplicating a tab copies its sessionStorage, client id included: give
	// a second tab A's sessionStorage and reload it.
	b := newTab(t, browser, srv.URL+"/d/dup?name=Bo")
	copyJS := `(() => { const s = ` + evalString(a, `JSON.stringify(Object.assign({}, sessionStorage))`) + `;
		for (const [k, v] of Object.entries(s)) sessionStorage.setItem(k, v); return true; })()`
	run(t, b, evalJS(copyJS), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(editorSelector)))
	waitJS(t, b, "the copy to load", textIs("from A. ")+" && "+synced)
	if idB := evalString(b, `document.querySelector('collab-editor').client.client`); idB != idA {
		t.Fatalf("the copy has client id %q, want A's %q (the duplicate case)", idB, idA)
	}

	// A was replaced (4001) with nothing pending: it continues under a new id.
	waitJS(t, a, "A to take a fresh id and sync again",
		`document.querySelector('collab-editor').client.client !== `+jsString(idA)+" && "+synced)
	run(t, a, caretAt(-1), chromedp.KeyEvent("A again. "))
	run(t, b, caretAt(0), chromedp.KeyEvent("B first. "))
	want := "B first. from A. A again. "
	waitJS(t, a, "A to converge", textIs(want)+" && "+synced)
	waitJS(t, b, "B to converge", textIs(want)+" && "+synced)
	if got := srv.text(t, "dup"); got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
}
