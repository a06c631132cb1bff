package collab

import (
	"net/http"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/memory"
)

// TestDeletedByName: the editors of a document deleted with a token that
// names someone are told who deleted it, in by and in the message.
func TestDeletedByName(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	_, ts := startServer(t, newTestStore(t), Options{AuthSecret: secret})
	ws, _, err := dialRaw(t, ts, http.Header{"Authorization": {"Bearer " + mint(t, secret, "notes", PermWrite, time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	ed := hello(t, ws, "ed")
	ed.join("notes", nil)
	ed.submit("notes", 0, 1, insertAt(0, 0, "keep me"))
	ed.ack(1)

	res, body := doToken(t, "DELETE", ts.URL+"/api/docs/notes", mint(t, secret, "*", PermAdmin, time.Hour), "")
	wantStatus(t, res, body, http.StatusNoContent, "")
	e := ed.expectError(wire.CodeNotFound)
	if e.Doc != "notes" || e.Seq != 0 || e.By != "Tok admin" || e.Message != "collab: document deleted by Tok admin" {
		t.Fatalf("deletion told as %+v, want not_found for notes by Tok admin", e)
	}
}

// TestRecreateAfterDelete: once DELETE answered, the id is free: a PUT
// sent right after creates a new document instead of reaching the deleted
// one on its way out.
func TestRecreateAfterDelete(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{})
	for range 50 {
		res, body := doToken(t, "PUT", ts.URL+"/api/docs/d", "", "text")
		wantStatus(t, res, body, http.StatusOK, "")
		res, body = doToken(t, "DELETE", ts.URL+"/api/docs/d", "", "")
		wantStatus(t, res, body, http.StatusNoContent, "")
	}
}
