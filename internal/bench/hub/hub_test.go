package hub

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/rawclient"
)

func dial(t *testing.T, url, client string) *rawclient.Conn {
	t.Helper()
	c := dialOnly(t, url)
	if _, err := c.Hello(wire.Hello{Version: wire.Version, Client: client}); err != nil {
		t.Fatalf("hello: %v", err)
	}
	if _, err := c.Join("d1", nil); err != nil {
		t.Fatalf("join: %v", err)
	}
	return c
}

func dialOnly(t *testing.T, url string) *rawclient.Conn {
	t.Helper()
	c, _, err := rawclient.Dial(context.Background(), websocket.DefaultDialer, url, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func send(t *testing.T, c *rawclient.Conn, s string) {
	t.Helper()
	if err := c.SendRaw([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func expect(t *testing.T, c *rawclient.Conn, typ string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := c.Expect(typ, &m); err != nil {
		t.Fatal(err)
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
	ws := dialOnly(t, "ws"+strings.TrimPrefix(srv.URL, "http"))
	send(t, ws, `{"type":"submit","doc":"d9","rev":0,"seq":1,"op":["x"]}`)
	if e := expect(t, ws, "error"); e["code"] != "not_joined" {
		t.Errorf("error = %v, want code not_joined", e)
	}
}
