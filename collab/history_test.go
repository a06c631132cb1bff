package collab

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/storage/memory"
)

func openDB(t *testing.T, path string, opts bolt.Options) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// getJSON GETs url with token, wants status 200 and decodes the body into v.
func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	res, body := doToken(t, "GET", url, token, "")
	wantStatus(t, res, body, http.StatusOK, "")
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %s: %v", url, body, err)
	}
}

// TestHistoryAuthors: the authorship of the head and of older revisions,
// with public ids and names, start offsets in code points, and the
// endpoint's errors.
func TestHistoryAuthors(t *testing.T) {
	historyAuthors(t, openDB(t, filepath.Join(t.TempDir(), "docs.db"), bolt.Options{}))
}

func historyAuthors(t *testing.T, st storage.Store) {
	_, ts := startServer(t, st, Options{})
	api := ts.URL + "/api/docs/memo/"
	res, body := do(t, "PUT", ts.URL+"/api/docs/memo", "héllo")
	wantStatus(t, res, body, 200, "")
	ed := connect(t, ts, "ed")
	ed.join("memo", nil)
	ed.submit("memo", 1, 1, insertAt(5, 2, "😀😀"))
	ed.ack(1)

	var a wire.Authors
	getJSON(t, api+"authors", "", &a)
	pub := wire.PublicID("ed")
	want := []wire.AuthorSpan{span(0, 2, "", ""), span(2, 2, pub, "name-ed"), span(4, 3, "", "")}
	if a.ID != "memo" || a.Rev != 2 || !equalSpans(a.Spans, want) {
		t.Fatalf("authors = %+v, want rev 2 %+v", a, want)
	}
	getJSON(t, api+"authors?rev=1", "", &a)
	if a.Rev != 1 || !equalSpans(a.Spans, []wire.AuthorSpan{span(0, 5, "", "")}) {
		t.Fatalf("authors at 1 = %+v", a)
	}
	getJSON(t, api+"authors?rev=0", "", &a)
	if a.Rev != 0 || a.Spans == nil || len(a.Spans) != 0 {
		t.Fatalf("authors at 0 = %+v, want no spans", a)
	}
	res, body = do(t, "GET", api+"authors?rev=3", "")
	wantStatus(t, res, body, http.StatusConflict, wire.CodeFutureRev)
	res, body = do(t, "GET", api+"authors?rev=-1", "")
	wantStatus(t, res, body, http.StatusBadRequest, wire.CodeBadMessage)
	res, body = do(t, "GET", ts.URL+"/api/docs/none/authors", "")
	wantStatus(t, res, body, http.StatusNotFound, wire.CodeNotFound)
}

func equalSpans(a, b []wire.AuthorSpan) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHistoryVersions: naming needs write and listing read; a named
// version keeps its text when pruning cuts the history past it and across
// a restart; removing the name, and the endpoints' errors.
func TestHistoryVersions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "docs.db")
	opts := bolt.Options{SnapshotEvery: 2, KeepOps: 2}
	st := openDB(t, path, opts)
	srv, ts := startServer(t, st, Options{AuthSecret: authSecret})
	// restart closes the store, which snapshots and prunes as it closes.
	restart := func() {
		ts.Close()
		srv.Shutdown(t.Context())
		st.Close()
		st = openDB(t, path, opts)
		srv, ts = startServer(t, st, Options{AuthSecret: authSecret})
	}
	read, write := mint(t, authSecret, "d", PermRead, time.Hour), mint(t, authSecret, "d", PermWrite, time.Hour)
	put := func(text string) {
		t.Helper()
		res, body := doToken(t, "PUT", ts.URL+"/api/docs/d", write, text)
		wantStatus(t, res, body, 200, "")
	}
	put("one")
	api := ts.URL + "/api/docs/d/"
	res, body := doToken(t, "POST", api+"versions", write, `{"name":"first draft","rev":1}`)
	wantStatus(t, res, body, 200, "")
	var v wire.VersionInfo
	json.Unmarshal(body, &v)
	if v.ID != "d" || v.Rev != 1 || v.Name != "first draft" || v.Author != "Tok write" || time.Since(v.Created) > time.Hour || v.Created.After(time.Now()) {
		t.Fatalf("POST versions = %s", body)
	}
	put("one two")
	put("one two three")
	res, body = doToken(t, "POST", api+"versions", read, `{"name":"x"}`)
	wantStatus(t, res, body, http.StatusForbidden, wire.CodeReadOnly)
	res, body = doToken(t, "POST", api+"versions", write, `{"name":"head"}`)
	wantStatus(t, res, body, 200, "")
	for _, bad := range []struct{ body, code string }{
		{`{"name":""}`, wire.CodeBadMessage},
		{`{"name":"` + strings.Repeat("é", storage.MaxVersionName+1) + `"}`, wire.CodeBadMessage},
		{`{"name":"\ud83d"}`, wire.CodeBadMessage},
		{`{"name":7}`, wire.CodeBadMessage},
		{`{"name":"x","rev":9}`, wire.CodeFutureRev},
	} {
		res, body := doToken(t, "POST", api+"versions", write, bad.body)
		wantStatus(t, res, body, map[string]int{wire.CodeBadMessage: 400, wire.CodeFutureRev: 409}[bad.code], bad.code)
	}

	// Snapshots at 3 and 5 let pruning cut the history at 3, past the
	// named revision 1, which stays readable.
	restart()
	put("one two three four")
	put("one two three four five")
	restart()
	api = ts.URL + "/api/docs/d/"
	var vl wire.VersionList
	getJSON(t, api+"versions", read, &vl)
	if vl.ID != "d" || len(vl.Versions) != 2 || vl.Versions[0].Name != "first draft" || vl.Versions[0].Author != "Tok write" || vl.Versions[1].Rev != 3 {
		t.Fatalf("versions after restart = %+v", vl)
	}
	var dt wire.DocText
	getJSON(t, api+"text?rev=1", read, &dt)
	if dt.Text != "one" {
		t.Fatalf("text at the named revision 1 = %+v", dt)
	}
	var a wire.Authors
	getJSON(t, api+"authors?rev=1", read, &a)
	if !equalSpans(a.Spans, []wire.AuthorSpan{span(0, 3, "", "Tok write")}) {
		t.Fatalf("authors at 1 = %+v", a)
	}
	res, body = doToken(t, "GET", api+"text?rev=2", read, "")
	wantStatus(t, res, body, http.StatusGone, wire.CodeRevTooOld)
	res, body = doToken(t, "POST", api+"versions", write, `{"name":"too late","rev":2}`)
	wantStatus(t, res, body, http.StatusGone, wire.CodeRevTooOld)

	res, body = doToken(t, "DELETE", api+"versions/1", read, "")
	wantStatus(t, res, body, http.StatusForbidden, wire.CodeReadOnly)
	res, body = doToken(t, "DELETE", api+"versions/1", write, "")
	wantStatus(t, res, body, http.StatusNoContent, "")
	res, body = doToken(t, "DELETE", api+"versions/1", write, "")
	wantStatus(t, res, body, http.StatusNotFound, wire.CodeNotFound)
	res, body = doToken(t, "DELETE", api+"versions/x", write, "")
	wantStatus(t, res, body, http.StatusBadRequest, wire.CodeBadMessage)
	res, body = doToken(t, "GET", api+"text?rev=1", read, "")
	wantStatus(t, res, body, http.StatusGone, wire.CodeRevTooOld)
}

// TestHistoryRestore: a restore is one ordinary op under the restoring
// user's name; an editor who typed at the revision before it, without
// having seen it, keeps the keystroke; history is not rewritten.
func TestHistoryRestore(t *testing.T) {
	st := openDB(t, filepath.Join(t.TempDir(), "docs.db"), bolt.Options{})
	_, ts := startServer(t, st, Options{AuthSecret: authSecret})
	write := mint(t, authSecret, "d", PermWrite, time.Hour)
	for _, text := range []string{"hello", "hello world"} {
		res, body := doToken(t, "PUT", ts.URL+"/api/docs/d", write, text)
		wantStatus(t, res, body, 200, "")
	}
	ws, _, err := dialAuth(t, ts, "")
	if err != nil {
		t.Fatal(err)
	}
	ed := helloToken(t, ws, "ed", write)
	ed.expect(wire.TypeWelcome, nil)
	ed.join("d", nil)

	res, body := doToken(t, "POST", ts.URL+"/api/docs/d/restore", write, `{"rev":1}`)
	wantStatus(t, res, body, 200, "")
	var dr wire.DocRev
	json.Unmarshal(body, &dr)
	if dr.ID != "d" || dr.Rev != 3 {
		t.Fatalf("restore = %s, want rev 3", body)
	}
	var op wire.Op
	ed.expect(wire.TypeOp, &op)
	if op.Rev != 3 || op.Name != "Tok write" || op.Client != "" || op.Op.String() != `[5,-6]` {
		t.Fatalf("editor got %+v, want the restore as one op named Tok write", op)
	}
	// The editor typed "!" at the end before the restore reached it.
	ed.submit("d", 2, 1, insertAt(11, 11, "!"))
	if a := ed.ack(1); a.Rev != 4 {
		t.Fatalf("ack %+v, want rev 4", a)
	}
	if text, rev := storeText(t, st, "d"); text != "hello!" || rev != 4 {
		t.Fatalf("text %q at %d, want the restored text with the keystroke", text, rev)
	}
	var dt wire.DocText
	getJSON(t, ts.URL+"/api/docs/d/text?rev=2", write, &dt)
	if dt.Text != "hello world" {
		t.Fatalf("text at 2 = %q: history rewritten", dt.Text)
	}
	// Restoring the head's text commits nothing.
	res, body = doToken(t, "POST", ts.URL+"/api/docs/d/restore", write, `{"rev":4}`)
	wantStatus(t, res, body, 200, "")
	if json.Unmarshal(body, &dr); dr.Rev != 4 {
		t.Fatalf("restore of the head = %s, want rev 4", body)
	}
	if _, rev := storeText(t, st, "d"); rev != 4 {
		t.Fatalf("rev %d after restoring the head, want 4", rev)
	}

	for _, bad := range []struct {
		body   string
		status int
		code   string
	}{
		{`{}`, 400, wire.CodeBadMessage},
		{`{"rev":"1"}`, 400, wire.CodeBadMessage},
		{`{"rev":9}`, 409, wire.CodeFutureRev},
		{strings.Repeat(" ", maxHistoryBody+1), 400, wire.CodeBadMessage},
	} {
		res, body := doToken(t, "POST", ts.URL+"/api/docs/d/restore", write, bad.body)
		wantStatus(t, res, body, bad.status, bad.code)
	}
	read := mint(t, authSecret, "d", PermRead, time.Hour)
	res, body = doToken(t, "POST", ts.URL+"/api/docs/d/restore", read, `{"rev":1}`)
	wantStatus(t, res, body, http.StatusForbidden, wire.CodeReadOnly)
	res, body = doToken(t, "POST", ts.URL+"/api/docs/none/restore", mint(t, authSecret, "none", PermWrite, time.Hour), `{"rev":0}`)
	wantStatus(t, res, body, http.StatusNotFound, wire.CodeNotFound)
}

// plainStore hides every optional interface of the Store it holds.
type plainStore struct{ storage.Store }

// TestHistoryWithoutStore: a store that keeps no authorship or versions
// answers unavailable with the reason; restore still works.
func TestHistoryWithoutStore(t *testing.T) { historyUnavailable(t, plainStore{memory.New()}) }

func historyUnavailable(t *testing.T, st storage.Store) {
	if _, ok := st.(storage.HistoryStore); ok {
		t.Fatalf("%T keeps history: test it with the endpoints' tests instead", st)
	}
	_, ts := startServer(t, st, Options{})
	res, body := do(t, "PUT", ts.URL+"/api/docs/d", "abc")
	wantStatus(t, res, body, 200, "")
	for _, req := range []struct{ method, path, body string }{
		{"GET", "/api/docs/d/authors", ""},
		{"GET", "/api/docs/d/versions", ""},
		{"POST", "/api/docs/d/versions", `{"name":"v"}`},
		{"DELETE", "/api/docs/d/versions/1", ""},
	} {
		res, body := do(t, req.method, ts.URL+req.path, req.body)
		wantStatus(t, res, body, http.StatusServiceUnavailable, wire.CodeUnavailable)
		var e wire.ErrorBody
		json.Unmarshal(body, &e)
		if e.Message != "collab: document unavailable, retry: this server's store keeps no authorship or named versions" {
			t.Fatalf("%s %s: message %q, want the reason", req.method, req.path, e.Message)
		}
	}
	res, body = do(t, "PUT", ts.URL+"/api/docs/d", "abcd")
	wantStatus(t, res, body, 200, "")
	res, body = do(t, "POST", ts.URL+"/api/docs/d/restore", `{"rev":1}`)
	wantStatus(t, res, body, 200, "")
	if text, _ := storeText(t, st, "d"); text != "abc" {
		t.Fatalf("text after restore %q", text)
	}
}

func span(start, length int, client, name string) wire.AuthorSpan {
	return wire.AuthorSpan{Start: start, Length: length, Client: client, Name: name}
}
