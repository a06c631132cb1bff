package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/gorilla/websocket"
)

// rawSystem drives the baseline hub with a minimal protocol client: the same
// connections and messages as the real client (hello, join, one submit in
// flight, ops decoded with the ot codec), without transforming or applying
// other editors' ops, since the hub does not transform them either. Each
// editor's length counts its own edits only; the hub does not check it.
type rawSystem struct {
	url    string
	dialer *websocket.Dialer
}

func newRawSystem(wsURL string, src *addrPool) *rawSystem {
	return &rawSystem{url: wsURL, dialer: &websocket.Dialer{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return src.dialer().DialContext(ctx, network, addr)
		},
	}}
}

func (s *rawSystem) close() {}

func (s *rawSystem) text(context.Context, string) (string, bool, error) { return "", false, nil }

type rawSession struct {
	ws     *websocket.Conn
	doc    string
	events chan client.Event
	*wireLog

	mu       sync.Mutex // guards the fields below and writes to ws
	n        int        // own text length
	rev      uint64
	seq      uint64 // last seq sent
	inFlight bool
	queued   []byte // the op composed while one is in flight (only its size matters)
}

func (s *rawSystem) open(ctx context.Context, doc, id string) (session, error) {
	ws, _, err := s.dialer.DialContext(ctx, s.url, http.Header{})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	r := &rawSession{ws: ws, doc: doc, events: make(chan client.Event, 1024), wireLog: newWireLog()}
	if err := r.handshake(id); err != nil {
		ws.Close()
		return nil, err
	}
	go r.read()
	return r, nil
}

func (r *rawSession) handshake(id string) error {
	rc := &rawclient.Conn{WS: r.ws}
	if _, err := rc.Hello(wire.Hello{Version: wire.Version, Client: id}); err != nil {
		return err
	}
	j, err := rc.Join(r.doc, nil)
	if err != nil {
		return err
	}
	r.rev = j.Rev
	return nil
}

func (r *rawSession) read() {
	defer close(r.events)
	for {
		_, data, err := r.ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		msg, err := wire.DecodeServer(data)
		if err != nil {
			r.events <- client.Event{Kind: client.EventError, Err: err}
			continue
		}
		switch m := msg.(type) {
		case *wire.Ack:
			r.note(r.wireLog.acked, m.Seq, now)
			r.acked(m.Rev)
			r.events <- client.Event{Kind: client.EventAck, Seq: m.Seq, Rev: m.Rev}
		case *wire.Op:
			r.note(r.ops, m.Rev, now)
			r.mu.Lock()
			r.rev = m.Rev
			r.mu.Unlock()
			r.events <- client.Event{Kind: client.EventOp, Seq: m.Seq, Rev: m.Rev}
		case *wire.Error:
			r.events <- client.Event{Kind: client.EventError, Err: fmt.Errorf("server error %s", m.Code)}
		}
	}
}

func (r *rawSession) acked(rev uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rev = rev
	r.inFlight = false
	if r.queued != nil {
		r.sendLocked(r.queued)
		r.queued = nil
	}
}

func (r *rawSession) Edit(choose func(n int) (pos, del int, ins string)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	pos, del, ins := choose(r.n)
	op, err := buildOp(r.n, pos, del, ins)
	if err != nil {
		return err
	}
	r.n = op.TargetLen()
	data, _ := op.MarshalJSON()
	if r.inFlight {
		r.queued = data
		return nil
	}
	return r.sendLocked(data)
}

func (r *rawSession) sendLocked(op []byte) error {
	r.seq++
	r.inFlight = true
	msg := wire.Submit{Type: wire.TypeSubmit, Doc: r.doc, Rev: r.rev, Seq: r.seq}
	data, err := json.Marshal(struct {
		wire.Submit
		Op json.RawMessage `json:"op"`
	}{msg, op})
	if err != nil {
		return err
	}
	r.note(r.sent, r.seq, time.Now())
	return r.ws.WriteMessage(websocket.TextMessage, data)
}

func (r *rawSession) Events() <-chan client.Event { return r.events }

func (r *rawSession) Text() (string, bool) { return "", false }

func (r *rawSession) Synced() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.inFlight && r.queued == nil
}

func (r *rawSession) Close() error { return r.ws.Close() }
