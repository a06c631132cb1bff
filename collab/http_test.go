package collab

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

func do(t *testing.T, method, url, body string) (*http.Response, []byte) {
	t.Helper()
	return doToken(t, method, url, "", body)
}

// doToken is do with a bearer token, unless token is empty.
func doToken(t *testing.T, method, url, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

func wantStatus(t *testing.T, res *http.Response, body []byte, status int, code string) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d (%s), want %d", res.Request.Method, res.Request.URL, res.StatusCode, body, status)
	}
	if code != "" {
		var e wire.ErrorBody
		if err := json.Unmarshal(body, &e); err != nil || e.Code != code {
			t.Fatalf("%s %s: body %s, want code %q", res.Request.Method, res.Request.URL, body, code)
		}
	}
}

// TestHTTPAPI: the document endpoints, their errors, and PUT going through
// the owner so a live editor's concurrent edit and caret survive.
func TestHTTPAPI(t *testing.T) {
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{MaxDocSize: 1000})
	api := ts.URL + "/api/docs/"

	res, body := do(t, "GET", api+"memo", "")
	wantStatus(t, res, body, 404, wire.CodeNotFound)
	res, body = do(t, "GET", api+"bad%20id", "")
	wantStatus(t, res, body, 400, wire.CodeInvalidDocID)
	res, body = do(t, "PUT", api+"memo", "Hello world")
	wantStatus(t, res, body, 200, "")
	var dr wire.DocRev
	json.Unmarshal(body, &dr)
	if dr.Rev != 1 || dr.ID != "memo" {
		t.Fatalf("PUT = %s", body)
	}

	// A live editor types at rev 1 while an HTTP PUT based on rev 1 lands.
	ed := connect(t, ts, "ed")
	ed.join("memo", nil)
	ed.send(wire.Presence{Type: wire.TypePresence, Doc: "memo", Rev: 1, Anchor: 11, Head: 11})
	ed.submit("memo", 1, 1, insertAt(11, 11, "!"))
	ed.ack(1)
	res, body = do(t, "PUT", api+"memo?base=1", "Hello, world")
	wantStatus(t, res, body, 200, "")
	json.Unmarshal(body, &dr)
	if dr.Rev != 3 {
		t.Fatalf("PUT rev %d, want 3", dr.Rev)
	}
	var op wire.Op
	ed.expect(wire.TypeOp, &op)
	if op.Rev != 3 || op.Client != "" {
		t.Fatalf("editor got %+v, want the HTTP edit as rev 3", op)
	}
	res, body = do(t, "GET", api+"memo", "")
	wantStatus(t, res, body, 200, "")
	var dt wire.DocText
	json.Unmarshal(body, &dt)
	if dt.Text != "Hello, world!" || dt.Rev != 3 {
		t.Fatalf("GET = %+v, want the editor's ! kept", dt)
	}
	res, body = do(t, "PUT", api+"memo?base=9", "x")
	wantStatus(t, res, body, 409, wire.CodeFutureRev)
	res, body = do(t, "PUT", api+"memo", strings.Repeat("x", 1001))
	wantStatus(t, res, body, 413, wire.CodeDocTooLarge)
	if got := limitHits(t, srv, limitDocSize); got != 1 {
		t.Fatalf("collab_limit_hits_total{limit=doc_size} = %v, want 1", got)
	}
	res, body = do(t, "PUT", api+"memo", "\xff")
	wantStatus(t, res, body, 400, wire.CodeBadMessage)

	// History and old texts.
	res, body = do(t, "GET", api+"memo/ops?from=1&to=3", "")
	wantStatus(t, res, body, 200, "")
	var ol wire.OpList
	json.Unmarshal(body, &ol)
	if len(ol.Ops) != 2 || ol.Ops[0].Rev != 2 || ol.Ops[0].Client != wire.PublicID("ed") || ol.Ops[0].Time.IsZero() || string(ol.Ops[0].Op) != `[11,"!"]` {
		t.Fatalf("ops = %s", body)
	}
	res, body = do(t, "GET", api+"memo/text?rev=1", "")
	wantStatus(t, res, body, 200, "")
	json.Unmarshal(body, &dt)
	if dt.Text != "Hello world" || dt.Rev != 1 {
		t.Fatalf("text at 1 = %+v", dt)
	}
	res, body = do(t, "GET", api+"memo/text?rev=x", "")
	wantStatus(t, res, body, 400, wire.CodeBadMessage)

	// Listing, paginated; lengths in code points.
	for _, id := range []string{"a", "b", "c"} {
		res, body = do(t, "PUT", api+id, id+"😀é")
		wantStatus(t, res, body, 200, "")
	}
	var ids []string
	after := ""
	for {
		res, body = do(t, "GET", ts.URL+"/api/docs?limit=2&after="+after, "")
		wantStatus(t, res, body, 200, "")
		var dl wire.DocList
		json.Unmarshal(body, &dl)
		for _, d := range dl.Docs {
			ids = append(ids, d.ID)
			if want := len([]rune(d.ID + "😀é")); d.ID != "memo" && d.Length != want {
				t.Errorf("%s: length %d, want %d code points", d.ID, d.Length, want)
			}
		}
		if dl.Next == "" {
			break
		}
		after = dl.Next
	}
	if strings.Join(ids, ",") != "a,b,c,memo" {
		t.Fatalf("listed %v", ids)
	}

	// Deleting sends the editor away and unloads.
	res, body = do(t, "DELETE", api+"memo", "")
	wantStatus(t, res, body, 204, "")
	if e := ed.expectError(wire.CodeNotFound); e.Doc != "memo" || e.Seq != 0 || e.By != "" || e.Message != "collab: document deleted" {
		t.Fatalf("deletion told as %+v, want not_found for memo saying it was deleted", e)
	}
	res, body = do(t, "GET", api+"memo", "")
	wantStatus(t, res, body, 404, wire.CodeNotFound)
	res, body = do(t, "DELETE", api+"memo", "")
	wantStatus(t, res, body, 404, wire.CodeNotFound)
	ed.submit("memo", 3, 2, insertAt(13, 0, "x"))
	ed.expectError(wire.CodeNotJoined)
	// Rejoining the deleted document starts it afresh.
	if j := ed.join("memo", nil); j.Rev != 0 || *j.Text != "" {
		t.Fatalf("rejoined deleted doc: %+v", j)
	}

	res, body = do(t, "GET", ts.URL+"/healthz", "")
	wantStatus(t, res, body, 200, "")
	res, body = do(t, "GET", ts.URL+"/metrics", "")
	wantStatus(t, res, body, 200, "")
	for _, m := range []string{"collab_connections", "collab_loaded_documents", "collab_ops_applied_total", "collab_submit_to_ack_seconds", "collab_commit_seconds", "collab_errors_total"} {
		if !bytes.Contains(body, []byte(m)) {
			t.Errorf("/metrics lacks %s", m)
		}
	}
}

// TestOrigin: cross-origin upgrades are refused unless allowed.
func TestOrigin(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{AllowedOrigins: []string{"https://app.example.com"}})
	self := ts.URL
	tests := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{self, true},
		{"https://app.example.com", true},
		{"http://app.example.com", false},
		{"https://app.example.com:8443", false},
		{"https://evil.example.com", false},
		{strings.Replace(self, "127.0.0.1", "localhost", 1), false},
		{"null", false},
	}
	for _, tt := range tests {
		hdr := http.Header{}
		if tt.origin != "" {
			hdr.Set("Origin", tt.origin)
		}
		ws, res, err := dialRaw(t, ts, hdr)
		if tt.ok {
			if err != nil {
				t.Errorf("origin %q: %v, want allowed", tt.origin, err)
				continue
			}
			ws.Close()
			continue
		}
		if err == nil {
			ws.Close()
			t.Errorf("origin %q allowed, want 403", tt.origin)
			continue
		}
		if res == nil || res.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tt.origin, err)
		}
	}
}

func TestValidDocID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "notes-2024_v1.txt": true, strings.Repeat("a", 128): true,
		"": false, strings.Repeat("a", 129): false, "a b": false, "a/b": false, "é": false, ".": false, "..": false, "a%2F": false,
	} {
		if got := storage.ValidDocID(id); got != want {
			t.Errorf("ValidDocID(%q) = %v, want %v", id, got, want)
		}
	}
}

var _ = httptest.NewServer
