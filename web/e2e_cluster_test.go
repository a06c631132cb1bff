package web_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/internal/natstest"
)

// clusterNode serves collab over a cluster.Store of its own on the NATS
// server at url, as a collabd -nats node does. The store closes after the
// node has stopped.
func clusterNode(t *testing.T, url, name string, opts collab.Options) *testServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	st, err := cluster.Open(ctx, cluster.Options{
		URLs: []string{url}, Name: name, Heartbeat: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatalf("cluster.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() }) // runs after the node's own cleanup
	return startNode(t, st, opts)
}

// typeConcurrently types each text in its tab, all tabs at once.
func typeConcurrently(t *testing.T, tabs map[context.Context]string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(tabs))
	for ctx, text := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range text {
				if err := chromedp.Do(ctx, chromedp.KeyEvent(string(r))); err != nil {
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
}

// TestE2EClusterFailover: two cluster nodes on one NATS server; Ada edits
// on node A, Bo on node B, at once. Node A stops while Ada types; her
// editor moves to node B; both end with every word once.
func TestE2EClusterFailover(t *testing.T) {
	browser := newBrowser(t)
	nats := natstest.Run(t)
	page := multiServerPage(t, "cluster")
	opts := collab.Options{AllowedOrigins: []string{page.URL}}
	nodeA := clusterNode(t, nats.URL(), "a", opts)
	nodeB := clusterNode(t, nats.URL(), "b", opts)

	ada := newTab(t, browser, pageURL(page, "Ada", nodeA.URL+" "+nodeB.URL))
	bo := newTab(t, browser, pageURL(page, "Bo", nodeB.URL+" "+nodeA.URL))
	waitJS(t, ada, "Ada synced on node A", synced+" && "+clientServer+" === "+jsString(nodeA.URL))
	waitJS(t, bo, "Bo synced on node B", synced+" && "+clientServer+" === "+jsString(nodeB.URL))
	run(t, ada, caretAt(0), chromedp.KeyEvent("|"))
	waitJS(t, bo, "Bo to see Ada's bar through the cluster", textIs("|"))

	// Ada types before the bar, Bo after it, at the same time on two nodes.
	adaParts := []string{"Ada on A. "}
	boParts := []string{" Bo on B."}
	run(t, ada, caretAt(0))
	run(t, bo, caretAt(-1))
	typeConcurrently(t, map[context.Context]string{ada: adaParts[0], bo: boParts[0]})
	want := strings.Join(adaParts, "") + "|" + strings.Join(boParts, "")
	waitJS(t, ada, "Ada to converge", textIs(want)+" && "+synced)
	waitJS(t, bo, "Bo to converge", textIs(want)+" && "+synced)

	// Node A stops while Ada types; Bo goes on typing on node B.
	adaParts = append(adaParts, "racing the stop. ")
	boParts = append(boParts, " Bo goes on.")
	typeConcurrently(t, map[context.Context]string{ada: adaParts[1], bo: boParts[1]})
	nodeA.stop()
	adaParts = append(adaParts, "Ada moved. ")
	run(t, ada, chromedp.KeyEvent(adaParts[2]))

	want = strings.Join(adaParts, "") + "|" + strings.Join(boParts, "")
	waitJS(t, ada, "Ada saved on node B", textIs(want)+" && "+synced+" && "+clientServer+" === "+jsString(nodeB.URL))
	waitJS(t, bo, "Bo to see every word", textIs(want)+" && "+synced)
	got := nodeB.text(t, "cluster")
	if got != want {
		t.Fatalf("node B's text = %q, want %q", got, want)
	}
	for _, p := range append(adaParts, boParts...) {
		if n := strings.Count(got, p); n != 1 {
			t.Errorf("%q appears %d times, want once", p, n)
		}
	}
}

// TestE2EClusterNATSDown: while NATS is down the editor says the server is
// unavailable and keeps every edit; acknowledged words stay, and the
// buffered ones are saved once when NATS is back.
func TestE2EClusterNATSDown(t *testing.T) {
	browser := newBrowser(t)
	nats := natstest.Run(t)
	node := clusterNode(t, nats.URL(), "a", collab.Options{})
	a := newTab(t, browser, node.URL+"/d/natsdown?name=Ada")
	waitJS(t, a, "synced", synced)
	parts := []string{"acknowledged. "}
	run(t, a, caretAt(0), chromedp.KeyEvent(parts[0]))
	waitJS(t, a, "first words saved", textIs(parts[0])+" && "+synced)

	nats.Stop()
	parts = append(parts, "typed while NATS is down. ")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[1]))
	status := `document.querySelector('collab-editor .collab-status').textContent`
	waitJS(t, a, "the status to say the server is unavailable",
		stateIs+`'offline' && `+status+`.includes('cannot save right now') && `+status+`.includes('kept on this device')`)
	parts = append(parts, "and more.")
	run(t, a, caretAt(-1), chromedp.KeyEvent(parts[2]))
	want := strings.Join(parts, "")
	waitJS(t, a, "every edit on screen", textIs(want))

	nats.Start()
	waitJS(t, a, "saved once NATS is back", textIs(want)+" && "+synced)
	if got := node.text(t, "natsdown"); got != want {
		t.Fatalf("server text = %q, want %q", got, want)
	}
	b := newTab(t, browser, node.URL+"/d/natsdown?name=Bo")
	waitJS(t, b, "a new page to load every word", textIs(want))
}
