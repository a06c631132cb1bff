package collab

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestOpenModeWarning: a server without a secret warns, at start, that
// anyone reaching it can list, read, write and delete every document; one
// with a secret does not.
func TestOpenModeWarning(t *testing.T) {
	for _, secret := range [][]byte{nil, authSecret} {
		var logBuf syncBuffer
		startServer(t, newTestStore(t), Options{AuthSecret: secret, Logger: slog.New(slog.NewTextHandler(&logBuf, nil))})
		warned := strings.Contains(logBuf.String(), "anyone who can reach this server can list, read, write and delete every document")
		if warned != (secret == nil) {
			t.Errorf("secret %v: warned %v; log:\n%s", secret != nil, warned, logBuf.String())
		}
	}
}

// TestAPINoCORS: /api answers no cross-origin request with CORS headers,
// so a page on another site can neither read its answers nor pass a
// preflight for PUT or DELETE, even in open mode.
func TestAPINoCORS(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	for _, method := range []string{"GET", "OPTIONS"} {
		req, _ := http.NewRequest(method, ts.URL+"/api/docs", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Access-Control-Request-Method", "DELETE")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		for k := range res.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s /api/docs from another origin: %s: %s", method, k, res.Header.Get(k))
			}
		}
	}
}
