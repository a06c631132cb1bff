package collab

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
)

// appAuth is an application's Authenticator: tokens "alice", "bob" and the
// rest mean what the switch says; a session cookie stands for its user.
type appAuth struct {
	clock *testClock
	mu    sync.Mutex
	seen  []string // the Origin of every request asked about, in order
}

func (a *appAuth) Authenticate(r *http.Request, token string) (*Identity, error) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Header.Get("Origin"))
	a.mu.Unlock()
	if c, err := r.Cookie("session"); err == nil && token == "" {
		token = c.Value
	}
	switch token {
	case "alice":
		return &Identity{Name: "Alice", Subject: "u1", Grants: []Grant{{"pub-*", PermRead}, {"pub-draft", PermWrite}}}, nil
	case "root":
		return &Identity{Name: "Root", Grants: []Grant{{"*", PermAdmin}}}, nil
	case "brief":
		return &Identity{Name: "Brief", Grants: []Grant{{"pub-*", PermWrite}}, Expires: a.clock.now().Add(time.Minute)}, nil
	case "banned":
		return nil, fmt.Errorf("%w: account suspended", ErrForbidden)
	case "stale":
		return nil, fmt.Errorf("%w: session expired, sign in again", ErrUnauthorized)
	case "busy":
		return nil, fmt.Errorf("%w: user database busy", ErrUnavailable)
	case "down":
		return nil, errors.New("user database: connection refused to 10.0.0.7")
	case "bad-grant":
		return &Identity{Grants: []Grant{{"pub-*", "owner"}}}, nil
	}
	return nil, nil // not ours: a token signed with the secret, if any
}

// TestAuthenticatorHTTP: the application's Authenticator decides every API
// request: the highest of its grants covering the document counts, admin
// endpoints need a grant of "*", a credential may come as a cookie, and
// its errors get stable codes without its text.
func TestAuthenticatorHTTP(t *testing.T) {
	auth := &appAuth{clock: newTestClock()}
	store := &spyStore{Store: newTestStore(t)}
	_, ts := startServer(t, store, Options{Authenticator: auth})
	api := ts.URL + "/api/docs/"
	for _, c := range []struct {
		method, doc, token string
		status             int
		code               string
	}{
		{"PUT", "pub-draft", "alice", 200, ""},
		{"GET", "pub-draft", "alice", 200, ""},
		{"PUT", "pub-notes", "alice", 403, wire.CodeReadOnly},
		{"PUT", "secret", "alice", 403, wire.CodeForbidden},
		{"DELETE", "pub-draft", "alice", 403, wire.CodeForbidden},
		{"GET", "", "alice", 403, wire.CodeForbidden}, // the list needs "*"
		{"GET", "", "root", 200, ""},
		{"GET", "pub-draft", "", 401, wire.CodeUnauthorized},
		{"GET", "pub-draft", "mallory", 401, wire.CodeUnauthorized},
		{"GET", "pub-draft", "banned", 403, wire.CodeForbidden},
		{"GET", "pub-draft", "down", 401, wire.CodeUnauthorized},
		{"GET", "pub-draft", "stale", 401, wire.CodeUnauthorized},
		{"GET", "pub-draft", "busy", 503, wire.CodeUnavailable},
		{"GET", "pub-draft", "bad-grant", 500, wire.CodeInternal},
	} {
		url := ts.URL + "/api/docs"
		if c.doc != "" {
			url += "/" + c.doc
		}
		status, eb := apiCall(t, c.method, url, c.token, "text")
		if status != c.status || eb.Code != c.code {
			t.Errorf("%s %s with %q: %d %+v, want %d %s", c.method, c.doc, c.token, status, eb, c.status, c.code)
		}
		if strings.Contains(eb.Message, "10.0.0.7") {
			t.Errorf("the Authenticator's error reached the client: %q", eb.Message)
		}
		if c.token == "stale" && !strings.Contains(eb.Message, "sign in again") {
			t.Errorf("an ErrUnauthorized of the Authenticator lost its message: %q", eb.Message)
		}
		if c.token == "down" && eb.Message != "collab: unauthorized: credentials refused" {
			t.Errorf("another error of the Authenticator: %q", eb.Message)
		}
	}
	req, _ := http.NewRequest("GET", api+"pub-draft", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "alice"})
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET with alice's cookie: %v %v", res, err)
	}
	res.Body.Close()
}

// TestAuthenticatorWebSocket: the Authenticator decides the upgrade (with
// ?token= or a cookie) and the tokens of hello and join, given the upgrade
// request; its identity's name is the editor's, its grants make a session
// read-only or refuse the join, and its expiry is checked at each join.
func TestAuthenticatorWebSocket(t *testing.T) {
	clock := newTestClock()
	auth := &appAuth{clock: clock}
	_, ts := startServer(t, newTestStore(t), Options{Authenticator: auth, clock: clock.now})

	if _, res, err := dialAuth(t, ts, "banned"); err == nil || res.StatusCode != 403 {
		t.Fatalf("upgrade with a banned token: %v, want 403", res)
	}
	ws, _, err := dialAuth(t, ts, "alice")
	if err != nil {
		t.Fatal(err)
	}
	a := hello(t, ws, "client-a")
	a.join("pub-draft", nil)
	a.submit("pub-draft", 0, 1, insertAt(0, 0, "hi"))
	a.ack(1)
	a.join("pub-notes", nil)
	a.submit("pub-notes", 0, 1, insertAt(0, 0, "no"))
	if e := a.expectError(wire.CodeReadOnly); e.Doc != "pub-notes" {
		t.Fatalf("read-only error %+v", e)
	}
	a.send(wire.Join{Type: wire.TypeJoin, Doc: "secret"})
	a.expectError(wire.CodeForbidden)

	// A browser without a token on the upgrade gives it in hello, checked
	// with the upgrade's request.
	ws, _, err = dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	b := helloToken(t, ws, "client-b", "brief")
	b.expect(wire.TypeWelcome, nil)
	b.join("pub-draft", nil)
	var op wire.Op
	b.submit("pub-draft", 1, 1, insertAt(2, 2, "!"))
	b.ack(1)
	a.expect(wire.TypeOp, &op)
	if op.Name != "Brief" {
		t.Fatalf("op by %q, want the Identity's name", op.Name)
	}
	clock.advance(time.Minute)
	b.send(wire.Join{Type: wire.TypeJoin, Doc: "pub-other"})
	if e := b.expectError(wire.CodeUnauthorized); e.Doc != "pub-other" {
		t.Fatalf("join after the identity expired: %+v", e)
	}

	d := websocket.Dialer{HandshakeTimeout: testWait}
	ws, _, err = d.Dial(wsURL(ts), http.Header{"Origin": {ts.URL}, "Cookie": {"session=alice"}})
	if err != nil {
		t.Fatal(err)
	}
	c := hello(t, ws, "client-c")
	c.join("pub-draft", nil) // the cookie's identity, from the upgrade

	auth.mu.Lock()
	defer auth.mu.Unlock()
	for _, o := range auth.seen {
		if o != ts.URL {
			t.Fatalf("the Authenticator was given a request with Origin %q, not the upgrade's", o)
		}
	}
}

// TestAuthenticatorBesidesSecret: with both, tokens the Authenticator does
// not know are checked against the secret.
func TestAuthenticatorBesidesSecret(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, Authenticator: &appAuth{clock: newTestClock()}})
	api := ts.URL + "/api/docs/"
	if status, eb := apiCall(t, "PUT", api+"pub-draft", "alice", "x"); status != 200 {
		t.Fatalf("the Authenticator's token: %d %+v", status, eb)
	}
	jwt := mint(t, authSecret, "team-*", PermWrite, time.Hour)
	if status, eb := apiCall(t, "PUT", api+"team-a", jwt, "x"); status != 200 {
		t.Fatalf("a signed token: %d %+v", status, eb)
	}
	if status, eb := apiCall(t, "PUT", api+"team-a", mint(t, []byte("another secret, quite long"), "team-*", PermWrite, time.Hour), "x"); status != 401 || eb.Code != wire.CodeUnauthorized {
		t.Fatalf("a forged token: %d %+v", status, eb)
	}
}
