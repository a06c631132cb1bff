package client

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/gorilla/websocket"
)

// testTimeout bounds every wait of a test, so that a bug fails the test
// instead of hanging it. It is never a synchronisation delay.
const testTimeout = 10 * time.Second

// fakeServer speaks protocol v1 as far as hello/welcome and hands every
// connection to the test, which scripts the rest message by message.
type fakeServer struct {
	t     *testing.T
	srv   *httptest.Server
	conns chan *fakeConn
	// limits are advertised in welcome; set before dialing.
	limits *wire.Limits
}

type fakeConn struct {
	t     *testing.T
	ws    *websocket.Conn
	hello wire.Hello
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	fs := &fakeServer{t: t, conns: make(chan *fakeConn, 16)}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *fakeServer) url() string { return "ws" + strings.TrimPrefix(fs.srv.URL, "http") + "/ws" }

// serve answers hello with welcome and returns; the hijacked connection
// lives on in the test.
func (fs *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	fc := &fakeConn{t: fs.t, ws: ws}
	ws.SetReadDeadline(time.Now().Add(testTimeout))
	if err := ws.ReadJSON(&fc.hello); err != nil || fc.hello.Type != wire.TypeHello {
		ws.Close()
		return
	}
	ws.WriteJSON(wire.Welcome{Type: wire.TypeWelcome, Version: wire.Version, Client: wire.PublicID(fc.hello.Client), Limits: fs.limits})
	fs.t.Cleanup(func() { ws.Close() })
	fs.conns <- fc
}

// accept returns the next connection that said hello.
func (fs *fakeServer) accept() *fakeConn {
	fs.t.Helper()
	select {
	case fc := <-fs.conns:
		return fc
	case <-time.After(testTimeout):
		fs.t.Fatal("no connection")
		return nil
	}
}

// read returns the next message of the client.
func (fc *fakeConn) read() (string, []byte) {
	fc.t.Helper()
	fc.ws.SetReadDeadline(time.Now().Add(testTimeout))
	_, data, err := fc.ws.ReadMessage()
	if err != nil {
		fc.t.Fatalf("fake server: read: %v", err)
	}
	typ, err := wire.PeekType(data)
	if err != nil {
		fc.t.Fatalf("fake server: %s: %v", data, err)
	}
	return typ, data
}

// expect reads the next message, which must be of type typ, into v.
func (fc *fakeConn) expect(typ string, v any) {
	fc.t.Helper()
	got, data := fc.read()
	if got != typ {
		fc.t.Fatalf("fake server: got %s, want a %s", data, typ)
	}
	if err := json.Unmarshal(data, v); err != nil {
		fc.t.Fatalf("fake server: %s: %v", data, err)
	}
}

func (fc *fakeConn) expectSubmit() wire.Submit {
	fc.t.Helper()
	var m wire.Submit
	fc.expect(wire.TypeSubmit, &m)
	return m
}

func (fc *fakeConn) expectJoin() wire.Join {
	fc.t.Helper()
	var m wire.Join
	fc.expect(wire.TypeJoin, &m)
	return m
}

func (fc *fakeConn) send(msg any) {
	fc.t.Helper()
	fc.ws.SetWriteDeadline(time.Now().Add(testTimeout))
	if err := fc.ws.WriteJSON(msg); err != nil {
		fc.t.Fatalf("fake server: write: %v", err)
	}
}

// closeWith closes the connection with a close frame.
func (fc *fakeConn) closeWith(code int, text string) {
	fc.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
	fc.ws.Close()
}

// drop closes the TCP connection without a close frame (1006 for the peer).
func (fc *fakeConn) drop() { fc.ws.Close() }

func (fc *fakeConn) ack(doc string, seq, rev uint64) {
	fc.t.Helper()
	fc.send(wire.Ack{Type: wire.TypeAck, Doc: doc, Seq: seq, Rev: rev})
}

func (fc *fakeConn) op(doc string, rev uint64, op ot.Op, client string, seq uint64) {
	fc.t.Helper()
	fc.send(wire.Op{Type: wire.TypeOp, Doc: doc, Rev: rev, Op: op, Client: client, Seq: seq, Name: client})
}

// joinedText answers a join with the full text.
func (fc *fakeConn) joinedText(doc, text string, rev, seq uint64, reset bool) {
	fc.t.Helper()
	fc.send(wire.Joined{Type: wire.TypeJoined, Doc: doc, Rev: rev, Seq: seq, Text: &text, Reset: reset})
}

func (fc *fakeConn) joinedOps(doc string, rev, seq uint64, recs ...wire.Record) {
	fc.t.Helper()
	if recs == nil {
		recs = []wire.Record{} // "ops": [] rather than no ops at all
	}
	fc.send(wire.Joined{Type: wire.TypeJoined, Doc: doc, Rev: rev, Seq: seq, Ops: recs})
}

// parseOp decodes an op in wire form.
func parseOp(t *testing.T, s string) ot.Op {
	t.Helper()
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return op
}

func mustParse(s string) ot.Op {
	op, err := ot.Parse([]byte(s), ot.Limits{})
	if err != nil {
		panic(err)
	}
	return op
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// dial connects a client to fs with fast reconnects.
func dial(t *testing.T, fs *fakeServer, opts Options) (*Conn, *fakeConn) {
	t.Helper()
	opts.MinDelay, opts.MaxDelay = time.Millisecond, 5*time.Millisecond
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.ClientID == "" {
		opts.ClientID = "me"
	}
	c, err := Dial(testCtx(t), fs.url(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, fs.accept()
}

// join joins doc, the fake server answering with text at rev.
func join(t *testing.T, c *Conn, fc *fakeConn, doc, text string, rev uint64) *Doc {
	t.Helper()
	type result struct {
		d   *Doc
		err error
	}
	res := make(chan result, 1)
	go func() {
		d, err := c.Join(testCtx(t), doc)
		res <- result{d, err}
	}()
	if j := fc.expectJoin(); j.Doc != doc || j.Rev != nil {
		t.Fatalf("join = %+v, want doc %q without rev", j, doc)
	}
	fc.joinedText(doc, text, rev, 0, false)
	r := <-res
	if r.err != nil {
		t.Fatalf("Join: %v", r.err)
	}
	return r.d
}
