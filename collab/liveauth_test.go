package collab

import (
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// mintClaims signs c with the test secret.
func mintClaims(t *testing.T, c Claims) string {
	t.Helper()
	tok, err := MintToken(authSecret, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// refresh sends auth with token and returns the answer.
func (c *tclient) refresh(token string) wire.Authed {
	c.t.Helper()
	c.send(wire.Auth{Type: wire.TypeAuth, Token: token})
	var a wire.Authed
	c.expect(wire.TypeAuthed, &a)
	return a
}

// expectLeave reads, skipping ops and carets, until the editor event of client id leaving doc.
func (c *tclient) expectLeave(doc, id string) {
	c.t.Helper()
	for {
		typ, data := c.next()
		if typ == wire.TypeEditor && strings.Contains(string(data), `"event":"leave"`) &&
			strings.Contains(string(data), wire.PublicID(id)) && strings.Contains(string(data), `"doc":"`+doc+`"`) {
			return
		}
		if typ != wire.TypeEditor && typ != wire.TypePresence && typ != wire.TypeOp {
			c.t.Fatalf("%s: got %s, want %s leaving %s", c.id, data, id, doc)
		}
	}
}

// TestRefreshInBand: auth gives an open connection a new token without a
// rejoin. Its answer names the token's expiry, permission and the joined
// documents it applies to (those it grants; the others keep their token);
// the sessions run on it from then on (here: past the old token's expiry,
// by the server's clock), and so do later joins. A refused token changes
// nothing and leaves the connection open.
func TestRefreshInBand(t *testing.T) {
	clock := newTestClock()
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, clock: clock.now})
	ws, _, err := dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	c := &tclient{t: t, ws: ws, id: "refresher"}
	c.send(wire.Auth{Type: wire.TypeAuth, Token: "x"})
	c.expectError(wire.CodeHelloRequired)

	old := mintUntil(t, "team1-*", PermWrite, clock.now().Add(time.Minute))
	c = helloToken(t, ws, "refresher", old)
	c.expect(wire.TypeWelcome, nil)
	c.join("team1-a", nil)
	other := mintUntil(t, "team2-*", PermWrite, clock.now().Add(10*time.Minute))
	c.send(wire.Join{Type: wire.TypeJoin, Doc: "team2-b", Token: other})
	c.expect(wire.TypeJoined, nil)

	c.send(wire.Auth{Type: wire.TypeAuth, Token: mint(t, []byte("another-secret-0123456789abcdef"), "team1-*", PermWrite, time.Hour)})
	if e := c.expectError(wire.CodeUnauthorized); e.Doc != "" || !strings.Contains(e.Message, "bad token signature") {
		t.Fatalf("auth with a forged token: %+v", e)
	}
	c.submit("team1-a", 0, 1, insertAt(0, 0, "a"))
	c.ack(1)

	exp := clock.now().Add(time.Hour)
	a := c.refresh(mintUntil(t, "team1-*", PermWrite, exp))
	if a.Exp != exp.Unix() || a.Perm != string(PermWrite) || !slices.Equal(a.Docs, []string{"team1-a"}) {
		t.Fatalf("authed = %+v, want exp %d, perm write, docs [team1-a]", a, exp.Unix())
	}
	clock.advance(time.Minute + tokenLeeway + time.Second) // the old token expired
	c.submit("team1-a", 1, 2, insertAt(1, 1, "b"))
	c.ack(2)
	c.submit("team2-b", 0, 1, insertAt(0, 0, "c")) // on its own token still
	c.ack(1)
	c.join("team1-c", nil) // the connection's token is the new one
}

// TestExpiryEndsSession: a session whose token expires (plus the leeway)
// without a refresh is ended by its document's timer: unauthorized with
// its doc, the others see it leave, it receives nothing more and its
// submits are refused not_joined. After an auth with a new token it joins
// from its revision, catches up and sends the edit it kept.
func TestExpiryEndsSession(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	// Valid for the parser thanks to the leeway, for one to two seconds.
	short := mintUntil(t, "team3-*", PermWrite, time.Now().Add(2*time.Second-tokenLeeway))
	long := mintUntil(t, "team3-*", PermWrite, time.Now().Add(time.Hour))
	a := connectToken(t, ts, "expiring", short)
	b := connectToken(t, ts, "staying", long)
	a.join("team3-doc", nil)
	b.join("team3-doc", nil)
	a.submit("team3-doc", 0, 1, insertAt(0, 0, "a"))
	a.ack(1)

	if e := a.expectError(wire.CodeUnauthorized); e.Doc != "team3-doc" || !strings.Contains(e.Message, "token expired") {
		t.Fatalf("at expiry: %+v", e)
	}
	b.expectLeave("team3-doc", "expiring")
	b.submit("team3-doc", 1, 1, insertAt(1, 1, "b"))
	b.ack(1)
	a.submit("team3-doc", 1, 2, insertAt(1, 0, "kept "))
	if e := a.expectError(wire.CodeNotJoined); e.Seq != 2 {
		t.Fatalf("submit after expiry: %+v", e)
	}

	if got := a.refresh(long); len(got.Docs) != 0 {
		t.Fatalf("authed after the session ended: %+v, want no documents", got)
	}
	j := a.join("team3-doc", ptr(uint64(1)))
	if j.Rev != 2 || len(j.Ops) != 1 || j.Seq != 1 {
		t.Fatalf("rejoin: %+v, want rev 2 with one op, seq 1", j)
	}
	a.submit("team3-doc", 2, 2, insertAt(2, 0, "kept "))
	a.ack(2)
	if text, _ := storeText(t, srv.store, "team3-doc"); text != "kept ab" {
		t.Fatalf("text %q", text)
	}
}

// connectToken dials with a same-site Origin and says hello with token.
func connectToken(t *testing.T, ts *httptest.Server, id, token string) *tclient {
	t.Helper()
	ws, _, err := dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	c := helloToken(t, ws, id, token)
	c.expect(wire.TypeWelcome, nil)
	return c
}

// TestRefreshDowngrades: a refresh with a read token makes the session
// read-only at once (the next submit is refused read_only), and one with
// a write token gives writing back, without a rejoin.
func TestRefreshDowngrades(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	c := connectToken(t, ts, "downgraded", mint(t, authSecret, "d", PermWrite, time.Hour))
	c.join("d", nil)
	c.submit("d", 0, 1, insertAt(0, 0, "a"))
	c.ack(1)

	if a := c.refresh(mint(t, authSecret, "d", PermRead, time.Hour)); a.Perm != string(PermRead) || !slices.Equal(a.Docs, []string{"d"}) {
		t.Fatalf("authed = %+v", a)
	}
	c.submit("d", 1, 2, insertAt(1, 1, "b"))
	if e := c.expectError(wire.CodeReadOnly); e.Seq != 2 || e.Doc != "d" {
		t.Fatalf("submit after the downgrade: %+v", e)
	}
	c.refresh(mint(t, authSecret, "d", PermWrite, time.Hour))
	c.submit("d", 1, 2, insertAt(1, 1, "b"))
	c.ack(2)
}

// TestAuthOpenMode: without a secret, auth is answered authed with no
// expiry and changes nothing.
func TestAuthOpenMode(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	c := connect(t, ts, "open-auth")
	c.join("d", nil)
	if a := c.refresh("anything"); a.Exp != 0 || a.Perm != "" || len(a.Docs) != 0 {
		t.Fatalf("authed in open mode: %+v", a)
	}
	c.submit("d", 0, 1, insertAt(0, 0, "a"))
	c.ack(1)
}
