package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/collabd/collab/client"
	"github.com/gorilla/websocket"
)

// TestWireReaderRevisions serves a reader the ops of revisions 1, 2 and 4,
// then drops it: it reports each op, an error for the revision it never
// got, and one for the dropped connection (a reader does not reconnect).
func TestWireReaderRevisions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for _, reply := range []string{
			`{"type":"welcome","version":1,"client":"r"}`,
			`{"type":"joined","doc":"d","rev":0,"seq":0,"text":""}`,
		} {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
			ws.WriteMessage(websocket.TextMessage, []byte(reply))
		}
		for _, m := range []string{
			`{"type":"op","doc":"d","rev":1,"op":["a"]}`,
			`{"type":"editor","doc":"d","client":"x","event":"join"}`,
			`{"type":"op","doc":"d","rev":2,"op":[1,"b"]}`,
			`{"type":"op","doc":"d","rev":4,"op":[2,"c"]}`,
		} {
			ws.WriteMessage(websocket.TextMessage, []byte(m))
		}
		ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "too slow"))
	}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := newClientSystem(srv.URL, -1, 1, nil).openReader(ctx, "d", "r")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type got struct {
		kind client.EventKind
		rev  uint64
	}
	want := []got{{client.EventOp, 1}, {client.EventOp, 2}, {client.EventError, 0}, {client.EventOp, 4}, {client.EventError, 0}}
	for i, w := range want {
		select {
		case ev := <-s.Events():
			if g := (got{ev.Kind, ev.Rev}); g != w {
				t.Fatalf("event %d = %v rev %d (%v), want %v rev %d", i, ev.Kind, ev.Rev, ev.Err, w.kind, w.rev)
			}
		case <-ctx.Done():
			t.Fatalf("event %d: none", i)
		}
	}
	if _, ok := s.OpAt(4); !ok {
		t.Errorf("OpAt(4): the tap did not time the op frame")
	}
}
