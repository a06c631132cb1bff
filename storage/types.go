package storage

import (
	"errors"
	"time"

	"github.com/collabd/collab/ot"
)

// Errors returned by the store; test for them with errors.Is.
var (
	ErrNotFound = errors.New("storage: document not found")
	ErrPruned   = errors.New("storage: history pruned")
	ErrCorrupt  = errors.New("storage: record cannot be decoded")
	ErrConflict = errors.New("storage: revision conflict")
	ErrClosed   = errors.New("storage: database closed")
	ErrLocked   = errors.New("storage: database is locked by another process")
	ErrInvalid  = errors.New("storage: invalid argument")
	// ErrUnavailable is for stores reached over a network (cluster mode):
	// the store could not be reached in time. A write that fails with it
	// may still have been committed; resubmitting it under the same client
	// sequence number is safe.
	ErrUnavailable = errors.New("storage: store unavailable")
)

// Record is one committed operation in a document's log.
type Record struct {
	Rev    uint64    // the revision this op produced: it applies to the text at Rev-1
	Op     ot.Op     // stored in the compact binary form of the package comment
	Author string    // display name of the editor, may be empty
	Client string    // stable client id of the editor, may be empty (HTTP edits)
	Seq    uint64    // the client's sequence number for this document, 0 if none
	Time   time.Time // server time of the commit; Append fills in a zero Time
}

// Meta describes a stored document.
type Meta struct {
	ID      string
	Rev     uint64 // current revision: number of ops ever committed
	Length  int    // current length in code points
	Created time.Time
	Updated time.Time
}

// Doc is a document's state at its current revision.
type Doc struct {
	Meta
	Text string
}
