package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mintEnv runs "collabd token" with env and returns the token it printed.
func mintEnv(t *testing.T, env []string, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	stdout = &out
	defer func() { stdout = os.Stdout }()
	if err := run(context.Background(), append([]string{"token"}, args...), env); err != nil {
		t.Fatalf("collabd token %v: %v", args, err)
	}
	return strings.TrimSpace(out.String())
}

// TestAudienceIssuerFlags: COLLAB_AUTH_AUDIENCE and COLLAB_AUTH_ISSUER
// (-auth-audience, -auth-issuer) make the server refuse tokens without
// them, and "collabd token" in the same environment mints tokens with them.
func TestAudienceIssuerFlags(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	env := []string{"COLLAB_AUTH_SECRET=" + tlsSecret, "COLLAB_AUTH_AUDIENCE=collab.test", "COLLAB_AUTH_ISSUER=https://app.test"}
	addr, wait := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-data", filepath.Join(t.TempDir(), "collab.db")}, env)
	put := func(token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/api/docs/notes", strings.NewReader("x"))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, tt := range []struct {
		name string
		env  []string
		args []string
		want int
	}{
		{"server's environment", env, nil, http.StatusOK},
		{"flags", env[:1], []string{"-audience", "collab.test", "-issuer", "https://app.test"}, http.StatusOK},
		{"secret only", env[:1], nil, http.StatusUnauthorized},
		{"other issuer", env, []string{"-issuer", "https://other.test"}, http.StatusUnauthorized},
	} {
		tok := mintEnv(t, tt.env, append([]string{"-doc", "notes", "-perm", "write"}, tt.args...)...)
		if got := put(tok); got != tt.want {
			t.Errorf("%s: PUT = %d, want %d", tt.name, got, tt.want)
		}
	}
	cancel()
	wait()
}
