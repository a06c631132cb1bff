package webhook_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/collabd/collab/collab/webhook"
)

// ExampleVerify is a receiver of collabd's webhooks: it checks the
// signature on the raw body before anything else (refusing timestamps
// more than webhook.DefaultTolerance away: a replayed capture), drops the
// events it has seen (a retry whose answer was lost), and answers 2xx
// only once the event is handled: any other answer makes collabd retry.
func ExampleVerify() {
	secret := []byte("the -webhook-secret, 16 bytes or more")
	var mu sync.Mutex
	seen := map[string]bool{} // in a real receiver: a table with a unique key on the id
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read error", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, 0, time.Now()); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var e webhook.Event
		if err := json.Unmarshal(body, &e); err != nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[e.ID] {
			w.WriteHeader(http.StatusNoContent) // a copy: done already
			return
		}
		seen[e.ID] = true
		if e.Type == webhook.TypeChanged {
			fmt.Printf("%s changed from rev %d to %d\n", e.Doc, e.FromRev, e.ToRev)
		}
		w.WriteHeader(http.StatusNoContent)
	}
	ts := httptest.NewServer(http.HandlerFunc(handler))
	defer ts.Close()

	// What collabd sends, twice (the answer to the first was lost), and a
	// forgery.
	body := `{"id":"evt_1","type":"doc.changed","doc":"notes","from_rev":41,"to_rev":57,"authors":[],"time":"2026-01-01T00:00:00Z"}`
	send := func(sig string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(body))
		req.Header.Set(webhook.SignatureHeader, sig)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
		fmt.Println(res.StatusCode)
	}
	sig := webhook.Sign(secret, []byte(body), time.Now())
	send(sig)
	send(sig)
	send(webhook.Sign([]byte("guessed"), []byte(body), time.Now()))
	// Output:
	// notes changed from rev 41 to 57
	// 204
	// 204
	// 401
}
