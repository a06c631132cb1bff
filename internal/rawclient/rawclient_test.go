package rawclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// serve runs a WebSocket server that writes frames after the first message
// it reads and then closes with code (0: drops the connection).
func serve(t *testing.T, code int, frames ...string) *Conn {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if _, _, err := ws.ReadMessage(); err != nil {
			return
		}
		for _, f := range frames {
			ws.WriteMessage(websocket.TextMessage, []byte(f))
		}
		if code != 0 {
			ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""))
			ws.ReadMessage() // until the client's close
		}
	}))
	t.Cleanup(srv.Close)
	c, _, err := Dial(context.Background(), websocket.DefaultDialer, "ws"+strings.TrimPrefix(srv.URL, "http"), nil, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SendRaw([]byte(`{"type":"hello"}`)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestExpectSkipsEvents: presence and editor events before the expected
// message are skipped; the message is decoded.
func TestExpectSkipsEvents(t *testing.T) {
	c := serve(t, websocket.CloseNormalClosure,
		`{"type":"presence","doc":"d"}`, `{"type":"editor","doc":"d"}`, `{"type":"ack","seq":3,"rev":7}`)
	var a struct{ Seq, Rev uint64 }
	if err := c.Expect("ack", &a); err != nil || a.Seq != 3 || a.Rev != 7 {
		t.Fatalf("Expect = %+v, %v; want seq 3 rev 7", a, err)
	}
	if code, err := c.CloseCode(); err != nil || code != websocket.CloseNormalClosure {
		t.Fatalf("CloseCode = %d, %v; want %d", code, err, websocket.CloseNormalClosure)
	}
}

// TestExpectRefusesOthers: any other message fails the expectation and is
// quoted in the error.
func TestExpectRefusesOthers(t *testing.T) {
	c := serve(t, 0, `{"type":"error","code":"bad"}`)
	err := c.Expect("welcome", nil)
	if err == nil || !strings.Contains(err.Error(), `"code":"bad"`) {
		t.Fatalf("Expect = %v, want an error quoting the message", err)
	}
}

// TestCloseCodeWithoutFrame: a connection dropped without a close frame
// ends with 1006, as gorilla reports it.
func TestCloseCodeWithoutFrame(t *testing.T) {
	c := serve(t, 0)
	if code, err := c.CloseCode(); err != nil || code != websocket.CloseAbnormalClosure {
		t.Fatalf("CloseCode = %d, %v; want %d", code, err, websocket.CloseAbnormalClosure)
	}
}
