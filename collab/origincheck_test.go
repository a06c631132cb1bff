package collab

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// TestOriginCheckEndpoint: GET /api/origin-check tells any page, without
// a token, whether its own origin may open a WebSocket and what the
// operator sets to allow it; it is readable cross-origin without
// credentials and names no other allowed origin.
func TestOriginCheckEndpoint(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	_, ts := startServer(t, newTestStore(t), Options{AllowedOrigins: []string{"https://app.example.com"}, AuthSecret: secret})
	tests := []struct {
		origin string
		want   wire.OriginCheck
	}{
		{"", wire.OriginCheck{Allowed: true}},
		{ts.URL, wire.OriginCheck{Allowed: true, Origin: ts.URL}},
		{"https://app.example.com", wire.OriginCheck{Allowed: true, Origin: "https://app.example.com"}},
		{"HTTPS://App.Example.com", wire.OriginCheck{Allowed: true, Origin: "https://app.example.com"}},
		{"http://localhost:8099", wire.OriginCheck{Origin: "http://localhost:8099", Setting: "-allowed-origins"}},
		{"https://app.example.com:8443", wire.OriginCheck{Origin: "https://app.example.com:8443", Setting: "-allowed-origins"}},
		{"null", wire.OriginCheck{}},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", ts.URL+"/api/origin-check", nil)
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var got wire.OriginCheck
		if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("origin %q: %d %s", tt.origin, res.StatusCode, body)
		}
		if got != tt.want {
			t.Errorf("origin %q: %+v, want %+v", tt.origin, got, tt.want)
		}
		if h := res.Header; h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("origin %q: CORS headers %v, want * without credentials", tt.origin, h)
		}
		if !got.Allowed && strings.Contains(string(body), "app.example.com\"") {
			t.Errorf("origin %q: the answer names an allowed origin: %s", tt.origin, body)
		}
		// The answer agrees with the upgrade.
		hdr := http.Header{}
		if tt.origin != "" {
			hdr.Set("Origin", tt.origin)
			hdr.Set("Authorization", "Bearer "+mint(t, secret, "*", PermRead, time.Hour))
		}
		ws, res, err := dialRaw(t, ts, hdr)
		if tt.origin == "" {
			continue // without a token: refused for its token, not its origin
		}
		if (err == nil) != tt.want.Allowed {
			t.Errorf("origin %q: upgrade err %v, check says allowed=%v", tt.origin, err, tt.want.Allowed)
		}
		if err == nil {
			ws.Close()
		} else if res != nil && res.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: upgrade refused with %d, want 403", tt.origin, res.StatusCode)
		}
	}
}

// TestCheckOrigins: entries that are not scheme://host[:port] are refused
// with a message giving the accepted form and, where it can guess, the
// entry meant.
func TestCheckOrigins(t *testing.T) {
	for _, ok := range []string{"https://app.example.com", "http://localhost:8099", "http://localhost:8099/", " https://a.example "} {
		if err := CheckOrigins([]string{ok}); err != nil {
			t.Errorf("%q: %v, want accepted", ok, err)
		}
	}
	for bad, hint := range map[string]string{
		"localhost:8099":           "http://localhost:8099",
		"app.example.com":          "http://app.example.com",
		"*":                        "scheme://host[:port]",
		"https://a.example/path":   "scheme://host[:port]",
		"ftp://a.example":          "scheme://host[:port]",
		"https://":                 "scheme://host[:port]",
		"https://u:p@a.example":    "scheme://host[:port]",
		"https://a.example?x=1#go": "scheme://host[:port]",
	} {
		err := CheckOrigins([]string{"https://fine.example", bad})
		if err == nil || !strings.Contains(err.Error(), "scheme://host[:port]") || !strings.Contains(err.Error(), hint) {
			t.Errorf("%q: %v, want the form and %q", bad, err, hint)
		}
	}
}
