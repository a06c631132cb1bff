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

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

// Example mounts the collaboration server in an application's own mux,
// next to its other handlers, and edits a document over the HTTP API.
// Use bolt.Open for a durable store; memory.Store keeps everything in memory.
func Example() {
	srv := collab.NewServer(memory.New(), collab.Options{
		AllowedOrigins: []string{"https://app.example.com"},
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)   // the WebSocket protocol
	mux.Handle("/api/", srv) // the document API
	mux.Handle("/metrics", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "my app") })

	ts := httptest.NewServer(mux) // http.ListenAndServe(":8080", mux) in a real program
	defer ts.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx) // closes editors with 1001 after their commits
	}()

	req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/docs/hello", strings.NewReader("Hello, 世界 👋"))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	res.Body.Close()
	res, err = http.Get(ts.URL + "/api/docs/hello")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Print(string(body))
	// Output: {"id":"hello","rev":1,"text":"Hello, 世界 👋"}
}
