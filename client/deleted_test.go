package client_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/collab/wire"
)

// TestDeletedWhileOpen: a document deleted while it is open ends the Doc
// with not_found naming who deleted it; the text stays readable, edits are
// refused, and the client does not recreate the document
// (TestDeletedWhileOffline: nor after a reconnect).
func TestDeletedWhileOpen(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	base, url := startAuthServer(t, secret)
	token := func(doc string, perm collab.Perm, name string) string { return mintToken(t, secret, doc, perm, name) }
	ctx := ctxFor(t)
	c, err := client.Dial(ctx, url,
		client.Options{Token: token("notes", collab.PermWrite, "Ada"), Logger: discard, Reconnect: true, MinDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	d, err := c.Join(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Insert(0, "my text"); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}

	apiCall := func(method string) int {
		req, _ := http.NewRequest(method, base+"/api/docs/notes", nil)
		req.Header.Set("Authorization", "Bearer "+token("*", collab.PermAdmin, "Root"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := apiCall("DELETE"); got != http.StatusNoContent {
		t.Fatalf("DELETE: %d", got)
	}
	for range d.Events() {
		// until the Doc ends
	}
	var se *client.ServerError
	if !errors.As(d.Err(), &se) || se.Code != wire.CodeNotFound || se.By != "Root" || !strings.Contains(se.Message, "deleted by Root") {
		t.Fatalf("Err() = %#v, want not_found deleted by Root", d.Err())
	}
	if d.Text() != "my text" {
		t.Fatalf("text %q after the deletion, want the last one kept", d.Text())
	}
	if err := d.Insert(0, "x"); !errors.As(err, &se) {
		t.Fatalf("Insert after the deletion: %v, want the deletion", err)
	}
	if got := apiCall("GET"); got != http.StatusNotFound {
		t.Fatalf("GET after the deletion: %d, want 404 (not recreated)", got)
	}
}
