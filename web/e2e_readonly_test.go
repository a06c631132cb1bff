package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab"
)

// TestE2EReadOnly runs a server with an auth secret and three pages on one
// document: a writer, a page given a read token, and a page with the
// widget's readonly attribute (and a write token). Both readers show the
// writer's edits, their textareas are read-only, and typing into them
// changes nothing on the server.
func TestE2EReadOnly(t *testing.T) {
	browser := newBrowser(t)
	secret := []byte("e2e-readonly-secret-0123456789")
	srv := startServer(t, "127.0.0.1:0", filepath.Join(t.TempDir(), "collab.db"), collab.Options{AuthSecret: secret})
	mint := func(perm collab.Perm, name string) string {
		tok, err := collab.MintToken(secret, collab.Claims{Doc: "ro", Perm: perm, Name: name,
			RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return url.QueryEscape(tok)
	}
	write := mint(collab.PermWrite, "Ada")
	w := newTab(t, browser, srv.URL+"/d/ro?name=Ada&token="+write)
	waitJS(t, w, "writer synced", synced)
	r := newTab(t, browser, srv.URL+"/d/ro?name=Bo&token="+mint(collab.PermRead, "Bo"))
	a := newTab(t, browser, srv.URL+"/d/ro?name=Cy&readonly&token="+mint(collab.PermWrite, "Cy"))

	run(t, w, caretAt(-1), insertText("hello"))
	waitJS(t, w, "writer synced", synced+` && `+textIs("hello"))
	readers := []struct {
		name string
		tab  context.Context
	}{{"read token", r}, {"readonly attribute", a}}
	for _, rd := range readers {
		waitJS(t, rd.tab, rd.name+": shows the writer's text, read-only", textIs("hello")+
			` && (() => { `+editorJS+` return view ? view.state.readOnly && view.contentDOM.contentEditable === 'false' : ta.readOnly; })()`+
			` && document.querySelector('collab-editor').dataset.state === 'readonly'`)
		// Type as a keyboard would, then force a change past the read-only
		// flag as a script could: neither may leave the page.
		run(t, rd.tab, caretAt(-1), insertText("XYZ"), evalJS(`(() => { `+editorJS+`
			if (view) { view.dispatch({ changes: { from: 0, insert: 'overwritten' } }); return true; }
			ta.value = 'overwritten'; ta.dispatchEvent(new Event('input', { bubbles: true })); return true; })()`))
	}
	// The writer edits after the readers' attempts; the server's text and
	// every page end up with the writer's edits only.
	run(t, w, caretAt(-1), insertText("!"))
	waitJS(t, w, "writer synced", synced+` && `+textIs("hello!"))
	for _, rd := range readers {
		waitJS(t, rd.tab, rd.name+": shows the writer's new edit", textIs("hello!"))
		const sentNothing = `(() => { const c = document.querySelector('collab-editor').client;
			return c.lastSeq === 0 && !c.inflight && !c.buffer; })()`
		if got := evalString(rd.tab, `String(`+sentNothing+`)`); got != "true" {
			t.Errorf("%s: the page queued or sent edits", rd.name)
		}
	}
	if got := authedText(t, srv.URL, "ro", write); got != "hello!" {
		t.Fatalf("server text %q, want %q", got, "hello!")
	}
	// The server refused no submit either: the pages never tried.
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if strings.Contains(string(metrics), `code="read_only"`) {
		t.Errorf("a read-only page submitted an edit:\n%s", metrics)
	}
}

// authedText reads a document's text over the API with a bearer token.
func authedText(t *testing.T, base, id, escapedToken string) string {
	t.Helper()
	tok, _ := url.QueryUnescape(escapedToken)
	req, _ := http.NewRequest("GET", base+"/api/docs/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("GET %s: %d %s", id, res.StatusCode, strings.TrimSpace(string(b)))
	}
	var body struct{ Text string }
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Text
}
