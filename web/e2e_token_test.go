package web_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage"
)

// giveTokens sets the widget's getToken to hand out tokens, one per call,
// and records the widget's states in window.states.
func giveTokens(t *testing.T, tab context.Context, tokens ...string) {
	t.Helper()
	run(t, tab, evalJS(fmt.Sprintf(`(() => {
		window.tokens = %s; window.calls = 0; window.states = [];
		const ed = document.querySelector('collab-editor');
		ed.addEventListener('collab-status', (e) => window.states.push(e.detail.state));
		ed.getToken = async () => { window.calls++; return window.tokens.shift(); };
		return true; })()`, jsArray(tokens))))
}

func jsArray(ss []string) string {
	out := "["
	for i, s := range ss {
		if i > 0 {
			out += ","
		}
		out += jsString(s)
	}
	return out + "]"
}

// TestE2EGetToken: in Chromium, the widget's getToken renews a token about
// to expire on the open connection (no reconnect: the page never goes
// offline), and the renewed token, allowing reading only, makes the
// editor read-only at once. On another page whose token is revoked while
// it edits, getToken gives a new one, the page joins again and its edit
// reaches the server once.
func TestE2EGetToken(t *testing.T) {
	browser := newBrowser(t)
	secret := []byte("e2e-token-secret-0123456789abc")
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AuthSecret: secret})
	mint := func(perm collab.Perm, jti string, ttl time.Duration) string {
		tok, err := collab.MintToken(secret, collab.Claims{Doc: "lt", Perm: perm, Name: "Ada",
			RegisteredClaims: jwt.RegisteredClaims{ID: jti, ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl))}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}

	// Renewed before expiry, with a read token.
	short := mint(collab.PermWrite, "", 4*time.Second)
	a := newTab(t, browser, srv.URL+"/d/lt?name=Ada&token="+url.QueryEscape(short))
	waitJS(t, a, "first page synced", synced)
	giveTokens(t, a, mint(collab.PermRead, "", time.Hour))
	waitJS(t, a, "read-only after the renewal", `window.calls === 1 && (() => { `+editorJS+
		` return view.state.readOnly && ed.dataset.state === 'readonly'; })()`)
	if got := evalString(a, `JSON.stringify(window.states)`); got != `["readonly"]` {
		t.Fatalf("states during the renewal: %s, want readonly only (no reconnect)", got)
	}

	// Revoked while editing: a new token, a rejoin, the edit kept.
	revoked := mint(collab.PermWrite, "e2e-revoked", time.Hour)
	b := newTab(t, browser, srv.URL+"/d/lt?name=Bo&token="+url.QueryEscape(revoked))
	waitJS(t, b, "second page synced", synced)
	giveTokens(t, b, mint(collab.PermWrite, "e2e-fresh", time.Hour))
	run(t, b, caretAt(-1), insertText("hello"))
	waitJS(t, b, "second page saved hello", synced+` && `+textIs("hello"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.collab.Revoke(ctx, storage.Revocation{ID: "e2e-revoked", Until: time.Now().Add(time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}
	run(t, b, caretAt(-1), insertText(" again"))
	waitJS(t, b, "second page renewed its token and saved", `window.calls === 1 && `+synced+` && `+textIs("hello again"))
	if got := authedText(t, srv.URL, "lt", url.QueryEscape(mint(collab.PermRead, "", time.Hour))); got != "hello again" {
		t.Fatalf("server text %q", got)
	}
	waitJS(t, a, "the read-only page shows it", textIs("hello again"))
}
