package collab_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

// ExampleMintToken shows an application's backend minting a token for one
// of its users, and the server (started with the same secret) honouring it:
// a write token for "team-*" may write team-notes but not other documents.
// Browsers pass the token as the widget's token attribute; HTTP clients as
// Authorization: Bearer.
func ExampleMintToken() {
	secret := []byte("a long random secret shared with collabd only")
	srv := collab.NewServer(memory.New(), collab.Options{
		AuthSecret: secret,
		Logger:     slog.New(slog.DiscardHandler),
	})
	defer srv.Shutdown(context.Background())
	ts := httptest.NewServer(srv)
	defer ts.Close()

	token, err := collab.MintToken(secret, collab.Claims{
		Doc:  "team-*",
		Perm: collab.PermWrite,
		Name: "Ada",
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
		},
	})
	if err != nil {
		panic(err)
	}
	put := func(id string) {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/docs/"+id, strings.NewReader("hello"))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		fmt.Println(id, res.StatusCode)
	}
	put("team-notes")
	put("payroll")
	// Output:
	// team-notes 200
	// payroll 403
}
