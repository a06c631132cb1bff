package client_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

// startAuthServer serves a collab.Server with secret over an in-memory
// store and returns its base URL (http://…) and WebSocket URL.
func startAuthServer(t *testing.T, secret []byte) (base, ws string) {
	t.Helper()
	srv := collab.NewServer(memory.New(), collab.Options{Logger: discard, AuthSecret: secret})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return hs.URL, "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}

// mintToken is a token for doc with perm, naming name, valid for an hour.
func mintToken(t *testing.T, secret []byte, doc string, perm collab.Perm, name string) string {
	t.Helper()
	tok, err := collab.MintToken(secret, collab.Claims{Doc: doc, Perm: perm, Name: name,
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestToken: against a server with a secret, Options.Token opens the
// connection (it goes in the handshake and in hello), and a read token
// gives a read-only Doc.
func TestToken(t *testing.T) {
	secret := []byte("client-test-secret-0123456789")
	_, url := startAuthServer(t, secret)
	mint := func(perm collab.Perm) string { return mintToken(t, secret, "d", perm, "") }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := client.Dial(ctx, url, client.Options{}); err == nil {
		t.Fatal("dial without a token succeeded")
	}
	for _, tt := range []struct {
		perm     collab.Perm
		readOnly bool
	}{{collab.PermWrite, false}, {collab.PermRead, true}} {
		conn, err := client.Dial(ctx, url, client.Options{Token: mint(tt.perm)})
		if err != nil {
			t.Fatalf("%s: dial: %v", tt.perm, err)
		}
		doc, err := conn.Join(ctx, "d")
		if err != nil {
			t.Fatalf("%s: join: %v", tt.perm, err)
		}
		if doc.ReadOnly() != tt.readOnly {
			t.Fatalf("%s: ReadOnly() = %v", tt.perm, doc.ReadOnly())
		}
		if err := doc.Insert(0, "x"); tt.readOnly && !errors.Is(err, client.ErrReadOnly) {
			t.Fatalf("%s: Insert: %v, want ErrReadOnly", tt.perm, err)
		}
		conn.Close()
	}
}
