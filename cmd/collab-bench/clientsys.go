package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/ot"
	"github.com/gorilla/websocket"
)

// clientSystem drives collabd through the Go client package.
type clientSystem struct {
	maxRate float64   // client.Options.MaxRate
	events  int       // client.Options.EventBuffer
	src     *addrPool // source addresses of the connections; nil: the kernel's choice
	wsURL   string    // ws://host:port/ws
	httpURL string    // http://host:port
	http    *http.Client
}

// eventBuffer is the events each of conns editors may have waiting. A
// session's events are dropped when its editor falls that far behind, and a
// dropped event leaves a revision unaccounted for (the run then fails to
// drain). A few busy editors can wait for a CPU for tens of milliseconds
// while their documents go on; many editors each get few events but would
// take memory (about 200 bytes a slot): 2^18 slots shared, 128 to 4,096 each.
func eventBuffer(conns int) int {
	return min(max((1<<18)/max(conns, 1), 128), 4096)
}

func newClientSystem(base string, maxRate float64, conns int, src *addrPool) *clientSystem {
	u, _ := url.Parse(base)
	ws := *u
	ws.Scheme = map[string]string{"https": "wss"}[u.Scheme]
	if ws.Scheme == "" {
		ws.Scheme = "ws"
	}
	ws.Path = "/ws"
	return &clientSystem{
		maxRate: maxRate,
		events:  eventBuffer(conns),
		src:     src,
		wsURL:   ws.String(),
		httpURL: u.Scheme + "://" + u.Host,
		http:    &http.Client{Timeout: 30 * time.Second},
	}
}

func (s *clientSystem) close() { s.http.CloseIdleConnections() }

func (s *clientSystem) text(ctx context.Context, doc string) (string, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.httpURL+"/api/docs/"+url.PathEscape(doc), nil)
	if err != nil {
		return "", true, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return "", true, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		// Nothing was ever committed to it: a new document is the empty
		// text (docs/protocol.md), which is what its editors must hold.
		return "", true, nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", true, fmt.Errorf("GET /api/docs/%s: %s", doc, resp.Status)
	}
	var body struct {
		Text string `json:"text"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", true, fmt.Errorf("GET /api/docs/%s: %w", doc, err)
	}
	return body.Text, true, nil
}

type clientSession struct {
	*wireLog
	conn *client.Conn
	doc  *client.Doc
}

func (s *clientSystem) open(ctx context.Context, doc, id string) (session, error) {
	wl := newWireLog()
	conn, err := client.Dial(ctx, s.wsURL, client.Options{
		Dialer: &websocket.Dialer{
			NetDialContext:  tapDial(wl, s.src),
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
		},
		ClientID:    id,
		MaxRate:     s.maxRate,
		Reconnect:   true,
		EventBuffer: s.events,
		QueueSize:   1024,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	d, err := conn.Join(ctx, doc)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return &clientSession{wireLog: wl, conn: conn, doc: d}, nil
}

// Edit reads the length the client keeps rather than counting the text's
// code points, which would cost the load generator O(document) per edit. A
// remote op landing between Len and Apply changes the length: Apply then
// fails, changing nothing, and the edit is chosen again.
func (cs *clientSession) Edit(choose func(n int) (pos, del int, ins string)) error {
	for try := 0; ; try++ {
		n := cs.doc.Len()
		pos, del, ins := choose(n)
		op, err := buildOp(n, pos, del, ins)
		if err != nil {
			return err
		}
		err = cs.doc.Apply(op)
		if err == nil || try == 9 || !errors.Is(err, ot.ErrBaseLength) {
			return err
		}
	}
}

// buildOp returns the op deleting del code points at pos and inserting ins,
// on a text of n code points.
func buildOp(n, pos, del int, ins string) (ot.Op, error) {
	if pos < 0 || del < 0 || pos+del > n {
		return ot.Op{}, fmt.Errorf("edit past the end: %d+%d > %d", pos, del, n)
	}
	var b ot.Builder
	return b.Retain(pos).Insert(ins).Delete(del).Retain(n - pos - del).Op(), nil
}

func (cs *clientSession) Events() <-chan client.Event { return cs.doc.Events() }

func (cs *clientSession) Text() (string, bool) { return cs.doc.Text(), true }

func (cs *clientSession) Synced() bool { return cs.doc.Pending() == 0 }

func (cs *clientSession) Close() error { return cs.conn.Close() }
