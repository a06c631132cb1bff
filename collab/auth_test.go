package collab

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

var authSecret = []byte("test-secret-0123456789abcdef-0123")

// spyStore counts every call that reaches the store.
type spyStore struct {
	storage.Store
	calls atomic.Int64
}

func (s *spyStore) Load(ctx context.Context, id string) (storage.Doc, error) {
	s.calls.Add(1)
	return s.Store.Load(ctx, id)
}
func (s *spyStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	s.calls.Add(1)
	return s.Store.Append(ctx, id, recs)
}
func (s *spyStore) Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error) {
	s.calls.Add(1)
	return s.Store.Ops(ctx, id, from, to)
}
func (s *spyStore) TextAt(ctx context.Context, id string, rev uint64) (string, error) {
	s.calls.Add(1)
	return s.Store.TextAt(ctx, id, rev)
}
func (s *spyStore) ClientSeq(ctx context.Context, id, client string) (uint64, uint64, error) {
	s.calls.Add(1)
	return s.Store.ClientSeq(ctx, id, client)
}
func (s *spyStore) List(ctx context.Context, after string, limit int) ([]storage.Meta, error) {
	s.calls.Add(1)
	return s.Store.List(ctx, after, limit)
}
func (s *spyStore) Delete(ctx context.Context, id string) error {
	s.calls.Add(1)
	return s.Store.Delete(ctx, id)
}

// mint signs a token for doc with perm, valid for ttl (negative: expired).
func mint(t testing.TB, secret []byte, doc string, perm Perm, ttl time.Duration) string {
	t.Helper()
	tok, err := MintToken(secret, Claims{Doc: doc, Perm: perm, Name: "Tok " + string(perm),
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl))}})
	if err != nil {
		t.Fatalf("MintToken: %v", err)
	}
	return tok
}

// badTokens are tokens for doc "d" with perm that must all be refused, and
// the code each gets.
func badTokens(t testing.TB, perm Perm) []struct{ kind, token, code string } {
	t.Helper()
	exp := jwt.NewNumericDate(time.Now().Add(time.Hour))
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, &Claims{Doc: "d", Perm: perm,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, &Claims{Doc: "d", Perm: perm,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: exp}}).SignedString(authSecret)
	if err != nil {
		t.Fatal(err)
	}
	noExp, err := jwt.NewWithClaims(jwt.SigningMethodHS256, &Claims{Doc: "d", Perm: perm}).SignedString(authSecret)
	if err != nil {
		t.Fatal(err)
	}
	early, err := MintToken(authSecret, Claims{Doc: "d", Perm: perm, RegisteredClaims: jwt.RegisteredClaims{
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(2 * time.Hour)), NotBefore: exp}})
	if err != nil {
		t.Fatal(err)
	}
	return []struct{ kind, token, code string }{
		{"missing", "", wire.CodeUnauthorized},
		{"expired", mint(t, authSecret, "d", perm, -time.Hour), wire.CodeUnauthorized},
		{"not-yet-valid", early, wire.CodeUnauthorized},
		{"forged", mint(t, []byte("another-secret-0123456789abcdef"), "d", perm, time.Hour), wire.CodeUnauthorized},
		{"alg-none", none, wire.CodeUnauthorized},
		{"alg-HS512", hs512, wire.CodeUnauthorized},
		{"no-exp", noExp, wire.CodeUnauthorized},
		{"malformed", "not-a.jwt.token", wire.CodeUnauthorized},
		{"wrong-doc", mint(t, authSecret, "other", perm, time.Hour), wire.CodeForbidden},
	}
}

// apiCall makes an HTTP request with an optional bearer token.
func apiCall(t *testing.T, method, url, token, body string) (int, wire.ErrorBody) {
	t.Helper()
	res, data := doToken(t, method, url, token, body)
	var eb wire.ErrorBody
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(data, &eb); err != nil {
			t.Fatalf("%s %s: %d with body %q", method, url, res.StatusCode, data)
		}
	}
	return res.StatusCode, eb
}

// dialAuth opens /ws with a same-origin Origin and, if given, ?token=.
func dialAuth(t *testing.T, ts *httptest.Server, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := wsURL(ts)
	if token != "" {
		u += "?token=" + token
	}
	d := websocket.Dialer{HandshakeTimeout: testWait}
	return d.Dial(u, http.Header{"Origin": {ts.URL}})
}

// helloToken says hello with a token and returns the client.
func helloToken(t *testing.T, ws *websocket.Conn, id, token string) *tclient {
	t.Helper()
	c := &tclient{t: t, ws: ws, id: id}
	t.Cleanup(func() { ws.Close() })
	c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: id, Name: "hello-" + id, Token: token})
	return c
}

// TestBadTokens: expired, forged, wrong-document, alg none, other algs, no
// expiry and malformed tokens are refused on every way onto the socket and
// on every HTTP endpoint, before the store sees any call and before any
// document is loaded.
func TestBadTokens(t *testing.T) {
	store := &spyStore{Store: newTestStore(t)}
	// More requests than the API rate limit's burst, all from one address.
	srv, ts := startServer(t, store, Options{AuthSecret: authSecret, APIRate: -1})
	status := map[string]int{wire.CodeUnauthorized: http.StatusUnauthorized, wire.CodeForbidden: http.StatusForbidden}

	endpoints := []struct {
		method, path string
		perm         Perm
	}{
		{"GET", "/api/docs/d", PermRead},
		{"GET", "/api/docs/d/ops", PermRead},
		{"GET", "/api/docs/d/text", PermRead},
		{"PUT", "/api/docs/d", PermWrite},
		{"DELETE", "/api/docs/d", PermAdmin},
		{"GET", "/api/docs", PermAdmin},
		{"POST", "/api/admin/backup", PermAdmin},
		{"GET", "/api/docs/d/authors", PermRead},
		{"GET", "/api/docs/d/versions", PermRead},
		{"POST", "/api/docs/d/versions", PermWrite},
		{"DELETE", "/api/docs/d/versions/1", PermWrite},
		{"POST", "/api/docs/d/restore", PermWrite},
	}
	for _, ep := range endpoints {
		for _, tk := range badTokens(t, ep.perm) {
			t.Run(ep.method+" "+ep.path+"/"+tk.kind, func(t *testing.T) {
				got, body := apiCall(t, ep.method, ts.URL+ep.path, tk.token, "x")
				if got != status[tk.code] || body.Code != tk.code {
					t.Fatalf("got %d %q (%s), want %d %q", got, body.Code, body.Message, status[tk.code], tk.code)
				}
			})
		}
	}

	for i, tk := range badTokens(t, PermWrite) {
		id := "c" + string(rune('a'+i))
		t.Run("ws ?token/"+tk.kind, func(t *testing.T) {
			if tk.token == "" {
				t.Skip("no ?token is the anonymous browser case: see the hello and join cases")
			}
			ws, res, err := dialAuth(t, ts, tk.token)
			if err == nil {
				ws.Close()
			}
			// A syntactically valid token for another document passes the
			// upgrade: it is refused on join (see the join case).
			if tk.kind == "wrong-doc" {
				if err != nil {
					t.Fatalf("upgrade with a valid token for another document: %v", err)
				}
				return
			}
			if err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("upgrade: %v, %v; want 401", res, err)
			}
		})
		t.Run("ws hello/"+tk.kind, func(t *testing.T) {
			ws, _, err := dialAuth(t, ts, "")
			if err != nil {
				t.Fatal(err)
			}
			c := helloToken(t, ws, "h"+id, tk.token)
			if tk.code == wire.CodeUnauthorized && tk.token != "" {
				c.expectError(wire.CodeUnauthorized)
				if code := c.closeCode(); code != websocket.ClosePolicyViolation {
					t.Fatalf("close code %d, want 1008", code)
				}
				return
			}
			c.expect(wire.TypeWelcome, nil)
			c.send(wire.Join{Type: wire.TypeJoin, Doc: "d"})
			if e := c.expectError(tk.code); e.Doc != "d" {
				t.Fatalf("error doc %q", e.Doc)
			}
		})
		t.Run("ws join/"+tk.kind, func(t *testing.T) {
			ws, _, err := dialAuth(t, ts, "")
			if err != nil {
				t.Fatal(err)
			}
			c := helloToken(t, ws, "j"+id, "")
			c.expect(wire.TypeWelcome, nil)
			c.send(wire.Join{Type: wire.TypeJoin, Doc: "d", Token: tk.token})
			c.expectError(tk.code)
			// The connection stays: it answers the next request.
			c.send(wire.Join{Type: wire.TypeJoin, Doc: "bad id!"})
			c.expectError(wire.CodeInvalidDocID)
		})
	}
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the store saw %d calls, want 0", n)
	}
	if n := srv.Loaded(); n != 0 {
		t.Errorf("Loaded() = %d, want 0", n)
	}
	if n := testutilCounter(t, srv, "collab_auth_failures_total"); n == 0 {
		t.Error("collab_auth_failures_total did not count the refusals")
	}
}

// TestReadToken: a read token receives the text, ops and presence, but its
// submits get read_only (and joined says readonly), and its PUT gets 403.
func TestReadToken(t *testing.T) {
	store := newTestStore(t)
	_, ts := startServer(t, store, Options{AuthSecret: authSecret})
	write, read := mint(t, authSecret, "d", PermWrite, time.Hour), mint(t, authSecret, "d", PermRead, time.Hour)

	wsW, _, err := dialAuth(t, ts, write)
	if err != nil {
		t.Fatal(err)
	}
	w := helloToken(t, wsW, "writer", "")
	w.expect(wire.TypeWelcome, nil)
	if j := w.join("d", nil); j.ReadOnly {
		t.Fatal("a write token joined read-only")
	}
	w.submit("d", 0, 1, insertAt(0, 0, "hello"))
	w.ack(1)

	wsR, _, err := dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	r := helloToken(t, wsR, "reader", read)
	r.expect(wire.TypeWelcome, nil)
	j := r.join("d", nil)
	if !j.ReadOnly || j.Text == nil || *j.Text != "hello" {
		t.Fatalf("reader joined %+v, want readonly with the text", j)
	}
	var ed wire.Editor
	w.expect(wire.TypeEditor, &ed)
	if ed.Name != "Tok read" {
		t.Errorf("editors see the reader as %q, want the token's name", ed.Name)
	}

	w.send(wire.Presence{Type: wire.TypePresence, Doc: "d", Rev: 1, Anchor: 2, Head: 2})
	var p wire.Presence
	for {
		typ, data := r.next()
		if typ == wire.TypePresence {
			json.Unmarshal(data, &p)
			break
		}
	}
	if p.Client != wire.PublicID("writer") || p.Head != 2 {
		t.Fatalf("reader got presence %+v", p)
	}
	w.submit("d", 1, 2, insertAt(5, 5, "!"))
	w.ack(2)
	var op wire.Op
	r.expect(wire.TypeOp, &op)
	if op.Rev != 2 {
		t.Fatalf("reader got op %+v", op)
	}

	r.submit("d", 2, 1, insertAt(6, 0, "x"))
	if e := r.expectError(wire.CodeReadOnly); e.Seq != 1 || e.Doc != "d" {
		t.Fatalf("read_only error %+v", e)
	}
	if code, body := apiCall(t, "PUT", ts.URL+"/api/docs/d", read, "overwritten"); code != http.StatusForbidden || body.Code != wire.CodeReadOnly {
		t.Fatalf("PUT with a read token: %d %+v, want 403 read_only", code, body)
	}
	if code, _ := apiCall(t, "GET", ts.URL+"/api/docs/d", read, ""); code != http.StatusOK {
		t.Fatalf("GET with a read token: %d", code)
	}
	// The writer carries on and the text holds only its edits.
	w.submit("d", 2, 3, insertAt(6, 6, "?"))
	w.ack(3)
	if text, rev := storeText(t, store, "d"); text != "hello!?" || rev != 3 {
		t.Fatalf("store holds %q at %d, want %q at 3", text, rev, "hello!?")
	}
}

// TestAdminEndpoints: delete, list and backup need an admin token; list and
// backup one for every document.
func TestAdminEndpoints(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	writeAll, adminD, adminAll := mint(t, authSecret, "*", PermWrite, time.Hour), mint(t, authSecret, "d", PermAdmin, time.Hour), mint(t, authSecret, "*", PermAdmin, time.Hour)
	if code, _ := apiCall(t, "PUT", ts.URL+"/api/docs/d", writeAll, "text"); code != http.StatusOK {
		t.Fatalf("PUT with a write token: %d", code)
	}
	tests := []struct {
		name, method, path, token string
		want                      int
	}{
		{"delete with write", "DELETE", "/api/docs/d", writeAll, http.StatusForbidden},
		{"list with write", "GET", "/api/docs", writeAll, http.StatusForbidden},
		{"backup with write", "POST", "/api/admin/backup", writeAll, http.StatusForbidden},
		{"list with admin of one doc", "GET", "/api/docs", adminD, http.StatusForbidden},
		{"backup with admin of one doc", "POST", "/api/admin/backup", adminD, http.StatusForbidden},
		{"list with admin", "GET", "/api/docs", adminAll, http.StatusOK},
		{"backup with admin (memory.Store cannot)", "POST", "/api/admin/backup", adminAll, http.StatusNotFound},
		{"delete with admin of the doc", "DELETE", "/api/docs/d", adminD, http.StatusNoContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, body := apiCall(t, tt.method, ts.URL+tt.path, tt.token, ""); got != tt.want {
				t.Fatalf("got %d %+v, want %d", got, body, tt.want)
			}
		})
	}
}

// TestPrefixToken: a token for "team-*" opens team-a but not teamb.
func TestPrefixToken(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	tok := mint(t, authSecret, "team-*", PermWrite, time.Hour)
	ws, _, err := dialAuth(t, ts, tok)
	if err != nil {
		t.Fatal(err)
	}
	c := helloToken(t, ws, "p", "")
	c.expect(wire.TypeWelcome, nil)
	c.join("team-a", nil)
	c.submit("team-a", 0, 1, insertAt(0, 0, "a"))
	c.ack(1)
	c.send(wire.Join{Type: wire.TypeJoin, Doc: "teamb"})
	c.expectError(wire.CodeForbidden)
	if code, _ := apiCall(t, "GET", ts.URL+"/api/docs/team-a", tok, ""); code != http.StatusOK {
		t.Fatalf("GET team-a: %d", code)
	}
	if code, _ := apiCall(t, "PUT", ts.URL+"/api/docs/teamb", tok, "x"); code != http.StatusForbidden {
		t.Fatalf("PUT teamb: %d, want 403", code)
	}
}

// TestNoOriginNeedsToken: with a secret, a client without Origin (not a
// browser) upgrades only with a valid token; without one it always does.
func TestNoOriginNeedsToken(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	tok := mint(t, authSecret, "d", PermWrite, time.Hour)
	d := websocket.Dialer{HandshakeTimeout: testWait}
	tests := []struct {
		name string
		url  string
		hdr  http.Header
		want int
	}{
		{"nothing", wsURL(ts), nil, http.StatusUnauthorized},
		{"?token", wsURL(ts) + "?token=" + tok, nil, http.StatusSwitchingProtocols},
		{"bearer", wsURL(ts), http.Header{"Authorization": {"Bearer " + tok}}, http.StatusSwitchingProtocols},
		{"bad bearer", wsURL(ts), http.Header{"Authorization": {"Bearer x.y.z"}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws, res, err := d.Dial(tt.url, tt.hdr)
			if err == nil {
				ws.Close()
			}
			if res == nil || res.StatusCode != tt.want {
				t.Fatalf("upgrade: %v %v, want %d", res, err, tt.want)
			}
		})
	}
	_, open := startServer(t, newTestStore(t), Options{})
	connect(t, open, "anon") // no secret: no Origin, no token, accepted
}

// TestTokensNotLogged: refused and accepted tokens never appear in the log
// (at debug level) nor in error messages.
func TestTokensNotLogged(t *testing.T) {
	var logBuf syncBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, Logger: log})
	good := mint(t, authSecret, "d", PermRead, time.Hour)
	tokens := []string{good}
	var replies bytes.Buffer
	for _, tk := range badTokens(t, PermWrite) {
		if tk.token == "" {
			continue
		}
		tokens = append(tokens, tk.token)
		_, body := apiCall(t, "PUT", ts.URL+"/api/docs/d", tk.token, "x")
		replies.WriteString(body.Message)
		if ws, _, err := dialAuth(t, ts, tk.token); err == nil {
			ws.Close()
		}
		ws, _, err := dialAuth(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		c := helloToken(t, ws, "log", "")
		c.expect(wire.TypeWelcome, nil)
		c.send(wire.Join{Type: wire.TypeJoin, Doc: "d", Token: tk.token})
		_, data := c.next()
		replies.Write(data)
		c.send(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "log", Token: tk.token})
		_, data = c.next()
		replies.Write(data)
		ws.Close()
	}
	_, body := apiCall(t, "PUT", ts.URL+"/api/docs/d", good, "x") // read token: refused
	replies.WriteString(body.Message)
	if !strings.Contains(logBuf.String(), "auth refused") {
		t.Fatalf("the refusals were not logged at all:\n%s", logBuf.String())
	}
	for _, tok := range tokens {
		// The signature part is the secret-derived piece; check the whole token and it.
		sig := tok[strings.LastIndexByte(tok, '.')+1:]
		for where, text := range map[string]string{"log": logBuf.String(), "replies": replies.String()} {
			if strings.Contains(text, tok) || (len(sig) > 8 && strings.Contains(text, sig)) {
				t.Errorf("a token appears in the %s:\n%s", where, text)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestCrossSiteHijack: an upgrade from a foreign page is refused with 403,
// even with a valid token in the URL, and creates no state.
func TestCrossSiteHijack(t *testing.T) {
	for _, secret := range [][]byte{nil, authSecret} {
		store := &spyStore{Store: newTestStore(t)}
		srv, ts := startServer(t, store, Options{AuthSecret: secret})
		u := wsURL(ts)
		if secret != nil {
			u += "?token=" + mint(t, authSecret, "*", PermAdmin, time.Hour)
		}
		d := websocket.Dialer{HandshakeTimeout: testWait}
		ws, res, err := d.Dial(u, http.Header{"Origin": {"http://evil.example"}})
		if err == nil {
			ws.Close()
			t.Fatal("a cross-site upgrade succeeded")
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site upgrade: %v %v, want 403", res, err)
		}
		srv.mu.Lock()
		conns, clients := len(srv.conns), len(srv.clients)
		srv.mu.Unlock()
		if conns != 0 || clients != 0 || srv.Loaded() != 0 || store.calls.Load() != 0 {
			t.Fatalf("state after a refused upgrade: %d conns, %d clients, %d loaded, %d store calls", conns, clients, srv.Loaded(), store.calls.Load())
		}
		if n := testutilCounter(t, srv, "collab_connections"); n != 0 {
			t.Fatalf("collab_connections = %v", n)
		}
	}
}

// TestClaims: prefix matching, permission order and MintToken's checks.
func TestClaims(t *testing.T) {
	cover := []struct {
		doc, id string
		want    bool
	}{
		{"d", "d", true}, {"d", "d2", false}, {"team-*", "team-a", true}, {"team-*", "teamb", false},
		{"team-*", "team-", true}, {"*", "anything", true}, {"team-a", "team-*", false},
		{"team1*", "team10", true}, {"team1-*", "team10", false}, // why prefixes end with a separator
	}
	for _, tt := range cover {
		if got := (&Claims{Doc: tt.doc}).Covers(tt.id); got != tt.want {
			t.Errorf("Claims{Doc: %q}.Covers(%q) = %v, want %v", tt.doc, tt.id, got, tt.want)
		}
	}
	if !(&Claims{Perm: PermAdmin}).Grants(PermWrite) || (&Claims{Perm: PermRead}).Grants(PermWrite) || (&Claims{Perm: "root"}).Grants(PermRead) {
		t.Error("Grants: wrong permission order")
	}
	exp := jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}
	for _, c := range []Claims{
		{Doc: "d", Perm: PermRead},                           // no expiry
		{Doc: "", Perm: PermRead, RegisteredClaims: exp},     // no doc
		{Doc: "d", Perm: "owner", RegisteredClaims: exp},     // unknown perm
		{Doc: "a b*", Perm: PermRead, RegisteredClaims: exp}, // not an id prefix
	} {
		if _, err := MintToken(authSecret, c); err == nil {
			t.Errorf("MintToken(%+v) succeeded", c)
		}
	}
}
