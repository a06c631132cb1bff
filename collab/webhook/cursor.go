package webhook

import (
	"encoding/json"
	"time"
)

// consumer and stateConsumer name the sender's cursors in the store:
// one per document, and whether the first start took the heads.
const (
	consumer      = "webhook"
	stateConsumer = "webhook.state"
	keyStarted    = "started"
)

// cursor is the sender's durable progress on one document.
type cursor struct {
	// Rev: the document's changes up to Rev are in events (made, or
	// delivered).
	Rev uint64 `json:"rev"`
	// Created is the document's creation time, when known: a document of
	// the same id created anew has another.
	Created time.Time `json:"created,omitzero"`
	// Versioned is the creation time of the newest version announced.
	Versioned time.Time `json:"versioned,omitzero"`
	// Pending are the events made and not yet delivered, oldest first,
	// as they are sent: each keeps its id across attempts and restarts.
	Pending []json.RawMessage `json:"pending,omitempty"`
	// Since is when the oldest undelivered change happened, as far as the
	// sender knows.
	Since time.Time `json:"since,omitzero"`
}

// empty reports whether the cursor says nothing worth keeping: that of a
// deleted document whose deletion was delivered.
func (c cursor) empty() bool {
	return c.Rev == 0 && len(c.Pending) == 0 && c.Created.IsZero() && c.Versioned.IsZero()
}

// encode is the cursor's stored form; nil deletes it.
func (c cursor) encode() []byte {
	if c.empty() {
		return nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of plain fields
	}
	return b
}

func decodeCursor(b []byte) (cursor, error) {
	var c cursor
	err := json.Unmarshal(b, &c)
	return c, err
}
