package client

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// TestReadMessageReusesBuffer: messages of every size, also fragmented,
// read whole into one reused buffer; a message bigger than the buffer
// grows it.
func TestReadMessageReusesBuffer(t *testing.T) {
	msgs := [][]byte{
		[]byte(`{"type":"op","op":["héllo 😀"]}`),
		{},
		bytes.Repeat([]byte("x"), 100<<10),
		[]byte(`{"type":"ack"}`),
		bytes.Repeat([]byte("汉"), 3000), // sent in fragments
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer ws.Close()
		for i, m := range msgs {
			if i < len(msgs)-1 {
				ws.WriteMessage(websocket.TextMessage, m)
				continue
			}
			wr, _ := ws.NextWriter(websocket.TextMessage)
			for len(m) > 0 {
				n := min(len(m), 1000)
				wr.Write(m[:n])
				m = m[n:]
			}
			wr.Close()
		}
		ws.ReadMessage() // until the client closes
	}))
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	buf := make([]byte, 0, 64)
	for i, want := range msgs {
		typ, got, err := readMessage(ws, buf[:0])
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if typ != websocket.TextMessage || !bytes.Equal(got, want) {
			t.Fatalf("message %d: type %d, %d bytes %.40q; want text, %d bytes %.40q", i, typ, len(got), got, len(want), want)
		}
		if len(want) <= 64 && &got[:1][0] != &buf[:1][0] {
			t.Errorf("message %d (%d bytes) did not reuse the 64-byte buffer", i, len(want))
		}
	}
}
