package collab

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// TestClientIDPrivate: other editors never see a client's id, only its
// public id, so an editor cannot submit under another's id with a higher
// seq and have that client's next edits acknowledged as duplicates and
// dropped. The attacker here uses every id it could have seen.
func TestClientIDPrivate(t *testing.T) {
	const doc, secret = "shared", "bo-7c1e9a40d2f3"
	_, ts := startServer(t, newTestStore(t), Options{})
	bo := connectAs(t, ts, secret, "Bo")
	bo.join(doc, nil)
	eve := connect(t, ts, "eve")
	eve.join(doc, nil)

	bo.submit(doc, 0, 1, insertAt(0, 0, "Bo was here."))
	bo.ack(1)
	var op wire.Op
	seen := expectLeak(t, eve, secret, wire.TypeOp, &op)
	if op.Client != wire.PublicID(secret) {
		t.Fatalf("eve sees bo as %q, want %q", op.Client, wire.PublicID(secret))
	}
	// What else eve can read: a fresh join's ops and the HTTP history.
	rev := uint64(0)
	again := connect(t, ts, "eve-2")
	if j := again.join(doc, &rev); len(j.Ops) != 1 || j.Ops[0].Client != op.Client {
		t.Fatalf("joined ops = %+v, want bo's op under %q", j.Ops, op.Client)
	}
	resp, err := http.Get(ts.URL + "/api/docs/" + doc + "/ops?from=0&to=1")
	if err != nil {
		t.Fatal(err)
	}
	var hist bytes.Buffer
	hist.ReadFrom(resp.Body)
	resp.Body.Close()
	if bytes.Contains(hist.Bytes(), []byte(secret)) {
		t.Fatalf("the HTTP history shows bo's client id: %s", hist.Bytes())
	}

	// Eve submits as each id she saw, far ahead in seq.
	slices.Sort(seen)
	for _, id := range slices.Compact(seen) {
		mallory := connect(t, ts, id)
		mallory.join(doc, nil)
		mallory.submit(doc, 1, 1_000_000, insertAt(12, 12, "!"))
		mallory.ack(1_000_000)
	}
	// Bo's next edit is still applied, not taken for a duplicate.
	bo.submit(doc, 1, 2, insertAt(12, 0, "> "))
	var a wire.Ack
	for a.Seq != 2 {
		switch typ, data := bo.next(); typ {
		case wire.TypeAck:
			json.Unmarshal(data, &a)
		case wire.TypeError:
			t.Fatalf("bo's second edit: %s", data)
		}
	}
	for {
		var next wire.Op
		eve.expect(wire.TypeOp, &next)
		if next.Rev == a.Rev {
			if next.Client != op.Client || next.Seq != 2 {
				t.Fatalf("bo's second op reached eve as %+v", next)
			}
			break
		}
	}
	resp, err = http.Get(ts.URL + "/api/docs/" + doc)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct{ Text string }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := "> Bo was here.!"; got.Text != want {
		t.Fatalf("text = %q, want %q: bo's two edits and eve's", got.Text, want)
	}
}

// expectLeak reads c's messages up to one of type typ, decoded into v, and
// fails if any of them carries secret. It returns the client ids c saw.
func expectLeak(t *testing.T, c *tclient, secret, typ string, v any) []string {
	t.Helper()
	var ids []string
	for {
		got, data := c.next()
		if bytes.Contains(data, []byte(secret)) {
			t.Fatalf("%s received %s, which holds another client's id", c.id, data)
		}
		var m struct{ Client string }
		if json.Unmarshal(data, &m) == nil && m.Client != "" {
			ids = append(ids, m.Client)
		}
		if got == typ {
			if err := json.Unmarshal(data, v); err != nil {
				t.Fatalf("decode %s: %v", data, err)
			}
			return ids
		}
	}
}

// connectAs is connect with a display name that does not repeat the id.
func connectAs(t *testing.T, ts *httptest.Server, id, name string) *tclient {
	t.Helper()
	ws, _, err := dialRaw(t, ts, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &tclient{t: t, ws: ws, id: id}
	t.Cleanup(func() { ws.Close() })
	c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: id, Name: name})
	c.expect(wire.TypeWelcome, nil)
	return c
}
