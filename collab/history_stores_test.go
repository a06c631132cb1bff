package collab

import (
	"net/http"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// The authorship endpoint with the in-memory and the cluster store.
func TestHistoryAuthorsInMemory(t *testing.T)  { historyAuthors(t, memory.New()) }
func TestOnClusterHistoryAuthors(t *testing.T) { historyAuthors(t, newTestStore(t)) }

// Named versions pinned across pruning with the in-memory and the cluster
// store.
func TestHistoryPinnedInMemory(t *testing.T)  { historyPinned(t, memory.New()) }
func TestOnClusterHistoryPinned(t *testing.T) { historyPinned(t, newTestStore(t)) }

// historyPinned: a named version's text and authorship stay readable after
// pruning cuts the history past it, an unnamed pruned revision answers
// rev_too_old (and cannot be named), a pinned version can be renamed, and
// once its name is removed its text goes with the history.
func historyPinned(t *testing.T, st storage.Store) {
	srv, ts := startServer(t, st, Options{AuthSecret: authSecret})
	write := mint(t, authSecret, "d", PermWrite, time.Hour)
	api := ts.URL + "/api/docs/d/"
	call := func(method, path, body string, status int, code string) []byte {
		t.Helper()
		res, data := doToken(t, method, api+path, write, body)
		wantStatus(t, res, data, status, code)
		return data
	}
	for _, text := range []string{"one", "one two", "one two three", "one two three four"} {
		res, body := doToken(t, "PUT", ts.URL+"/api/docs/d", write, text)
		wantStatus(t, res, body, 200, "")
	}
	call("POST", "versions", `{"name":"first","rev":1}`, 200, "")
	pruneTo(t, st, "d", 3)
	srv.Shutdown(t.Context()) // the document reloads from the pruned store
	_, ts = startServer(t, st, Options{AuthSecret: authSecret})
	api = ts.URL + "/api/docs/d/"

	var dt wire.DocText
	getJSON(t, api+"text?rev=1", write, &dt)
	if dt.Text != "one" {
		t.Fatalf("text at the named revision 1 = %+v", dt)
	}
	var a wire.Authors
	getJSON(t, api+"authors?rev=1", write, &a)
	if !equalSpans(a.Spans, []wire.AuthorSpan{span(0, 3, "", "Tok write")}) {
		t.Fatalf("authors at 1 = %+v", a)
	}
	// The head's authorship survives the cut (a cluster keeps it in the
	// snapshot the cut leaves).
	getJSON(t, api+"authors", write, &a)
	if !equalSpans(a.Spans, []wire.AuthorSpan{span(0, 18, "", "Tok write")}) {
		t.Fatalf("authors at the head after pruning = %+v", a)
	}
	call("GET", "text?rev=2", "", http.StatusGone, wire.CodeRevTooOld)
	call("GET", "authors?rev=2", "", http.StatusGone, wire.CodeRevTooOld)
	call("POST", "versions", `{"name":"late","rev":2}`, http.StatusGone, wire.CodeRevTooOld)
	call("POST", "versions", `{"name":"renamed","rev":1}`, 200, "")
	call("POST", "versions", `{"name":"head"}`, 200, "")
	var vl wire.VersionList
	getJSON(t, api+"versions", write, &vl)
	if len(vl.Versions) != 2 || vl.Versions[0].Name != "renamed" || vl.Versions[0].Rev != 1 || vl.Versions[1].Rev != 4 || vl.Versions[1].Author != "Tok write" {
		t.Fatalf("versions = %+v", vl)
	}
	getJSON(t, api+"text?rev=1", write, &dt)
	if dt.Text != "one" {
		t.Fatalf("text at the renamed revision 1 = %+v", dt)
	}
	call("DELETE", "versions/1", "", http.StatusNoContent, "")
	call("DELETE", "versions/1", "", http.StatusNotFound, wire.CodeNotFound)
	call("GET", "text?rev=1", "", http.StatusGone, wire.CodeRevTooOld)

	// Deleting the document deletes its versions: a new one under the
	// same id has none.
	admin := mint(t, authSecret, "d", PermAdmin, time.Hour)
	res, body := doToken(t, "DELETE", ts.URL+"/api/docs/d", admin, "")
	wantStatus(t, res, body, http.StatusNoContent, "")
	res, body = doToken(t, "PUT", ts.URL+"/api/docs/d", write, "again")
	wantStatus(t, res, body, 200, "")
	getJSON(t, api+"versions", write, &vl)
	if len(vl.Versions) != 0 {
		t.Fatalf("versions of the new document = %+v", vl)
	}
}
