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
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/storage/bolt"
)

// TestRestartKeepsAcknowledged: every op acknowledged before a shutdown is
// in the bbolt file after a restart, and the texts converge.
func TestRestartKeepsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collab.db")
	db, err := bolt.Open(path, bolt.Options{})
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

	db2, err := bolt.Open(path, bolt.Options{})
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
		db, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, ts := startCollab(t, db)
		c, _, err := rawclient.Dial(ctx, websocket.DefaultDialer, wsURL(ts.Listener.Addr().String()), nil, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		x := rawclient.NewT(t, c, "same-client")
		var rev0 uint64
		x.Join("d", &rev0)
		x.SendRaw([]byte(op))
		if ack := x.Ack(1); ack.Rev != 1 {
			t.Fatalf("round %d: %+v, want rev 1", round, ack)
		}
		x.Close()
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
