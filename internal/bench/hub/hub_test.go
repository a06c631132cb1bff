package hub

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func dial(t *testing.T, url, client string) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	send(t, ws, `{"type":"hello","version":1,"client":"`+client+`"}`)
	expect(t, ws, "welcome")
	send(t, ws, `{"type":"join","doc":"d1"}`)
	expect(t, ws, "joined")
	return ws
}

func send(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func expect(t *testing.T, ws *websocket.Conn, typ string) map[string]any {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read (want %s): %v", typ, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	if m["type"] != typ {
		t.Fatalf("got %s, want type %q", data, typ)
	}
	return m
}

func TestSubmitIsAckedAndRelayed(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	a := dial(t, url, "a")
	b := dial(t, url, "b")

	send(t, a, `{"type":"submit","doc":"d1","rev":0,"seq":1,"op":["hé😀"]}`)
	ack := expect(t, a, "ack")
	if ack["rev"] != 1.0 || ack["seq"] != 1.0 || ack["doc"] != "d1" {
		t.Errorf("ack = %v, want doc d1 seq 1 rev 1", ack)
	}
	op := expect(t, b, "op")
	if op["rev"] != 1.0 || op["client"] != "a" || op["seq"] != 1.0 {
		t.Errorf("op = %v, want rev 1 from a seq 1", op)
	}
	if ops, _ := op["op"].([]any); len(ops) != 1 || ops[0] != "hé😀" {
		t.Errorf("relayed op = %v, want [\"hé😀\"] verbatim", op["op"])
	}

	send(t, b, `{"type":"submit","doc":"d1","rev":1,"seq":1,"op":[3,"x"]}`)
	if ack := expect(t, b, "ack"); ack["rev"] != 2.0 {
		t.Errorf("second ack = %v, want rev 2", ack)
	}
	if op := expect(t, a, "op"); op["rev"] != 2.0 || op["client"] != "b" {
		t.Errorf("second op = %v, want rev 2 from b", op)
	}
}

func TestSubmitBeforeJoinIsRefused(t *testing.T) {
	srv := httptest.NewServer(New())
	defer srv.Close()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	send(t, ws, `{"type":"submit","doc":"d9","rev":0,"seq":1,"op":["x"]}`)
	if e := expect(t, ws, "error"); e["code"] != "not_joined" {
		t.Errorf("error = %v, want code not_joined", e)
	}
}
