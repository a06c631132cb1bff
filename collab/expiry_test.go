package collab

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab/wire"
)

// testClock is the time a server checks tokens at, moved by the test.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *testClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// mintUntil signs a token for doc with perm that expires at exp.
func mintUntil(t *testing.T, doc string, perm Perm, exp time.Time) string {
	t.Helper()
	tok, err := MintToken(authSecret, Claims{Doc: doc, Perm: perm,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestExpiredTokenRefusedAtJoin: the token a connection presented on the
// upgrade (?token=) or in hello is checked again at every join: once it
// has expired, a join is refused with unauthorized for that document only;
// the connection stays open and a join with a new token succeeds. A
// session joined before the expiry ends at its next submit if its
// document's timer has not ended it yet (TestExpiryEndsSession). HTTP
// requests are checked each time, as before.
func TestExpiredTokenRefusedAtJoin(t *testing.T) {
	clock := newTestClock()
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, clock: clock.now})
	for _, via := range []string{"upgrade", "hello"} {
		t.Run(via, func(t *testing.T) {
			tok := mintUntil(t, "team1-*", PermWrite, clock.now().Add(time.Minute))
			var c *tclient
			if via == "upgrade" {
				ws, _, err := dialAuth(t, ts, tok)
				if err != nil {
					t.Fatal(err)
				}
				c = helloToken(t, ws, "exp-"+via, "")
			} else {
				ws, _, err := dialAuth(t, ts, "")
				if err != nil {
					t.Fatal(err)
				}
				c = helloToken(t, ws, "exp-"+via, tok)
			}
			c.expect(wire.TypeWelcome, nil)
			early := "team1-early-" + via
			c.join(early, nil)

			clock.advance(time.Minute + tokenLeeway + time.Second)
			late := "team1-late-" + via
			c.send(wire.Join{Type: wire.TypeJoin, Doc: late})
			if e := c.expectError(wire.CodeUnauthorized); e.Doc != late || !strings.Contains(e.Message, "token expired") {
				t.Fatalf("join after expiry: %+v", e)
			}
			// Joining the early document again is a new join: refused too.
			c.send(wire.Join{Type: wire.TypeJoin, Doc: early})
			c.expectError(wire.CodeUnauthorized)
			c.submit(early, 0, 1, insertAt(0, 0, "too late"))
			if e := c.expectError(wire.CodeUnauthorized); e.Doc != early || !strings.Contains(e.Message, "token expired") {
				t.Fatalf("submit after expiry: %+v", e)
			}
			if e := c.expectError(wire.CodeNotJoined); e.Seq != 1 {
				t.Fatalf("submit after expiry: %+v", e)
			}
			if code, body := apiCall(t, "GET", ts.URL+"/api/docs/"+early, tok, ""); code != http.StatusUnauthorized {
				t.Fatalf("GET with the expired token: %d %+v", code, body)
			}

			fresh := mintUntil(t, "team1-*", PermWrite, clock.now().Add(time.Minute))
			c.send(wire.Join{Type: wire.TypeJoin, Doc: late, Token: fresh})
			c.expect(wire.TypeJoined, nil)
		})
	}
}

// TestNotBeforeAtJoin: a token whose nbf is still ahead (beyond the
// leeway) is refused at a join, for that document only; the same token
// joins once the server's clock has passed it.
func TestNotBeforeAtJoin(t *testing.T) {
	clock := newTestClock()
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, clock: clock.now})
	start := clock.now().Add(time.Minute + tokenLeeway)
	tok, err := MintToken(authSecret, Claims{Doc: "team1-*", Perm: PermWrite, RegisteredClaims: jwt.RegisteredClaims{
		NotBefore: jwt.NewNumericDate(start), ExpiresAt: jwt.NewNumericDate(start.Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	c := helloToken(t, ws, "nbf", "")
	c.expect(wire.TypeWelcome, nil)
	c.send(wire.Join{Type: wire.TypeJoin, Doc: "team1-a", Token: tok})
	if e := c.expectError(wire.CodeUnauthorized); e.Doc != "team1-a" || !strings.Contains(e.Message, "not valid yet") {
		t.Fatalf("join before nbf: %+v", e)
	}
	clock.advance(time.Minute + time.Second)
	c.send(wire.Join{Type: wire.TypeJoin, Doc: "team1-a", Token: tok})
	c.expect(wire.TypeJoined, nil)
}
