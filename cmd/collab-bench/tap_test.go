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
	log := newWireLog()
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (c netConn, err error) {
		c, err = tapDial(log, nil)(ctx, network, addr)
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
	if _, ok := log.SentAt(7); !ok {
		t.Error("seq 7 not noted through the socket")
	}
	stream := wire.Bytes()
	for _, chunk := range []int{1, 2, 3, 5, 13, 4096} {
		l := newWireLog()
		p := frameTap{log: l} // starts with the HTTP upgrade request
		for b := stream; len(b) > 0; {
			k := min(chunk, len(b))
			p.feed(b[:k], time.Now())
			b = b[k:]
		}
		for _, seq := range []uint64{7, 8, 9} {
			if _, ok := l.SentAt(seq); !ok {
				t.Errorf("chunks of %d: seq %d not noted", chunk, seq)
			}
		}
		if len(l.sent) != 0 {
			t.Errorf("chunks of %d: unexpected notes %v", chunk, l.sent)
		}
	}
}

func TestWireLogKeepsFirstTime(t *testing.T) {
	l := newWireLog()
	t0 := time.Unix(100, 0)
	l.note(l.sent, 1, t0)
	l.note(l.sent, 1, t0.Add(time.Second)) // a resubmission
	if got, ok := l.SentAt(1); !ok || !got.Equal(t0) {
		t.Errorf("SentAt(1) = %v, %v; want %v", got, ok, t0)
	}
	if _, ok := l.SentAt(1); ok {
		t.Error("SentAt(1) twice succeeded")
	}
}

// TestFrameTapIncoming reads server frames (unmasked) after the upgrade
// response, a byte at a time.
func TestFrameTapIncoming(t *testing.T) {
	var stream []byte
	stream = append(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"...)
	for _, m := range []string{
		`{"type":"ack","doc":"d","seq":4,"rev":10}`,
		`{"type":"op","doc":"d","rev":11,"op":[3,"x"],"client":"c","seq":9}`,
		`{"type":"presence","doc":"d","rev":11,"anchor":1,"head":1}`,
	} {
		stream = append(stream, 0x81, byte(len(m)))
		stream = append(stream, m...)
	}
	l := newWireLog()
	p := frameTap{log: l, incoming: true}
	for i := range stream {
		p.feed(stream[i:i+1], time.Now())
	}
	if _, ok := l.AckAt(4); !ok {
		t.Error("ack of seq 4 not logged")
	}
	if _, ok := l.OpAt(11); !ok {
		t.Error("op of rev 11 not logged")
	}
	if len(l.ops) != 0 || len(l.acked) != 0 || len(l.sent) != 0 {
		t.Errorf("unexpected entries: %v %v %v", l.sent, l.acked, l.ops)
	}
}
