package collab

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/memory"
)

// backupStore is a memory.Store that can back up (a fixed body).
type backupStore struct{ *memory.Store }

func (backupStore) Backup(w io.Writer) (int64, error) {
	n, err := io.WriteString(w, "database")
	return int64(n), err
}

// request sends method path to ts with the headers hdr ("Host" sets the
// Host) and returns the status and the error body's code.
func request(t *testing.T, ts *httptest.Server, method, path string, hdr map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var body wire.ErrorBody
	if res.StatusCode >= 400 {
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("%s %s: %d with body %q", method, path, res.StatusCode, data)
		}
	}
	return res.StatusCode, body.Code
}

// TestDNSRebinding: in open mode, a page whose name was re-pointed at the
// server (Host and Origin both rebind.evil.test) can neither upgrade, nor
// list, nor back up; the server's own names and loopback still work.
func TestDNSRebinding(t *testing.T) {
	srv, ts := startServer(t, backupStore{memory.New()}, Options{AllowedHosts: []string{"collab.example"}})
	evil := map[string]string{"Host": "rebind.evil.test", "Origin": "http://rebind.evil.test"}
	for _, tt := range []struct{ method, path string }{
		{"GET", "/api/docs"},
		{"GET", "/api/docs/d"},
		{"PUT", "/api/docs/d"},
		{"POST", "/api/admin/backup"},
		{"GET", "/metrics"},
	} {
		if code, body := request(t, ts, tt.method, tt.path, evil); code != http.StatusMisdirectedRequest || body != wire.CodeHostNotAllowed {
			t.Errorf("%s %s on a foreign host: %d %s, want 421 %s", tt.method, tt.path, code, body, wire.CodeHostNotAllowed)
		}
	}
	hdr := http.Header{"Origin": {"http://rebind.evil.test"}, "Host": {"rebind.evil.test"}}
	upgradeRefused(t, ts, hdr, http.StatusMisdirectedRequest, wire.CodeHostNotAllowed)
	if got := limitHits(t, srv, limitHost); got != 6 {
		t.Errorf("collab_limit_hits_total{limit=host} = %v, want 6", got)
	}
	if code, _ := request(t, ts, "GET", "/healthz", evil); code != http.StatusOK {
		t.Errorf("/healthz on a foreign host: %d, want 200", code)
	}
	for _, host := range []string{"localhost", "LOCALHOST:8080", "app.localhost", "127.0.0.1:1", "[::1]:8080", "collab.example", "Collab.Example.:443"} {
		if code, body := request(t, ts, "GET", "/api/docs", map[string]string{"Host": host}); code != http.StatusOK {
			t.Errorf("Host %q: %d %s, want 200", host, code, body)
		}
	}
	for _, host := range []string{"collab.example.evil", "evil.collab.example", "localhost.evil.test", "127.0.0.1.evil.test", "10.0.0.1"} {
		if code, _ := request(t, ts, "GET", "/api/docs", map[string]string{"Host": host}); code != http.StatusMisdirectedRequest {
			t.Errorf("Host %q: %d, want 421", host, code)
		}
	}
}

// TestHostBehindProxy: behind a trusted proxy the host checked is the last
// X-Forwarded-Host; "*" turns the check off.
func TestHostBehindProxy(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{AllowedHosts: []string{"collab.example"}, TrustProxy: true})
	for _, tt := range []struct {
		fwd  string
		want int
	}{
		{"collab.example", http.StatusOK},
		{"evil.test, collab.example", http.StatusOK},
		{"rebind.evil.test", http.StatusMisdirectedRequest},
		{"collab.example, rebind.evil.test", http.StatusMisdirectedRequest},
	} {
		if code, _ := request(t, ts, "GET", "/api/docs", map[string]string{"X-Forwarded-Host": tt.fwd}); code != tt.want {
			t.Errorf("X-Forwarded-Host %q: %d, want %d", tt.fwd, code, tt.want)
		}
	}
	_, any := startServer(t, memory.New(), Options{AllowedHosts: []string{"*"}})
	if code, _ := request(t, any, "GET", "/api/docs", map[string]string{"Host": "whatever.example"}); code != http.StatusOK {
		t.Errorf("AllowedHosts *: %d, want 200", code)
	}
}

// TestBackupLocalOnly: without a secret, backup answers a program on this
// machine that addressed it by a loopback name, and not a client of a
// reverse proxy on this machine, which is a loopback peer too.
func TestBackupLocalOnly(t *testing.T) {
	_, ts := startServer(t, backupStore{memory.New()}, Options{AllowedHosts: []string{"collab.example"}})
	_, trusting := startServer(t, backupStore{memory.New()}, Options{AllowedHosts: []string{"collab.example"}, TrustProxy: true})
	tests := []struct {
		name string
		ts   *httptest.Server
		hdr  map[string]string
		want int
	}{
		{"local", ts, nil, http.StatusOK},
		{"localhost", ts, map[string]string{"Host": "localhost:8080"}, http.StatusOK},
		{"proxy keeping the public Host", ts, map[string]string{"Host": "collab.example"}, http.StatusForbidden},
		{"proxy adding X-Forwarded-For", ts, map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusForbidden},
		{"proxy adding Forwarded", ts, map[string]string{"Forwarded": "for=203.0.113.9"}, http.StatusForbidden},
		{"proxy adding X-Real-IP", ts, map[string]string{"X-Real-IP": "203.0.113.9"}, http.StatusForbidden},
		{"proxy adding Via", ts, map[string]string{"Via": "1.1 nginx"}, http.StatusForbidden},
		{"trusted proxy, remote client", trusting, map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "localhost"}, http.StatusForbidden},
		{"trusted proxy, remote client, public host", trusting, map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "collab.example"}, http.StatusForbidden},
		{"trusted proxy, local client", trusting, map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": "localhost"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, body := request(t, tt.ts, "POST", "/api/admin/backup", tt.hdr); code != tt.want {
				t.Fatalf("backup: %d %s, want %d", code, body, tt.want)
			}
		})
	}
}

// TestCanonName: ports, brackets, a final dot and case do not matter.
func TestCanonName(t *testing.T) {
	for in, want := range map[string]string{
		"Collab.Example:8080": "collab.example",
		"collab.example.":     "collab.example",
		"[::1]:80":            "::1",
		"[::1]":               "::1",
		" 127.0.0.1 ":         "127.0.0.1",
		"":                    "",
	} {
		if got := canonName(in); got != want {
			t.Errorf("canonName(%q) = %q, want %q", in, got, want)
		}
	}
}
