package collab_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

// ExampleAuthenticatorFunc plugs an application's own sessions into the
// server instead of signed tokens: the session id comes as a cookie (or a
// token), and the application says who it is and which documents it may
// read or write. The same check guards WebSocket upgrades, hello and join,
// and the HTTP API. A cookie is taken only from requests that are not
// cross-site: a page elsewhere can make the visitor's browser POST to
// /api with its cookies (the upgrade is protected by the Origin check).
func ExampleAuthenticatorFunc() {
	sessions := map[string]string{"s3cr3t": "ada"} // the application's session store
	auth := collab.AuthenticatorFunc(func(r *http.Request, token string) (*collab.Identity, error) {
		site := r.Header.Get("Sec-Fetch-Site") // set by browsers
		if c, err := r.Cookie("session"); err == nil && token == "" && (site == "" || site == "same-origin") {
			token = c.Value
		}
		user, ok := sessions[token]
		if !ok {
			return nil, fmt.Errorf("%w: no such session", collab.ErrUnauthorized)
		}
		return &collab.Identity{
			Name:    user,
			Subject: "user-" + user,
			Grants: []collab.Grant{
				{Doc: "wiki-*", Perm: collab.PermRead},        // every wiki page
				{Doc: "wiki-" + user, Perm: collab.PermWrite}, // and one's own
			},
		}, nil
	})
	srv := collab.NewServer(memory.New(), collab.Options{Authenticator: auth, Logger: slog.New(slog.DiscardHandler)})
	defer srv.Shutdown(context.Background())
	ts := httptest.NewServer(srv)
	defer ts.Close()

	put := func(id, session string) {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/docs/"+id, strings.NewReader("text"))
		req.AddCookie(&http.Cookie{Name: "session", Value: session})
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		fmt.Println(id, session, res.StatusCode)
	}
	put("wiki-ada", "s3cr3t")
	put("wiki-bob", "s3cr3t")
	put("wiki-ada", "guess")
	// Output:
	// wiki-ada s3cr3t 200
	// wiki-bob s3cr3t 403
	// wiki-ada guess 401
}
