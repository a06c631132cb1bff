package collab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

// tokenOf signs a write token for doc with the given id (jti), subject,
// name and issue time (zero: none), valid for an hour.
func tokenOf(t *testing.T, doc, jti, sub, name string, iat time.Time) string {
	t.Helper()
	c := Claims{Doc: doc, Perm: PermWrite, Name: name, RegisteredClaims: jwt.RegisteredClaims{
		ID: jti, Subject: sub, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}}
	if !iat.IsZero() {
		c.IssuedAt = jwt.NewNumericDate(iat)
	}
	return mintClaims(t, c)
}

// revoke posts a revocation with the admin token and returns the answer.
func revoke(t *testing.T, ts *httptest.Server, token, body string) (int, []byte) {
	t.Helper()
	res, data := doToken(t, "POST", ts.URL+"/api/revocations", token, body)
	return res.StatusCode, data
}

// TestRevokeToken: an admin revokes a token by its jti: the sessions on it
// are ended at once with unauthorized "token revoked" for each document,
// the others go on; it can join nothing more, nor open a connection, nor
// make an HTTP request, nor be given by auth. A revocation by name (or
// subject) on a prefix ends that name's sessions on the documents of the
// prefix only, and spares tokens issued after it.
func TestRevokeToken(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	admin := mint(t, authSecret, "*", PermAdmin, time.Hour)
	until := fmt.Sprint(time.Now().Add(time.Hour).Unix())

	leaked := tokenOf(t, "team4-*", "tok-1", "", "Eve", time.Time{})
	eve := connectToken(t, ts, "eve", leaked)
	bob := connectToken(t, ts, "bob", tokenOf(t, "team4-*", "tok-2", "", "Bob", time.Time{}))
	eve.join("team4-a", nil)
	eve.join("team4-b", nil)
	bob.join("team4-a", nil)

	status, body := revoke(t, ts, admin, `{"jti":"tok-1","until":`+until+`}`)
	var got storage.Revocation
	if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.ID != "tok-1" || got.At < time.Now().Add(-time.Minute).Unix() {
		t.Fatalf("POST /api/revocations: %d %s", status, body)
	}
	for range 2 {
		if e := eve.expectError(wire.CodeUnauthorized); !strings.HasPrefix(e.Doc, "team4-") || !strings.Contains(e.Message, "token revoked") {
			t.Fatalf("revoked session: %+v", e)
		}
	}
	bob.expectLeave("team4-a", "eve")
	bob.submit("team4-a", 0, 1, insertAt(0, 0, "bob"))
	bob.ack(1)
	eve.send(wire.Join{Type: wire.TypeJoin, Doc: "team4-c"})
	eve.expectError(wire.CodeUnauthorized)
	eve.send(wire.Auth{Type: wire.TypeAuth, Token: leaked})
	eve.expectError(wire.CodeUnauthorized)
	if code, _ := apiCall(t, "GET", ts.URL+"/api/docs/team4-a", leaked, ""); code != http.StatusUnauthorized {
		t.Fatalf("GET with the revoked token: %d", code)
	}
	if _, res, err := dialAuth(t, ts, leaked); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("upgrade with the revoked token: %v", err)
	}

	// By name, on a prefix: team4-* only, tokens issued up to now only.
	issued := time.Now().Add(-time.Minute)
	ada := connectToken(t, ts, "ada", tokenOf(t, "*", "", "", "Ada", issued))
	ada.join("team4-a", nil)
	ada.join("team5-a", nil)
	if status, body := revoke(t, ts, admin, `{"name":"Ada","doc":"team4-*","until":`+until+`}`); status != http.StatusOK {
		t.Fatalf("revoke by name: %d %s", status, body)
	}
	if e := ada.expectError(wire.CodeUnauthorized); e.Doc != "team4-a" {
		t.Fatalf("revoked by name: %+v", e)
	}
	ada.submit("team5-a", 0, 1, insertAt(0, 0, "ada"))
	ada.ack(1)
	fresh := tokenOf(t, "*", "", "", "Ada", time.Now().Add(2*time.Second)) // issued after the revocation
	ada.refresh(fresh)
	ada.join("team4-a", nil)

	if code, _ := apiCall(t, "GET", ts.URL+"/api/revocations", admin, ""); code != http.StatusOK {
		t.Fatalf("GET /api/revocations: %d", code)
	}
	_, list := doToken(t, "GET", ts.URL+"/api/revocations", admin, "")
	var rl RevocationList
	if err := json.Unmarshal(list, &rl); err != nil || len(rl.Revocations) != 2 {
		t.Fatalf("GET /api/revocations: %s", list)
	}
}

// TestRevokeRefused: the revocation API needs an admin token for every
// document, and a revocation that names tokens and a future until;
// otherwise nothing is revoked.
func TestRevokeRefused(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	admin := mint(t, authSecret, "*", PermAdmin, time.Hour)
	until := fmt.Sprint(time.Now().Add(time.Hour).Unix())
	for _, tc := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no token", "", `{"jti":"x","until":` + until + `}`, 401, wire.CodeUnauthorized},
		{"write token", mint(t, authSecret, "*", PermWrite, time.Hour), `{"jti":"x","until":` + until + `}`, 403, wire.CodeForbidden},
		{"prefix admin", mint(t, authSecret, "team-*", PermAdmin, time.Hour), `{"name":"x","doc":"team-*","until":` + until + `}`, 403, wire.CodeForbidden},
		{"nothing named", admin, `{"doc":"d","until":` + until + `}`, 400, wire.CodeBadMessage},
		{"jti with doc", admin, `{"jti":"x","doc":"d","until":` + until + `}`, 400, wire.CodeBadMessage},
		{"no doc", admin, `{"name":"x","until":` + until + `}`, 400, wire.CodeBadMessage},
		{"bad doc", admin, `{"name":"x","doc":"a b","until":` + until + `}`, 400, wire.CodeBadMessage},
		{"no until", admin, `{"jti":"x"}`, 400, wire.CodeBadMessage},
		{"past until", admin, `{"jti":"x","until":1}`, 400, wire.CodeBadMessage},
		{"until too far", admin, fmt.Sprintf(`{"jti":"x","until":%d}`, time.Now().Add(2*maxRevocation).Unix()), 400, wire.CodeBadMessage},
		{"not JSON", admin, `{"jti":`, 400, wire.CodeBadMessage},
	} {
		res, body := doToken(t, "POST", ts.URL+"/api/revocations", tc.token, tc.body)
		wantStatus(t, res, body, tc.status, tc.code)
	}
	_, list := doToken(t, "GET", ts.URL+"/api/revocations", admin, "")
	if !strings.Contains(string(list), `"revocations":[]`) {
		t.Fatalf("revocations after refused requests: %s", list)
	}
}

// TestRevocationSurvivesRestart: revocations are kept in the bbolt file
// and in force again after a restart, until their until.
func TestRevocationSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "collab.db")
	leaked := tokenOf(t, "d", "tok-r", "", "", time.Time{})
	for run := range 2 {
		db, err := bolt.Open(path, bolt.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(db, Options{AuthSecret: authSecret, Logger: quietLogger()})
		ts := httptest.NewServer(srv)
		if run == 0 {
			admin := mint(t, authSecret, "*", PermAdmin, time.Hour)
			if status, body := revoke(t, ts, admin, fmt.Sprintf(`{"jti":"tok-r","until":%d}`, time.Now().Add(time.Hour).Unix())); status != http.StatusOK {
				t.Fatalf("revoke: %d %s", status, body)
			}
		}
		ws, _, err := dialAuth(t, ts, "")
		if err != nil {
			t.Fatal(err)
		}
		c := helloToken(t, ws, fmt.Sprintf("r%d", run), leaked)
		if e := c.expectError(wire.CodeUnauthorized); !strings.Contains(e.Message, "token revoked") {
			t.Fatalf("run %d: %+v", run, e)
		}
		c.ws.Close()
		ts.Close()
		if err := srv.Shutdown(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOnClusterRevokeEveryNode: a revocation made through one node of a
// cluster ends the sessions on the others, and a node started later
// refuses the token too (the revocation is kept in JetStream).
func TestOnClusterRevokeEveryNode(t *testing.T) {
	prefix := fmt.Sprintf("t%d", clusterStores.Add(1))
	_, tsA := startServer(t, openClusterStore(t, prefix), Options{AuthSecret: authSecret})
	_, tsB := startServer(t, openClusterStore(t, prefix), Options{AuthSecret: authSecret})
	leaked := tokenOf(t, "d", "tok-c", "", "Eve", time.Time{})
	eve := connectToken(t, tsB, "eve", leaked)
	eve.join("d", nil)

	admin := mint(t, authSecret, "*", PermAdmin, time.Hour)
	if status, body := revoke(t, tsA, admin, fmt.Sprintf(`{"jti":"tok-c","until":%d}`, time.Now().Add(time.Hour).Unix())); status != http.StatusOK {
		t.Fatalf("revoke on node A: %d %s", status, body)
	}
	if e := eve.expectError(wire.CodeUnauthorized); e.Doc != "d" || !strings.Contains(e.Message, "token revoked") {
		t.Fatalf("session on node B: %+v", e)
	}

	_, tsC := startServer(t, openClusterStore(t, prefix), Options{AuthSecret: authSecret})
	if code, _ := apiCall(t, "GET", tsC.URL+"/api/docs/d", leaked, ""); code != http.StatusUnauthorized {
		t.Fatalf("node started after the revocation: GET with the revoked token: %d", code)
	}
}

// unreadableRevocations is a store whose revocations cannot be read until
// fixed is closed.
type unreadableRevocations struct {
	*bolt.DB
	fixed chan struct{}
}

func (u *unreadableRevocations) Revocations(ctx context.Context) ([]storage.Revocation, error) {
	select {
	case <-u.fixed:
		return u.DB.Revocations(ctx)
	default:
		return nil, fmt.Errorf("%w: not now", storage.ErrUnavailable)
	}
}

// unwatchableRevocations is a shared store whose watch of revocations
// cannot start until fixed is closed.
type unwatchableRevocations struct {
	*bolt.DB
	fixed   chan struct{}
	watched atomic.Bool
}

func (u *unwatchableRevocations) WatchRevocations(ctx context.Context, fn func(storage.Revocation)) error {
	select {
	case <-u.fixed:
		u.watched.Store(true)
		return nil
	default:
		return fmt.Errorf("%w: not now", storage.ErrUnavailable)
	}
}

// TestRevocationsUnwatchableAtStart: on a shared store, a server that
// cannot follow the revocations other servers put refuses every token
// until it can, as when it cannot read them.
func TestRevocationsUnwatchableAtStart(t *testing.T) {
	defer func(d time.Duration) { revocationRetry = d }(revocationRetry)
	revocationRetry = time.Millisecond
	db := openDB(t, filepath.Join(t.TempDir(), "docs.db"), bolt.Options{})
	st := &unwatchableRevocations{DB: db, fixed: make(chan struct{})}
	_, ts := startServer(t, st, Options{AuthSecret: authSecret})
	good := tokenOf(t, "d", "tok-2", "", "Ann", time.Time{})
	if code, body := apiCall(t, "GET", ts.URL+"/api/docs/d", good, ""); code != http.StatusServiceUnavailable || !strings.Contains(body.Message, "revocations") {
		t.Fatalf("GET before the watch started: %d %s", code, body)
	}
	close(st.fixed)
	waitFor(t, "the watch to start", func() bool {
		code, _ := apiCall(t, "GET", ts.URL+"/api/docs/d", good, "")
		return code != http.StatusServiceUnavailable
	})
	if !st.watched.Load() {
		t.Fatal("tokens taken again before the watch started")
	}
}

// TestRevocationsUnreadableAtStart: a server that cannot read its stored
// revocations when it starts refuses every token (503 unavailable) rather
// than take a revoked one, and takes tokens again, revoked ones excepted,
// once it has read them. Open requests without a token are not concerned.
func TestRevocationsUnreadableAtStart(t *testing.T) {
	defer func(d time.Duration) { revocationRetry = d }(revocationRetry)
	revocationRetry = time.Millisecond
	db := openDB(t, filepath.Join(t.TempDir(), "docs.db"), bolt.Options{})
	if err := db.PutRevocation(t.Context(), storage.Revocation{ID: "tok-1", At: time.Now().Unix(), Until: time.Now().Add(time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}
	st := &unreadableRevocations{DB: db, fixed: make(chan struct{})}
	_, ts := startServer(t, st, Options{AuthSecret: authSecret})
	good, revoked := tokenOf(t, "d", "tok-2", "", "Ann", time.Time{}), tokenOf(t, "d", "tok-1", "", "Eve", time.Time{})
	if code, body := apiCall(t, "GET", ts.URL+"/api/docs/d", good, ""); code != http.StatusServiceUnavailable || body.Code != wire.CodeUnavailable || !strings.Contains(body.Message, "revocations") {
		t.Fatalf("GET before the revocations were read: %d %s", code, body)
	}
	close(st.fixed)
	waitFor(t, "the revocations to be read", func() bool {
		code, _ := apiCall(t, "GET", ts.URL+"/api/docs/d", good, "")
		return code != http.StatusServiceUnavailable
	})
	if code, _ := apiCall(t, "GET", ts.URL+"/api/docs/d", revoked, ""); code != http.StatusUnauthorized {
		t.Fatalf("GET with a revoked token after the revocations were read: %d", code)
	}
}
