package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/collabd/collab/collab/client"
	"github.com/collabd/collab/ot"
)

// clientSystem drives collabd through the Go client package.
type clientSystem struct {
	wsURL   string // ws://host:port/ws
	httpURL string // http://host:port
	http    *http.Client
}

func newClientSystem(base string) *clientSystem {
	u, _ := url.Parse(base)
	ws := *u
	ws.Scheme = map[string]string{"https": "wss"}[u.Scheme]
	if ws.Scheme == "" {
		ws.Scheme = "ws"
	}
	ws.Path = "/ws"
	return &clientSystem{
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
	conn   *client.Conn
	doc    *client.Doc
	events chan event
}

func (s *clientSystem) open(ctx context.Context, doc, id string) (session, error) {
	conn, err := client.Dial(ctx, s.wsURL, client.Options{
		ClientID:    id,
		Reconnect:   true,
		EventBuffer: 4096,
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
	cs := &clientSession{conn: conn, doc: d, events: make(chan event, 64)}
	go cs.relay()
	return cs, nil
}

// relay turns the client's events into the benchmark's, until the Doc ends.
func (cs *clientSession) relay() {
	defer close(cs.events)
	for ev := range cs.doc.Events() {
		out := event{missed: ev.Missed, seq: ev.Seq, rev: ev.Rev, err: ev.Err}
		switch ev.Kind {
		case client.EventAck:
			out.kind = evAck
		case client.EventOp:
			out.kind = evOp
		case client.EventReject:
			out.kind = evReject
		case client.EventError:
			out.kind = evError
		case client.EventReset:
			out.kind = evError // a reset means the client lost its place
		case client.EventStatus:
			switch ev.Status {
			case client.StatusOnline:
				out.kind = evOnline
			case client.StatusOffline:
				out.kind = evOffline
			default:
				out.kind = evError
			}
		default:
			if ev.Missed == 0 {
				continue
			}
			out.kind = evMissed
		}
		cs.events <- out
	}
}

func (cs *clientSession) Len() int { return cs.doc.Len() }

func (cs *clientSession) Apply(pos, del int, ins string) error {
	n := cs.doc.Len() // only this goroutine edits, so n stays valid
	if pos+del > n {
		return fmt.Errorf("edit past the end: %d+%d > %d", pos, del, n)
	}
	var b ot.Builder
	return cs.doc.Apply(b.Retain(pos).Insert(ins).Delete(del).Retain(n - pos - del).Op())
}

func (cs *clientSession) Events() <-chan event { return cs.events }

func (cs *clientSession) Text() (string, bool) { return cs.doc.Text(), true }

func (cs *clientSession) Synced() bool { return cs.doc.Pending() == 0 }

func (cs *clientSession) Close() error { return cs.conn.Close() }
