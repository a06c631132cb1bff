package collab

import (
	"cmp"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// TestBadInput sends every kind of bad input and checks the answer (an
// error code, or a close code) and that the document and its other editor
// are unaffected.
func TestBadInput(t *testing.T) {
	const doc = "shared"
	raw := func(s string) func(c *tclient) { return func(c *tclient) { c.sendRaw([]byte(s)) } }
	tests := []struct {
		name      string
		noHello   bool
		send      func(c *tclient)
		wantCode  string // error message code
		wantClose int    // close code
		wantSeq   uint64 // the seq the error must carry, with its doc (a submit)
		wantDoc   string // that doc, if not the shared one
	}{
		{name: "frame too large", send: raw(`{"type":"presence","doc":"shared","pad":"` + strings.Repeat("x", 5000) + `"}`), wantClose: websocket.CloseMessageTooBig},
		{name: "invalid UTF-8", send: raw("{\"type\":\"join\",\"doc\":\"\xff\"}"), wantClose: websocket.CloseInvalidFramePayloadData},
		{name: "binary frame", send: func(c *tclient) { c.ws.WriteMessage(websocket.BinaryMessage, []byte("{}")) }, wantClose: websocket.CloseProtocolError},
		{name: "flood", send: func(c *tclient) {
			for i := 0; i < 200; i++ {
				if c.ws.WriteMessage(websocket.TextMessage, []byte(`{"type":"presence","doc":"shared","rev":0,"anchor":0,"head":0}`)) != nil {
					return
				}
			}
		}, wantClose: websocket.ClosePolicyViolation},
		{name: "unsupported version", noHello: true, send: raw(`{"type":"hello","version":2,"client":"bad"}`), wantCode: wire.CodeUnsupportedVersion, wantClose: websocket.CloseProtocolError},
		{name: "not JSON", send: raw(`{"type":`), wantCode: wire.CodeBadMessage},
		{name: "no type", send: raw(`{"doc":"shared"}`), wantCode: wire.CodeBadMessage},
		{name: "unknown type", send: raw(`{"type":"explode"}`), wantCode: wire.CodeBadMessage},
		{name: "mistyped field", send: raw(`{"type":"submit","doc":"shared","rev":"1","seq":1,"op":[3]}`), wantCode: wire.CodeBadMessage, wantSeq: 1},
		{name: "missing seq", send: raw(`{"type":"submit","doc":"shared","rev":1,"op":[3]}`), wantCode: wire.CodeBadMessage},
		{name: "negative caret", send: raw(`{"type":"presence","doc":"shared","rev":1,"anchor":-1,"head":0}`), wantCode: wire.CodeBadMessage},
		{name: "hello required", noHello: true, send: raw(`{"type":"join","doc":"shared"}`), wantCode: wire.CodeHelloRequired},
		{name: "invalid client id", noHello: true, send: raw(`{"type":"hello","version":1,"client":"a b"}`), wantCode: wire.CodeBadMessage},
		{name: "invalid doc id", send: raw(`{"type":"join","doc":"no spaces!"}`), wantCode: wire.CodeInvalidDocID},
		{name: "doc id too long", send: raw(`{"type":"join","doc":"` + strings.Repeat("a", 129) + `"}`), wantCode: wire.CodeInvalidDocID},
		{name: "not joined", send: raw(`{"type":"submit","doc":"other","rev":0,"seq":1,"op":["x"]}`), wantCode: wire.CodeNotJoined, wantSeq: 1, wantDoc: "other"},
		{name: "op base length", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[2,"x"]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "op zero count", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[0,3]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "op fraction", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[1.5]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "op not an array", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":{"x":1}}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "lone surrogate", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[3,"\ud83d"]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "empty insert", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[3,""]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "op zero", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[0]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "op malformed array", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[3,[1],null]}`), wantCode: wire.CodeInvalidOp, wantSeq: 1},
		{name: "seq past 2^53-1", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":9007199254740992,"op":[3,"x"]}`), wantCode: wire.CodeBadMessage, wantSeq: 1 << 53},
		{name: "future rev", send: raw(`{"type":"submit","doc":"shared","rev":9,"seq":1,"op":[3,"x"]}`), wantCode: wire.CodeFutureRev, wantSeq: 1},
		{name: "doc too large", send: raw(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[3,"` + strings.Repeat("é", 40) + `"]}`), wantCode: wire.CodeDocTooLarge, wantSeq: 1},
		{name: "presence future rev", send: raw(`{"type":"presence","doc":"shared","rev":7,"anchor":0,"head":0}`), wantCode: wire.CodeFutureRev},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newTestStore(t)
			_, ts := startServer(t, st, Options{MaxFrame: 4096, MaxDocSize: 64, Rate: 20, Burst: 20})
			good := connect(t, ts, "good")
			good.join(doc, nil)
			good.submit(doc, 0, 1, insertAt(0, 0, "abc"))
			good.ack(1)

			var bad *tclient
			if tt.noHello {
				ws, _, err := dialRaw(t, ts, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ws.Close() })
				bad = &tclient{t: t, ws: ws, id: "bad"}
			} else {
				bad = connect(t, ts, "bad")
				bad.join(doc, ptr(uint64(1)))
			}
			tt.send(bad)
			if tt.wantCode != "" {
				e := bad.expectError(tt.wantCode)
				wantDoc := cmp.Or(tt.wantDoc, doc)
				if tt.wantSeq != 0 && (e.Doc != wantDoc || e.Seq != tt.wantSeq) {
					t.Fatalf("error %+v is not about doc %q seq %d", e, wantDoc, tt.wantSeq)
				}
			}
			if tt.wantClose != 0 {
				if got := bad.closeCode(); got != tt.wantClose {
					t.Fatalf("close code %d, want %d", got, tt.wantClose)
				}
			} else {
				// The connection still works.
				bad.send(wire.Hello{Type: wire.TypeHello, Version: 1, Client: "bad"})
				bad.expect(wire.TypeWelcome, nil)
			}

			// The other editor never noticed and keeps editing.
			good.submit(doc, 1, 2, insertAt(3, 3, "d"))
			if a := good.ack(2); a.Rev != 2 {
				t.Fatalf("good editor's op acked at %d, want 2", a.Rev)
			}
			if text, rev := storeText(t, st, doc); text != "abcd" || rev != 2 {
				t.Fatalf("stored %q@%d, want abcd@2", text, rev)
			}
		})
	}
}

// TestNonCanonicalOp: an op in a valid but not canonical wire form (two
// retains side by side, a delete before an insert at the same position)
// is accepted and committed in canonical form, which is what the other
// editors receive and the store keeps.
func TestNonCanonicalOp(t *testing.T) {
	const doc = "shared"
	st := newTestStore(t)
	_, ts := startServer(t, st, Options{})
	a := connect(t, ts, "a")
	a.join(doc, nil)
	a.submit(doc, 0, 1, insertAt(0, 0, "abcd"))
	a.ack(1)
	b := connect(t, ts, "b")
	b.join(doc, ptr(uint64(1)))

	b.sendRaw([]byte(`{"type":"submit","doc":"shared","rev":1,"seq":1,"op":[1,1,-1,"x",1]}`))
	if ack := b.ack(1); ack.Rev != 2 {
		t.Fatalf("acked as rev %d, want 2", ack.Rev)
	}
	var op wire.Op
	a.expect(wire.TypeOp, &op)
	if got, _ := op.Op.MarshalJSON(); string(got) != `[2,"x",-1,1]` {
		t.Fatalf("the other editor got %s, want the canonical [2,\"x\",-1,1]", got)
	}
	if text, rev := storeText(t, st, doc); text != "abxd" || rev != 2 {
		t.Fatalf("stored %q@%d, want abxd@2", text, rev)
	}
}
