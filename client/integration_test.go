package client_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage/memory"
	"github.com/gorilla/websocket"
)

var discard = slog.New(slog.DiscardHandler)

// startServer serves a collab.Server over an in-memory store and returns
// its WebSocket URL.
func startServer(t *testing.T) string {
	t.Helper()
	srv := collab.NewServer(memory.New(), collab.Options{Logger: discard})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// randomEdit inserts a short run of letters and emoji at a random place or
// deletes a short random range.
func randomEdit(rng *rand.Rand) func(string) (ot.Op, error) {
	return func(text string) (ot.Op, error) {
		n := utf8.RuneCountInString(text)
		var b ot.Builder
		if n > 0 && rng.IntN(3) == 0 {
			pos := rng.IntN(n)
			del := 1 + rng.IntN(min(5, n-pos))
			return b.Retain(pos).Delete(del).Retain(n - pos - del).Op(), nil
		}
		alphabet := []rune("abcdé😀 ")
		var s strings.Builder
		for range 1 + rng.IntN(4) {
			s.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		pos := rng.IntN(n + 1)
		return b.Retain(pos).Insert(s.String()).Retain(n - pos).Op(), nil
	}
}

// converge waits until every doc acknowledged its edits and saw the last
// revision, and checks that all texts are equal.
func converge(t *testing.T, docs []*client.Doc) string {
	t.Helper()
	ctx := ctxFor(t)
	var head uint64
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatalf("WaitSynced: %v", err)
		}
		head = max(head, d.Rev()) // every commit is acked to its author
	}
	for i, d := range docs {
		if err := d.WaitRev(ctx, head); err != nil {
			t.Fatalf("doc %d: WaitRev(%d): %v", i, head, err)
		}
	}
	want := docs[0].Text()
	for i, d := range docs[1:] {
		if got := d.Text(); got != want {
			t.Fatalf("client %d diverged at rev %d:\n got %q\nwant %q", i+1, head, got, want)
		}
	}
	return want
}

// checkFresh checks that a new client joining gets text.
func checkFresh(t *testing.T, url, doc, text string) {
	t.Helper()
	ctx := ctxFor(t)
	c, err := client.Dial(ctx, url, client.Options{Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Join(ctx, doc)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Text(); got != text {
		t.Fatalf("the server's text differs from the clients':\n got %q\nwant %q", got, text)
	}
}

func TestConvergence(t *testing.T) {
	const clients, edits = 4, 150
	url := startServer(t)
	ctx := ctxFor(t)
	docs := make([]*client.Doc, clients)
	for i := range docs {
		c, err := client.Dial(ctx, url, client.Options{Name: fmt.Sprint("bot", i), Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if docs[i], err = c.Join(ctx, "shared"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for k := range edits {
				if err := d.Edit(randomEdit(rng)); err != nil {
					t.Errorf("client %d edit %d: %v", i, k, err)
					return
				}
				if k%(5+i) == 0 {
					// Pace the client now and then, so that ops interleave.
					if err := d.WaitSynced(ctx); err != nil {
						t.Errorf("client %d: WaitSynced: %v", i, err)
						return
					}
				}
				if k%10 == 0 {
					n := d.Len()
					d.SetPresence(rng.IntN(n+1), rng.IntN(n+1))
				}
			}
		})
	}
	wg.Wait()
	text := converge(t, docs)
	checkFresh(t, url, "shared", text)
	for i, d := range docs {
		for id, p := range d.Presence() {
			if p.Anchor < 0 || p.Head < 0 || p.Anchor > d.Len() || p.Head > d.Len() {
				t.Errorf("client %d: presence of %s out of the text: %+v", i, id, p)
			}
		}
	}
}

// cutter is a dialer whose TCP connections the test can cut, at once or
// when the next bytes from the server arrive (losing them: an ack, say).
type cutter struct {
	mu    sync.Mutex
	conns []net.Conn
	dials int
	armed bool
}

func (c *cutter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conns = append(c.conns, conn)
	c.dials++
	return &cutConn{Conn: conn, c: c}, nil
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// cutOnRead cuts the connection when the server next sends something.
func (c *cutter) cutOnRead() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.armed = true
}

type cutConn struct {
	net.Conn
	c *cutter
}

func (cc *cutConn) Read(p []byte) (int, error) {
	n, err := cc.Conn.Read(p)
	cc.c.mu.Lock()
	defer cc.c.mu.Unlock()
	if n > 0 && cc.c.armed {
		cc.c.armed = false
		cc.Conn.Close()
		return 0, net.ErrClosed
	}
	return n, err
}

// TestExactlyOnceAcrossDrops cuts every client's connection again and
// again while it types: every token typed must be in the final text once.
func TestExactlyOnceAcrossDrops(t *testing.T) {
	const clients, edits, cutEvery = 3, 120, 15
	url := startServer(t)
	ctx := ctxFor(t)
	docs := make([]*client.Doc, clients)
	cutters := make([]*cutter, clients)
	for i := range docs {
		cutters[i] = &cutter{}
		c, err := client.Dial(ctx, url, client.Options{
			ClientID:  fmt.Sprintf("bot-%d", i),
			Reconnect: true,
			MinDelay:  time.Millisecond,
			MaxDelay:  20 * time.Millisecond,
			Dialer:    &websocket.Dialer{NetDialContext: cutters[i].dial},
			Logger:    discard,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if docs[i], err = c.Join(ctx, "drops"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for k := range edits {
				tok := fmt.Sprintf("<%d.%d>", i, k)
				err := d.Edit(func(text string) (ot.Op, error) {
					// Insert between tokens, never inside one.
					bounds := []int{0}
					n := 0
					for _, r := range text {
						n++
						if r == '>' {
							bounds = append(bounds, n)
						}
					}
					pos := bounds[rng.IntN(len(bounds))]
					var b ot.Builder
					return b.Retain(pos).Insert(tok).Retain(n - pos).Op(), nil
				})
				if err != nil {
					t.Errorf("client %d edit %d: %v", i, k, err)
					return
				}
				switch k % cutEvery {
				case cutEvery - 1:
					cutters[i].cut() // the op just sent may or may not arrive
				case cutEvery / 2:
					cutters[i].cutOnRead() // its ack, likely, is lost
				}
				if k%4 == 3 {
					// Let the connection come back and the others' ops
					// in, so that cuts hit live connections.
					if err := d.WaitSynced(ctx); err != nil {
						t.Errorf("client %d: WaitSynced: %v", i, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	text := converge(t, docs)
	checkFresh(t, url, "drops", text)
	want := 0
	for i := range clients {
		for k := range edits {
			tok := fmt.Sprintf("<%d.%d>", i, k)
			want += len(tok)
			if n := strings.Count(text, tok); n != 1 {
				t.Errorf("token %s is in the text %d times, want once", tok, n)
			}
		}
	}
	for i, c := range cutters {
		if c.dials < 2*edits/cutEvery {
			t.Errorf("client %d dialled %d times: the cuts did not force reconnects", i, c.dials)
		}
		t.Logf("client %d dialled %d times", i, c.dials)
	}
	if len(text) != want {
		t.Errorf("text has %d bytes, want %d: something besides the tokens", len(text), want)
	}
}

// TestLargeInsertReachesOthers: a 1.2 MB insert, more than a frame (1 MiB)
// and more than one op may insert, goes through as several submits and
// reaches another editor whole.
func TestLargeInsertReachesOthers(t *testing.T) {
	url := startServer(t)
	ctx := ctxFor(t)
	var docs []*client.Doc
	for _, name := range []string{"ada", "bo"} {
		c, err := client.Dial(ctx, url, client.Options{Name: name, Logger: discard, MaxRate: -1})
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		t.Cleanup(func() { c.Close() })
		d, err := c.Join(ctx, "big")
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		docs = append(docs, d)
	}
	const line = "paste é😀 <&> \"quoted\"\n"
	big := strings.Repeat(line, 1_200_000/len(line)+1)
	if len(big) < 1_200_000 {
		t.Fatalf("the paste is %d bytes, want 1.2 MB", len(big))
	}
	if err := docs[0].Insert(0, big); err != nil {
		t.Fatal(err)
	}
	if err := docs[0].WaitSynced(ctx); err != nil {
		t.Fatalf("WaitSynced: %v", err)
	}
	rev := docs[0].Rev()
	if rev < 2 {
		t.Fatalf("revision %d: the paste went as one op", rev)
	}
	if err := docs[1].WaitRev(ctx, rev); err != nil {
		t.Fatalf("WaitRev: %v", err)
	}
	if got := docs[1].Text(); got != big {
		t.Fatalf("the other editor has %d bytes, want the %d of the paste", len(got), len(big))
	}
}
