package web_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/collabd/collab/web"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	tests := []struct {
		path       string
		wantStatus int
		wantType   string
		wantCORS   bool
		wantBody   string
	}{
		{"/", 200, "text/html; charset=utf-8", false, "<h1>Documents</h1>"},
		{"/d/notes", 200, "text/html; charset=utf-8", false, `src="/js/doc-page.js"`},
		{"/d/a.b-c_D9", 200, "text/html; charset=utf-8", false, "doc-page.js"},
		{"/d/" + strings.Repeat("x", 129), 404, "text/html; charset=utf-8", false, `<a href="/">See all documents</a>`},
		{"/d/no%20spaces", 404, "text/html; charset=utf-8", false, `<link rel="stylesheet" href="/css/site.css">`},
		{"/embed/has%20space", 404, "text/html; charset=utf-8", false, "This link does not name a document"},
		{"/embed/notes", 200, "text/html; charset=utf-8", false, "embed-page.js"},
		{"/collab.js", 200, "text/javascript; charset=utf-8", true, "customElements.define"},
		{"/js/client.js", 200, "text/javascript; charset=utf-8", true, "class DocClient"},
		{"/js/ot.js", 200, "text/javascript; charset=utf-8", true, "export function transform"},
		{"/css/collab.css", 200, "text/css; charset=utf-8", true, "collab-editor"},
		{"/js/codemirror.js", 200, "text/javascript; charset=utf-8", true, "export function collab"},
		{"/vendor/codemirror.js", 200, "text/javascript; charset=utf-8", true, "EditorView"},
		{"/vendor/codemirror.LICENSES.txt", 200, "text/plain; charset=utf-8", true, "==== @codemirror/view@"},
		{"/ws", 404, "", false, ""},
		{"/api/docs", 404, "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, err := http.Get(srv.URL + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d", res.StatusCode, tt.wantStatus)
			}
			if tt.wantType != "" && res.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", res.Header.Get("Content-Type"), tt.wantType)
			}
			if got := res.Header.Get("Access-Control-Allow-Origin") == "*"; got != tt.wantCORS {
				t.Errorf("Access-Control-Allow-Origin = %q, want CORS %v", res.Header.Get("Access-Control-Allow-Origin"), tt.wantCORS)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body does not contain %q", tt.wantBody)
			}
		})
	}
}

func TestAssetCaching(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/collab.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	etag := res.Header.Get("ETag")
	if etag == "" || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=") {
		t.Fatalf("ETag = %q, Cache-Control = %q: want both", etag, res.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/collab.js", nil)
	req.Header.Set("If-None-Match", etag)
	req.Header.Set("Origin", "http://other.example")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation status = %d, want 304", res.StatusCode)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("304 lacks Access-Control-Allow-Origin")
	}
	page, err := http.Get(srv.URL + "/d/x")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if got := page.Header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("page Cache-Control = %q, want no-cache", got)
	}
}

func TestValidDocID(t *testing.T) {
	for id, want := range map[string]bool{
		"notes": true, "a.b-c_9": true, strings.Repeat("z", 128): true,
		"": false, strings.Repeat("z", 129): false, "a b": false, "é": false, "a/b": false,
	} {
		if got := web.ValidDocID(id); got != want {
			t.Errorf("ValidDocID(%q) = %v, want %v", id, got, want)
		}
	}
}

// TestPagePolicy: every page carries the Content-Security-Policy (own
// origin only, nothing inline); /embed pages may be framed by
// Options.FrameAncestors, other pages by collab's own pages only; sources
// that could change the rest of the policy are refused.
func TestPagePolicy(t *testing.T) {
	const base = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors "
	embedding, err := web.NewHandler(web.Options{FrameAncestors: []string{"'self'", "https://app.example", "https://*.example.com:8443", "http://localhost:*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		h         http.Handler
		path      string
		ancestors string // "": no policy
	}{
		{web.Handler(), "/", "'self'"},
		{web.Handler(), "/d/notes", "'self'"},
		{web.Handler(), "/embed/notes", "'self'"},
		{web.Handler(), "/collab.js", ""},
		{embedding, "/", "'self'"},
		{embedding, "/d/notes", "'self'"},
		{embedding, "/embed/notes", "'self' https://app.example https://*.example.com:8443 http://localhost:*"},
		{embedding, "/embed/no%20spaces", "'self'"}, // the 404 page is not for frames
	} {
		rec := httptest.NewRecorder()
		tt.h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		want := ""
		if tt.ancestors != "" {
			want = base + tt.ancestors
		}
		wantCode := 200
		if strings.Contains(tt.path, "%20") {
			wantCode = 404
		}
		if got := rec.Header().Get("Content-Security-Policy"); rec.Code != wantCode || got != want {
			t.Errorf("%s: %d, Content-Security-Policy %q, want %q", tt.path, rec.Code, got, want)
		}
	}
	for _, bad := range [][]string{
		{"https://app.example; script-src *"}, {"https://app.example script-src"}, {"'unsafe-inline'"},
		{"https://app.example/path"}, {"app.example"}, {""}, {"'none'", "https://app.example"}, {"https://app.example:80a"},
	} {
		if _, err := web.NewHandler(web.Options{FrameAncestors: bad}); !errors.Is(err, web.ErrFrameAncestor) {
			t.Errorf("NewHandler(FrameAncestors: %q) = %v, want ErrFrameAncestor", bad, err)
		}
	}
	for _, good := range [][]string{{"*"}, {"'none'"}, {"https:"}, {"https://app.example:8443"}} {
		if _, err := web.NewHandler(web.Options{FrameAncestors: good}); err != nil {
			t.Errorf("NewHandler(FrameAncestors: %q): %v", good, err)
		}
	}
}
