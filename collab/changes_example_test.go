package collab_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

// ExampleOptions_changes keeps something in step with the documents (a
// search index, say) from the server's change feed. The callback runs on
// a goroutine of the server's and may take its time: editing never waits
// for it. Should it fall so far behind that the feed drops changes, it
// gets a Missed change and reads what it missed from the store.
func ExampleOptions_changes() {
	store := memory.New()
	index := make(chan string, 10) // stands for the application's indexer
	onChange := func(ch collab.Change) {
		switch {
		case ch.Missed:
			recs, err := store.Ops(context.Background(), ch.Doc, ch.From, ^uint64(0))
			if err != nil { // deleted meanwhile, or history pruned: reindex it whole
				index <- fmt.Sprintf("reindex %s", ch.Doc)
				return
			}
			index <- fmt.Sprintf("%s: %d ops missed", ch.Doc, len(recs))
		case ch.Deleted:
			index <- fmt.Sprintf("%s deleted at rev %d", ch.Doc, ch.From)
		case ch.Version != nil:
			index <- fmt.Sprintf("%s: rev %d named %q", ch.Doc, ch.To, ch.Version.Name)
		default:
			index <- fmt.Sprintf("%s: rev %d to %d, first op %s", ch.Doc, ch.From, ch.To, ch.Ops[0].Op)
		}
	}
	srv := collab.NewServer(store, collab.Options{Changes: onChange, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	defer ts.Close()

	for _, text := range []string{"Hello", "Hello, world"} {
		req, _ := http.NewRequest(http.MethodPut, ts.URL+"/api/docs/notes", strings.NewReader(text))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		res.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/api/docs/notes", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	srv.Shutdown(context.Background()) // returns once the feed is delivered
	close(index)
	for line := range index {
		fmt.Println(line)
	}
	// Output:
	// notes: rev 0 to 1, first op ["Hello"]
	// notes: rev 1 to 2, first op [5,", world"]
	// notes deleted at rev 2
}
