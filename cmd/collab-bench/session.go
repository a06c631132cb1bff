package main

import (
	"context"
	"time"

	"github.com/collabd/collab/client"
)

// session is one editor's connection to one document, in one of the
// systems measured. Edit is called by the editor's goroutine only.
type session interface {
	// Edit makes a local edit: choose is called with the current length of
	// the local text, in code points, and returns the edit: delete del code
	// points at pos, insert ins. No remote op changes the text between the
	// two. At most one submit is in flight; edits made meanwhile are
	// composed and sent when it is acknowledged.
	Edit(choose func(n int) (pos, del int, ins string)) error
	// Events delivers what happened, in order, as the Go client reports
	// it (the baseline's minimal client reports acks, ops and errors).
	Events() <-chan client.Event
	// Text returns the local text, or false if the system keeps none.
	Text() (string, bool)
	// Synced reports whether every local edit is acknowledged.
	Synced() bool
	// SentAt, AckAt and OpAt return (once) when submit seq was first
	// written to the socket, when its ack was read from it, and when the
	// op of revision rev was read from it.
	SentAt(seq uint64) (time.Time, bool)
	AckAt(seq uint64) (time.Time, bool)
	OpAt(rev uint64) (time.Time, bool)
	Close() error
}

// system opens sessions.
type system interface {
	// open connects the editor with client id id to document doc.
	open(ctx context.Context, doc, id string) (session, error)
	// text returns the server's text of doc, or false if it keeps none.
	text(ctx context.Context, doc string) (string, bool, error)
	close()
}
