package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"time"
)

// Event types.
const (
	TypeChanged        = "doc.changed"
	TypeDeleted        = "doc.deleted"
	TypeVersionCreated = "version.created"
)

// Event is the JSON body of a webhook request.
type Event struct {
	// ID is the same in every attempt to deliver the event: a receiver
	// that has seen it drops it.
	ID   string `json:"id"`
	Type string `json:"type"`
	Doc  string `json:"doc"`
	// FromRev and ToRev (doc.changed) are the revisions before and after
	// the changes: the ops with FromRev < rev <= ToRev (GET
	// /api/docs/{id}/ops?from=FromRev). A document's next doc.changed
	// starts where this one ends. Zero in other events.
	FromRev uint64 `json:"from_rev"`
	ToRev   uint64 `json:"to_rev"`
	// Authors (doc.changed) are the editors of those ops, each once, in
	// the order of their first op.
	Authors []Author `json:"authors,omitempty"`
	// Version (version.created) is the version named.
	Version *Version `json:"version,omitempty"`
	// Time is when the event was made.
	Time time.Time `json:"time"`
}

// Author is an editor: the public id of its client (empty for HTTP
// edits) and its display name.
type Author struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Version is a named revision.
type Version struct {
	Rev     uint64    `json:"rev"`
	Name    string    `json:"name"`
	Author  string    `json:"author,omitempty"`
	Created time.Time `json:"created"`
}

func newEventID() string {
	var b [12]byte
	rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}
