// Package webhooktest is a webhook receiver for tests: it checks every
// request's signature, can be down or hang, and keeps the events it took
// by id, dropping copies as a real receiver would.
package webhooktest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/collabd/collab/collab/webhook"
)

// Mode is how the receiver answers.
type Mode int

const (
	Up   Mode = iota // take the event, answer 204
	Down             // answer 503, take nothing
	Hang             // take the event, never answer (until the client gives up)
)

// Receiver is an httptest server receiving events signed with Secret.
type Receiver struct {
	URL    string
	t      *testing.T
	secret []byte
	ts     *httptest.Server

	mu      sync.Mutex
	mode    Mode              // guarded by mu
	lose    int               // guarded by mu: answers to lose (take, answer 500)
	refused int               // guarded by mu: requests answered 503
	hung    int               // guarded by mu: requests left unanswered
	bodies  map[string][]byte // guarded by mu: each event's body, by id
	order   []webhook.Event   // guarded by mu: events in the order first taken
	copies  int               // guarded by mu: events received again
	changed chan struct{}     // cap 1: a request arrived
	release chan struct{}     // closed at cleanup: hung requests end
}

// New starts a receiver checking signatures with secret; it stops at
// the end of the test.
func New(t *testing.T, secret []byte) *Receiver {
	r := &Receiver{t: t, secret: secret, bodies: make(map[string][]byte), changed: make(chan struct{}, 1), release: make(chan struct{})}
	r.ts = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.ts.URL
	t.Cleanup(func() {
		close(r.release)
		r.ts.Close()
	})
	return r
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	defer r.poke()
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.SignatureHeader), body, 0, time.Now()); err != nil {
		r.t.Errorf("webhook receiver: %v on %s", err, body)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	mode := r.mode
	if mode == Down {
		r.refused++
		r.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	r.take(body)
	lost := r.lose > 0
	if lost {
		r.lose--
	}
	if mode == Hang {
		r.hung++
	}
	r.mu.Unlock()
	switch {
	case mode == Hang:
		r.poke()
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
	case lost:
		http.Error(w, "answer lost", http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// take keeps an event, or counts a copy. Holding mu.
func (r *Receiver) take(body []byte) {
	var e webhook.Event
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		r.t.Errorf("webhook receiver: event %s: %v", body, err)
		return
	}
	if old, ok := r.bodies[e.ID]; ok {
		r.copies++
		if string(old) != string(body) {
			r.t.Errorf("event %s sent again changed: %s, then %s", e.ID, old, body)
		}
		return
	}
	r.bodies[e.ID] = body
	r.order = append(r.order, e)
}

func (r *Receiver) poke() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// SetMode changes how the receiver answers from now on.
func (r *Receiver) SetMode(m Mode) {
	r.mu.Lock()
	r.mode = m
	r.mu.Unlock()
}

// LoseAnswers makes the receiver take the next n events but answer 500.
func (r *Receiver) LoseAnswers(n int) {
	r.mu.Lock()
	r.lose = n
	r.mu.Unlock()
}

// State is what the receiver has seen, for Await's conditions.
type State struct {
	Refused, Hung, Copies int
	Events                []webhook.Event // in the order first taken
	t                     *testing.T
}

// Docs are the events of each document, in order.
func (s State) Docs() map[string][]webhook.Event {
	out := make(map[string][]webhook.Event)
	for _, e := range s.Events {
		out[e.Doc] = append(out[e.Doc], e)
	}
	return out
}

// Covered is the revision doc's doc.changed events reach, each starting
// where the one before ended (a doc.deleted starts again from 0); the
// test fails at a gap or an overlap.
func (s State) Covered(doc string) uint64 {
	var rev uint64
	for _, e := range s.Docs()[doc] {
		switch e.Type {
		case webhook.TypeDeleted:
			rev = 0
		case webhook.TypeChanged:
			if e.FromRev != rev || e.ToRev <= e.FromRev {
				s.t.Fatalf("%s: doc.changed %d..%d after rev %d", doc, e.FromRev, e.ToRev, rev)
			}
			rev = e.ToRev
		}
	}
	return rev
}

// Await waits until cond holds of the receiver's state, and returns it.
func (r *Receiver) Await(what string, cond func(State) bool) State {
	r.t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		st := r.State()
		if cond(st) {
			return st
		}
		select {
		case <-r.changed:
		case <-deadline:
			r.t.Fatalf("webhook receiver: timed out waiting for %s; has %+v", what, st.Events)
		}
	}
}

// State returns a copy of what the receiver has seen.
func (r *Receiver) State() State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return State{Refused: r.refused, Hung: r.hung, Copies: r.copies, Events: append([]webhook.Event(nil), r.order...), t: r.t}
}
