package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/ot"
	"github.com/gorilla/websocket"
)

// Two minimal protocol clients for collabd, lighter than the Go client
// package so that the load generator's own work does not hide the
// server's: a reader that only notes which revisions arrive, and a typist
// that types alone in its document. Both watch their socket through the
// tap like the client sessions, so their figures mean the same.

// dialWire opens a WebSocket to collabd, says hello and joins doc. No
// reconnection: a dropped connection ends the session.
func dialWire(ctx context.Context, sys *clientSystem, doc, id string) (*websocket.Conn, *wireLog, wire.Joined, error) {
	wl := newWireLog()
	d := &websocket.Dialer{NetDialContext: tapDial(wl, sys.src), ReadBufferSize: 4096, WriteBufferSize: 4096}
	ws, _, err := d.DialContext(ctx, sys.wsURL, http.Header{})
	if err != nil {
		return nil, nil, wire.Joined{}, fmt.Errorf("dial: %w", err)
	}
	joined, err := wireJoin(ctx, ws, doc, id)
	if err != nil {
		ws.Close()
		return nil, nil, wire.Joined{}, err
	}
	return ws, wl, joined, nil
}

func wireJoin(ctx context.Context, ws *websocket.Conn, doc, id string) (wire.Joined, error) {
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
		defer ws.SetReadDeadline(time.Time{})
	}
	rc := &rawclient.Conn{WS: ws}
	if _, err := rc.Hello(wire.Hello{Version: wire.Version, Client: id}); err != nil {
		return wire.Joined{}, err
	}
	j, err := rc.Join(doc, nil)
	if err != nil {
		return j, err
	}
	if j.Text == nil {
		return j, errors.New("joined without the text")
	}
	return j, nil
}

// wireReader is an editor that never types: it reads every frame, and of
// the op frames only the revision (with field, like the tap), checking
// that revisions arrive one after another. It decodes no op and keeps no
// text, so it costs the load generator a small part of a Go client.
type wireReader struct {
	*wireLog
	ws     *websocket.Conn
	events chan client.Event
	closed atomic.Bool // Close was called: a read error is the end, not a failure
}

func (s *clientSystem) openReader(ctx context.Context, doc, id string) (session, error) {
	ws, wl, joined, err := dialWire(ctx, s, doc, id)
	if err != nil {
		return nil, err
	}
	r := &wireReader{wireLog: wl, ws: ws, events: make(chan client.Event, 32)} // the editor drains it at once; a slot is ~200 bytes
	go r.read(joined.Rev)
	return r, nil
}

func (r *wireReader) read(rev uint64) {
	defer close(r.events)
	var buf bytes.Buffer // reused: most frames are small
	for {
		_, rd, err := r.ws.NextReader()
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(rd)
		}
		if err != nil {
			r.dropped(err)
			return
		}
		data := buf.Bytes()
		switch {
		case bytes.HasPrefix(data, opPrefix):
			got, ok := field(data, `"rev":`)
			if !ok || got != rev+1 {
				r.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("op of revision %d after %d", got, rev)}
			}
			rev = got
			r.events <- client.Event{Kind: client.EventOp, Rev: got}
		case bytes.HasPrefix(data, []byte(`{"type":"error"`)):
			r.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("server: %.200s", data)}
		}
	}
}

// dropped reports a connection that ended without Close: the server
// dropped the reader (e.g. close 4002, too slow), which does not reconnect.
func (r *wireReader) dropped(err error) {
	if !r.closed.Load() {
		r.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("connection dropped: %w", err)}
	}
}

func (r *wireReader) Edit(func(n int) (int, int, string)) error {
	return errors.New("a reader does not type")
}
func (r *wireReader) Events() <-chan client.Event { return r.events }
func (r *wireReader) Text() (string, bool)        { return "", false }
func (r *wireReader) Synced() bool                { return true }
func (r *wireReader) Close() error {
	r.closed.Store(true)
	return r.ws.Close()
}

// wireTypist types alone in a document: its text is an ot.Buffer (an edit
// costs the size of the edit, not of the document), one submit is in
// flight and edits made meanwhile are composed into the next, as in every
// OT client. Another editor's op ends it with an error, since it does not
// transform.
type wireTypist struct {
	*wireLog
	ws     *websocket.Conn
	doc    string
	events chan client.Event
	closed atomic.Bool

	mu       sync.Mutex // guards the fields below and writes to ws
	text     *ot.Buffer
	rev      uint64
	seq      uint64
	inFlight bool
	buffer   *ot.Op // composed while a submit is in flight
	err      error  // the first write error
}

func (s *clientSystem) openTypist(ctx context.Context, doc, id string) (session, error) {
	ws, wl, joined, err := dialWire(ctx, s, doc, id)
	if err != nil {
		return nil, err
	}
	t := &wireTypist{wireLog: wl, ws: ws, doc: doc, events: make(chan client.Event, 1024),
		text: ot.NewBuffer(*joined.Text), rev: joined.Rev, seq: joined.Seq}
	go t.read()
	return t, nil
}

func (t *wireTypist) Edit(choose func(n int) (pos, del int, ins string)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	n := t.text.Len()
	pos, del, ins := choose(n)
	op, err := buildOp(n, pos, del, ins)
	if err != nil {
		return err
	}
	if err := t.text.Apply(op); err != nil {
		return err
	}
	if !t.inFlight {
		return t.submitLocked(op)
	}
	if t.buffer != nil {
		if op, err = ot.Compose(*t.buffer, op); err != nil {
			return err
		}
	}
	t.buffer = &op
	return nil
}

func (t *wireTypist) submitLocked(op ot.Op) error {
	t.seq++
	t.inFlight = true
	err := t.ws.WriteJSON(wire.Submit{Type: wire.TypeSubmit, Doc: t.doc, Rev: t.rev, Seq: t.seq, Op: op})
	if err != nil && t.err == nil {
		t.err = err
	}
	return err
}

func (t *wireTypist) read() {
	defer close(t.events)
	for {
		_, data, err := t.ws.ReadMessage()
		if err != nil {
			if !t.closed.Load() {
				t.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("connection dropped: %w", err)}
			}
			return
		}
		switch {
		case bytes.HasPrefix(data, ackPrefix):
			msg, err := wire.DecodeServer(data)
			m, ok := msg.(*wire.Ack)
			if !ok {
				t.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("ack %.200s: %v", data, err)}
				continue
			}
			t.acked(m.Rev)
			t.events <- client.Event{Kind: client.EventAck, Seq: m.Seq, Rev: m.Rev}
		case bytes.HasPrefix(data, opPrefix):
			t.events <- client.Event{Kind: client.EventError, Err: errors.New("another editor's op: the wire typist types alone")}
		case bytes.HasPrefix(data, []byte(`{"type":"error"`)):
			t.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("server: %.200s", data)}
		}
	}
}

// acked sends the edits composed while the acknowledged submit was in
// flight.
func (t *wireTypist) acked(rev uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rev, t.inFlight = rev, false
	if t.buffer != nil {
		op := *t.buffer
		t.buffer = nil
		t.submitLocked(op)
	}
}

func (t *wireTypist) Events() <-chan client.Event { return t.events }

func (t *wireTypist) Text() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.text.String(), true
}

func (t *wireTypist) Synced() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.inFlight && t.buffer == nil
}

func (t *wireTypist) Close() error {
	t.closed.Store(true)
	return t.ws.Close()
}
