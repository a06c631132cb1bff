package collab_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/storage"
)

// TestRestartKeepsAcknowledged: every op acknowledged before a shutdown is
// in the bbolt file after a restart, and the texts converge.
func TestRestartKeepsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collab.db")
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, ts := startCollab(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string]string{}
	var docs []*client.Doc
	for i := range 3 {
		c := dialClient(t, ctx, ts.Listener.Addr().String(), fmt.Sprintf("w%d", i), false)
		d, err := c.Join(ctx, "shared")
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	var wg sync.WaitGroup
	for i, d := range docs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 30 {
				d.Insert(0, fmt.Sprintf("<%d.%d>", i, k))
			}
		}()
	}
	wg.Wait()
	for _, d := range docs {
		if err := d.WaitSynced(ctx); err != nil {
			t.Fatal(err)
		}
	}
	head := docs[0]
	stored, err := db.Load(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if err := head.WaitRev(ctx, stored.Rev); err != nil {
		t.Fatal(err)
	}
	want["shared"] = head.Text()
	for i := range 3 {
		for k := range 30 {
			if m := fmt.Sprintf("<%d.%d>", i, k); !strings.Contains(want["shared"], m) {
				t.Fatalf("acknowledged edit %s missing from %q", m, want["shared"])
			}
		}
	}
	ts.Close()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	_, ts2 := startCollab(t, db2)
	c := dialClient(t, ctx, ts2.Listener.Addr().String(), "reader", false)
	d, err := c.Join(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if d.Text() != want["shared"] || d.Rev() != stored.Rev {
		t.Fatalf("after restart: %q@%d, want %q@%d", d.Text(), d.Rev(), want["shared"], stored.Rev)
	}
}

// TestResubmitAfterRestartBolt: an op committed to the bbolt file whose ack
// was lost is acknowledged again, not applied again, by a restarted server.
func TestResubmitAfterRestartBolt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collab.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	op := `{"type":"submit","doc":"d","rev":0,"seq":1,"op":["once 👋"]}`
	for round := range 2 {
		db, err := storage.Open(path, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, ts := startCollab(t, db)
		ws := rawHello(t, ts.Listener.Addr().String(), "same-client")
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"join","doc":"d","rev":0}`))
		readType(t, ws, "joined")
		ws.WriteMessage(websocket.TextMessage, []byte(op))
		if ack := readType(t, ws, "ack"); !strings.Contains(ack, `"rev":1`) {
			t.Fatalf("round %d: %s, want rev 1", round, ack)
		}
		ws.Close()
		ts.Close()
		if err := srv.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		doc, err := db.Load(ctx, "d")
		if err != nil || doc.Text != "once 👋" || doc.Rev != 1 {
			t.Fatalf("round %d: %q@%d %v", round, doc.Text, doc.Rev, err)
		}
		db.Close()
	}
}

func rawHello(t *testing.T, addr, id string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(addr), nil)
	if err != nil {
		t.Fatal(err)
	}
	ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"hello","version":1,"client":"`+id+`"}`))
	readType(t, ws, "welcome")
	return ws
}

func readType(t *testing.T, ws *websocket.Conn, typ string) string {
	t.Helper()
	for {
		ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for %s: %v", typ, err)
		}
		if strings.Contains(string(data), `"type":"`+typ+`"`) {
			return string(data)
		}
	}
}
