package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

var tokenSecret = []byte("client-token-secret-0123456789")

// tokenFor signs a token for doc "d" with perm, id jti, expiring at exp.
func tokenFor(t *testing.T, perm collab.Perm, jti string, exp time.Time) string {
	t.Helper()
	tok, err := collab.MintToken(tokenSecret, collab.Claims{Doc: "d", Perm: perm,
		RegisteredClaims: jwt.RegisteredClaims{ID: jti, ExpiresAt: jwt.NewNumericDate(exp)}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// startTokenServer serves a collab.Server with tokenSecret over store.
func startTokenServer(t *testing.T, store storage.Store) (*collab.Server, string) {
	t.Helper()
	srv := collab.NewServer(store, collab.Options{Logger: discard, AuthSecret: tokenSecret})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

// waitEvent reads d's events until one of kind.
func waitEvent(t *testing.T, ctx context.Context, d *client.Doc, kind client.EventKind) client.Event {
	t.Helper()
	for {
		select {
		case ev := <-d.Events():
			if ev.Kind == kind {
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("no %s event: %v", kind, ctx.Err())
		}
	}
}

// TestTokenFunc: with Options.TokenFunc the connection gets its token
// from it, and before that token expires a new one, given on the open
// connection (no redial: TokenFunc is called twice in all). The new one
// grants reading only: the Doc becomes read-only at once (EventAccess).
func TestTokenFunc(t *testing.T) {
	_, url := startTokenServer(t, memory.New())
	var calls atomic.Int32
	tokens := func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return tokenFor(t, collab.PermWrite, "", time.Now().Add(2*time.Second)), nil
		}
		return tokenFor(t, collab.PermRead, "", time.Now().Add(time.Hour)), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, url, client.Options{TokenFunc: tokens})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	doc, err := conn.Join(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Insert(0, "a"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ctx, doc, client.EventAccess)
	if !doc.ReadOnly() {
		t.Fatal("not read-only after a refresh with a read token")
	}
	if err := doc.Insert(0, "b"); !errors.Is(err, client.ErrReadOnly) {
		t.Fatalf("Insert after the downgrade: %v", err)
	}
	if n := calls.Load(); n != 2 || conn.Status() != client.StatusOnline {
		t.Fatalf("TokenFunc called %d times, status %v: want 2, online", n, conn.Status())
	}
}

// TestTokenFuncAfterRevocation: when the server ends a document's session
// for its token (here revoked), the Doc gets a new token from TokenFunc,
// rejoins and sends the edits it kept; without TokenFunc it ends with
// unauthorized, its text still readable.
func TestTokenFuncAfterRevocation(t *testing.T) {
	store := memory.New()
	srv, url := startTokenServer(t, store)
	var calls atomic.Int32
	tokens := func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return tokenFor(t, collab.PermWrite, "first", time.Now().Add(time.Hour)), nil
		}
		return tokenFor(t, collab.PermWrite, "second", time.Now().Add(time.Hour)), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := client.Dial(ctx, url, client.Options{TokenFunc: tokens})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fixed, err := client.Dial(ctx, url, client.Options{Token: tokenFor(t, collab.PermWrite, "fixed", time.Now().Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	defer fixed.Close()
	doc, err := conn.Join(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	other, err := fixed.Join(ctx, "d")
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour).Unix()
	for _, jti := range []string{"first", "fixed"} {
		if err := srv.Revoke(ctx, storage.Revocation{ID: jti, Until: until}); err != nil {
			t.Fatal(err)
		}
	}
	if err := doc.Insert(0, "kept"); err != nil {
		t.Fatal(err)
	}
	if err := doc.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.Load(ctx, "d"); got.Text != "kept" {
		t.Fatalf("stored text %q", got.Text)
	}
	if calls.Load() != 2 {
		t.Fatalf("TokenFunc called %d times, want 2", calls.Load())
	}

	<-waitDone(ctx, other)
	var se *client.ServerError
	if !errors.As(other.Err(), &se) || se.Code != "unauthorized" {
		t.Fatalf("Doc without TokenFunc: Err = %v, want unauthorized", other.Err())
	}
}

// waitDone is closed when d ended or ctx did.
func waitDone(ctx context.Context, d *client.Doc) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for d.Err() == nil && ctx.Err() == nil {
			select {
			case <-d.Events():
			case <-ctx.Done():
			}
		}
	}()
	return done
}
