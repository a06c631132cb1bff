package client_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/collabd/collab/client"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/memory"
)

func Example() {
	// A server over an in-memory store; use collabd's URL in real life.
	srv := collab.NewServer(memory.New(), collab.Options{Logger: discard})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())
	url := "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"

	ctx := context.Background()
	ada, err := client.Dial(ctx, url, client.Options{Name: "Ada", Reconnect: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ada.Close()
	bo, err := client.Dial(ctx, url, client.Options{Name: "Bo"})
	if err != nil {
		log.Fatal(err)
	}
	defer bo.Close()

	notes, err := ada.Join(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	if err := notes.Insert(0, "Hi 👋"); err != nil { // positions count code points
		log.Fatal(err)
	}
	if err := notes.WaitSynced(ctx); err != nil { // committed by the server
		log.Fatal(err)
	}
	fmt.Println(notes.Text(), notes.Rev())

	bosNotes, err := bo.Join(ctx, "notes")
	if err != nil {
		log.Fatal(err)
	}
	bosNotes.Insert(4, "!")
	bosNotes.WaitSynced(ctx)
	notes.WaitRev(ctx, bosNotes.Rev()) // Ada receives Bo's edit
	fmt.Println(notes.Text(), notes.Rev())
	// Output:
	// Hi 👋 1
	// Hi 👋! 2
}
