package storage

import (
	"time"

	"github.com/collabd/collab/ot"
)

// Record is one committed operation in a document's log.
type Record struct {
	Rev    uint64    // the revision this op produced: it applies to the text at Rev-1
	Op     ot.Op     // stored in the compact binary form of internal/recordcodec
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

// Span is a run of consecutive code points of a text that one op inserted.
// A text's spans, in order, cover it exactly; neighbours never share both
// Client and Author.
type Span struct {
	Length int    // code points
	Client string // client id of the inserting op; empty for HTTP edits and unknown origin
	Author string // display name of the inserting op
}

// Version is a revision of a document given a name. Its text and
// authorship are kept with it, so pruning never takes them: TextAt and
// AuthorsAt answer for it below the pruning cut.
type Version struct {
	Rev     uint64
	Name    string
	Created time.Time
	Author  string // display name of whoever named it
}

// MaxVersionName is the longest version name, in code points.
const MaxVersionName = 200

// MaxVersions is how many named versions a document may have: each keeps
// a copy of its text that pruning never takes.
const MaxVersions = 200
