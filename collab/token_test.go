package collab

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab/wire"
)

// signMap signs an arbitrary payload with secret, as a careless or hostile
// token issuer could.
func signMap(t *testing.T, secret []byte, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// putDoc creates document id with a write token.
func putDoc(t *testing.T, ts *httptest.Server, id, token string) {
	t.Helper()
	if got, body := apiCall(t, "PUT", ts.URL+"/api/docs/"+id, token, "text"); got != http.StatusOK {
		t.Fatalf("PUT %s: %d %+v", id, got, body)
	}
}

// signRaw signs payload, a JSON object written out in the order given
// (jwt.MapClaims would sort its keys).
func signRaw(t *testing.T, secret []byte, payload string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	unsigned := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload))
	sig, err := jwt.SigningMethodHS256.Sign(unsigned, secret)
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + enc(sig)
}

// TestClaimNamesExact: claim names match exactly, as JWT requires:
// "PERM" and "Doc" are unknown claims, not spellings of perm and doc.
// encoding/json alone would match them case-insensitively, and the last
// spelling would win.
func TestClaimNamesExact(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	putDoc(t, ts, "d", mint(t, authSecret, "d", PermWrite, time.Hour))
	exp := time.Now().Add(time.Hour).Unix()
	mixed := signRaw(t, authSecret, fmt.Sprintf(`{"doc":"d","perm":"read","PERM":"admin","Doc":"*","exp":%d}`, exp))
	for _, tt := range []struct {
		method, path string
		want         int
		code         string
	}{
		{"GET", "/api/docs/d", http.StatusOK, ""},
		{"PUT", "/api/docs/d", http.StatusForbidden, wire.CodeReadOnly},
		{"GET", "/api/docs/other", http.StatusForbidden, wire.CodeForbidden},
		{"GET", "/api/docs", http.StatusForbidden, wire.CodeForbidden},
		{"DELETE", "/api/docs/d", http.StatusForbidden, wire.CodeForbidden},
	} {
		if got, body := apiCall(t, tt.method, ts.URL+tt.path, mixed, "x"); got != tt.want || body.Code != tt.code {
			t.Errorf("%s %s with perm read + PERM admin: %d %q, want %d %q", tt.method, tt.path, got, body.Code, tt.want, tt.code)
		}
	}
	for name, claims := range map[string]jwt.MapClaims{
		"Doc and Perm only": {"Doc": "*", "Perm": "admin", "exp": exp},
		"EXP only":          {"doc": "d", "perm": "read", "EXP": exp},
	} {
		tok := signMap(t, authSecret, claims)
		if got, body := apiCall(t, "GET", ts.URL+"/api/docs/d", tok, ""); got != http.StatusUnauthorized {
			t.Errorf("%s: %d %q, want 401", name, got, body.Code)
		}
	}
}

// TestIssuedAtInFuture: a token issued in the future (beyond the 30 s
// leeway for clock skew) is refused; a few seconds ahead passes.
func TestIssuedAtInFuture(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	putDoc(t, ts, "d", mint(t, authSecret, "d", PermWrite, time.Hour))
	now := time.Now()
	for _, tt := range []struct {
		iat  time.Duration
		want int
	}{{-time.Minute, http.StatusOK}, {10 * time.Second, http.StatusOK}, {10 * time.Minute, http.StatusUnauthorized}} {
		tok := signMap(t, authSecret, jwt.MapClaims{"doc": "d", "perm": "read", "iat": now.Add(tt.iat).Unix(), "exp": now.Add(time.Hour).Unix()})
		if got, body := apiCall(t, "GET", ts.URL+"/api/docs/d", tok, ""); got != tt.want {
			t.Errorf("iat now%+v: %d %q, want %d", tt.iat, got, body.Code, tt.want)
		}
	}
}

// TestAudienceIssuer: with AuthAudience and AuthIssuer set, a token must
// carry both, equal to them (aud may be a list naming it); MintToken puts
// them in from Claims.
func TestAudienceIssuer(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: authSecret, AuthAudience: "collab.example", AuthIssuer: "https://app.example"})
	_, open := startServer(t, newTestStore(t), Options{AuthSecret: authSecret})
	minted := func(aud []string, iss string) string {
		tok, err := MintToken(authSecret, Claims{Doc: "d", Perm: PermWrite, RegisteredClaims: jwt.RegisteredClaims{
			Audience: aud, Issuer: iss, ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	putDoc(t, ts, "d", minted([]string{"collab.example"}, "https://app.example"))
	putDoc(t, open, "d", minted(nil, ""))
	for _, tt := range []struct {
		name string
		tok  string
		why  string // in the refusal's message; "": accepted
	}{
		{"both", minted([]string{"collab.example"}, "https://app.example"), ""},
		{"aud in a list", minted([]string{"other", "collab.example"}, "https://app.example"), ""},
		{"no aud", minted(nil, "https://app.example"), "token lacks an audience"},
		{"other aud", minted([]string{"other"}, "https://app.example"), "token for another audience"},
		{"no iss", minted([]string{"collab.example"}, ""), "token lacks an issuer"},
		{"other iss", minted([]string{"collab.example"}, "https://evil.example"), "token from another issuer"},
		{"AUD spelled in capitals", signMap(t, authSecret, jwt.MapClaims{"doc": "d", "perm": "read", "AUD": "collab.example",
			"iss": "https://app.example", "exp": time.Now().Add(time.Hour).Unix()}), "token lacks an audience"},
	} {
		got, body := apiCall(t, "GET", ts.URL+"/api/docs/d", tt.tok, "")
		if tt.why == "" && got != http.StatusOK {
			t.Errorf("%s: %d %q (%s), want 200", tt.name, got, body.Code, body.Message)
		}
		if tt.why != "" && (got != http.StatusUnauthorized || !strings.Contains(body.Message, tt.why)) {
			t.Errorf("%s: %d %q (%s), want 401 saying %q", tt.name, got, body.Code, body.Message, tt.why)
		}
		if got, _ := apiCall(t, "GET", open.URL+"/api/docs/d", tt.tok, ""); got != http.StatusOK {
			t.Errorf("%s, on a server checking neither audience nor issuer: %d, want 200", tt.name, got)
		}
	}
}
