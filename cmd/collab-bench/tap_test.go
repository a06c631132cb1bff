package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestFrameTapSplitWrites feeds real client frames (masked, of the three
// length encodings) to the tap in every split, as the socket might see them.
func TestFrameTapSplitWrites(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			got <- string(data)
		}
	}))
	defer srv.Close()

	var wire bytes.Buffer
	log := newSendLog()
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (c netConn, err error) {
		c, err = tapDial(log)(ctx, network, addr)
		if err == nil {
			c = &recordConn{netConn: c, w: &wire}
		}
		return c, err
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	msgs := []string{
		`{"type":"submit","doc":"d","rev":3,"seq":7,"op":["x"]}`,
		`{"type":"presence","doc":"d","rev":3,"anchor":1,"head":1}`,
		`{"type":"submit","doc":"d","rev":4,"seq":8,"op":["` + strings.Repeat("y", 300) + `"]}`,
		`{"type":"submit","doc":"d","rev":5,"seq":9,"op":["` + strings.Repeat("😀", 20000) + `"]}`,
	}
	for _, m := range msgs {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
		if g := <-got; g != m {
			t.Fatalf("server got %.60q, want %.60q", g, m)
		}
	}
	if _, ok := log.take(7); !ok {
		t.Error("seq 7 not noted through the socket")
	}
	stream := wire.Bytes()
	for _, chunk := range []int{1, 2, 3, 5, 13, 4096} {
		l := newSendLog()
		p := frameTap{log: l} // starts with the HTTP upgrade request
		for b := stream; len(b) > 0; {
			k := min(chunk, len(b))
			p.feed(b[:k], time.Now())
			b = b[k:]
		}
		for _, seq := range []uint64{7, 8, 9} {
			if _, ok := l.take(seq); !ok {
				t.Errorf("chunks of %d: seq %d not noted", chunk, seq)
			}
		}
		if len(l.sent) != 0 {
			t.Errorf("chunks of %d: unexpected notes %v", chunk, l.sent)
		}
	}
}

func TestSendLogKeepsFirstTime(t *testing.T) {
	l := newSendLog()
	t0 := time.Unix(100, 0)
	l.note(1, t0)
	l.note(1, t0.Add(time.Second)) // a resubmission
	if got, ok := l.take(1); !ok || !got.Equal(t0) {
		t.Errorf("take(1) = %v, %v; want %v", got, ok, t0)
	}
	if _, ok := l.take(1); ok {
		t.Error("take(1) twice succeeded")
	}
}
