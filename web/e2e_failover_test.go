package web_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/web"
)

// sharedDB opens a database that several nodes serve; it is closed after
// every node has stopped (cleanups run last registered first).
func sharedDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "collab.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// multiServerPage serves, on its own origin, the page /page?servers=LIST
// whose widget lists the servers LIST, with the widget's scripts served
// from the page's origin, so the page needs none of the servers.
func multiServerPage(t *testing.T, doc string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler())
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Notes</title>
<script type="module" src="/collab.js"></script></head>
<body><collab-editor server="%s" doc="%s" name="%s"></collab-editor></body></html>`,
			html.EscapeString(r.URL.Query().Get("servers")), doc, html.EscapeString(r.URL.Query().Get("name")))
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

// pageURL is the address of multiServerPage's page for name and servers.
func pageURL(page *httptest.Server, name, servers string) string {
	return page.URL + "/page?" + url.Values{"name": {name}, "servers": {servers}}.Encode()
}

const clientServer = `document.querySelector('collab-editor').client.server`

// TestE2EFailoverToNextServer: the widget lists two nodes over one store;
// the node it edits on stops in the middle of typing; it moves to the other
// and nothing typed is lost or doubled.
func TestE2EFailoverToNextServer(t *testing.T) {
	browser := newBrowser(t)
	db := sharedDB(t)
	page := multiServerPage(t, "failover")
	opts := collab.Options{AllowedOrigins: []string{page.URL}}
	nodeA := startNode(t, db, opts)
	nodeB := startNode(t, db, opts)

	a := newTab(t, browser, pageURL(page, "Ada", nodeA.URL+", "+nodeB.URL))
	waitJS(t, a, "synced on node A", synced+" && "+clientServer+" === "+jsString(nodeA.URL))
	parts := []string{"before the stop. "}
	run(t, a, caretAt(0), chromedp.KeyEvent(parts[0]))
	waitJS(t, a, "first words saved", textIs(parts[0])+" && "+synced)

	// Words typed as node A stops: their submit may be committed with its
	// ack lost, or refused, or never sent.
	parts = append(parts, "racing the stop. ")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[1]))
	nodeA.stop()
	parts = append(parts, "typed while moving.")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[2]))

	want := strings.Join(parts, "")
	waitJS(t, a, "saved on node B", textIs(want)+" && "+synced+" && "+clientServer+" === "+jsString(nodeB.URL))
	got := nodeB.text(t, "failover")
	if got != want {
		t.Fatalf("node B's text = %q, want %q", got, want)
	}
	for _, p := range parts {
		if n := strings.Count(got, p); n != 1 {
			t.Errorf("%q appears %d times, want once", p, n)
		}
	}
	b := newTab(t, browser, nodeB.URL+"/d/failover?name=Bo")
	waitJS(t, b, "a new page on node B to load the text", textIs(want))
}

var errStoreDown = errors.New("flaky: store unreachable")

// flakyStore is a store that can be cut off, as a cluster's log is when
// its servers are unreachable: every call fails while down.
type flakyStore struct {
	storage.Store
	down atomic.Bool
}

func (s *flakyStore) check() error {
	if s.down.Load() {
		return errStoreDown
	}
	return nil
}

func (s *flakyStore) Load(ctx context.Context, id string) (storage.Doc, error) {
	if err := s.check(); err != nil {
		return storage.Doc{}, err
	}
	return s.Store.Load(ctx, id)
}

func (s *flakyStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Append(ctx, id, recs)
}

func (s *flakyStore) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.Ops(ctx, id, from, to)
}

func (s *flakyStore) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	if err := s.check(); err != nil {
		return "", err
	}
	return s.Store.TextAt(ctx, id, rev)
}

func (s *flakyStore) ClientSeq(ctx context.Context, id, client string) (uint64, uint64, error) {
	if err := s.check(); err != nil {
		return 0, 0, err
	}
	return s.Store.ClientSeq(ctx, id, client)
}

// TestE2EStoreUnavailableKeepsEdits: while the store is unreachable the
// editor says so and keeps every edit; when it is back, they are saved once.
func TestE2EStoreUnavailableKeepsEdits(t *testing.T) {
	browser := newBrowser(t)
	db := sharedDB(t)
	store := &flakyStore{Store: db}
	srv := startNode(t, store, collab.Options{})
	a := newTab(t, browser, srv.URL+"/d/flaky?name=Ada")
	waitJS(t, a, "synced", synced)
	parts := []string{"saved. "}
	run(t, a, caretAt(0), chromedp.KeyEvent(parts[0]))
	waitJS(t, a, "first words saved", textIs(parts[0])+" && "+synced)

	store.down.Store(true)
	parts = append(parts, "typed while the store is down. ")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[1]))
	status := `document.querySelector('collab-editor .collab-status').textContent`
	waitJS(t, a, "the status to say the server is unavailable",
		stateIs+`'offline' && `+status+`.includes('cannot save right now') && `+status+`.includes('kept on this device')`)
	parts = append(parts, "and more.")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[2]))
	want := strings.Join(parts, "")
	waitJS(t, a, "every edit on screen", textIs(want))
	if doc, err := db.Load(context.Background(), "flaky"); err != nil || doc.Text != parts[0] {
		t.Fatalf("stored while down: %q, %v; want %q", doc.Text, err, parts[0])
	}

	store.down.Store(false)
	waitJS(t, a, "saved once the store is back", textIs(want)+" && "+synced)
	if got := srv.text(t, "flaky"); got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
	if st := evalString(a, status); st != "Saved" {
		t.Errorf("status = %q, want %q", st, "Saved")
	}
}
