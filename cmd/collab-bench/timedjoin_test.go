package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestTimedJoinRefusedHello: a server that answers hello with an error is
// reported as a failed join, not timed as one.
func TestTimedJoinRefusedHello(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
		ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"error","code":"bad_hello"}`))
		ws.ReadMessage() // until the client hangs up
	}))
	defer srv.Close()
	r := timedJoin(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), "doc", "c1")
	if !strings.Contains(r.JoinErr, "want welcome") {
		t.Fatalf("JoinErr = %q, want the refused hello", r.JoinErr)
	}
}
