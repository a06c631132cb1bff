package storage

import (
	"context"
	"io"

	"github.com/prometheus/client_golang/prometheus"
)

// Store is what the server needs from durable storage: bolt.DB,
// memory.Store and cluster.Store implement it.
//
// All methods are safe for concurrent use. Errors wrap the sentinels of
// this package. Ids follow ValidDocID and ValidClientID.
type Store interface {
	// Load returns the document at its current revision, or ErrNotFound.
	Load(ctx context.Context, id string) (Doc, error)
	// Append commits recs, which must continue the document's log
	// (recs[0].Rev == current rev + 1, consecutive), together with each
	// record's client sequence number, in one durable transaction shared
	// with concurrent callers. It returns only after that commit. A missing
	// document is created. ErrConflict, and nothing written, if recs do
	// not continue the log.
	Append(ctx context.Context, id string, recs []Record) error
	// Ops returns the records with from < Rev <= to. ErrPruned if some of
	// them are no longer kept.
	Ops(ctx context.Context, id string, from, to uint64) ([]Record, error)
	// TextAt returns the text at revision rev. ErrPruned if it is no longer kept.
	TextAt(ctx context.Context, id string, rev uint64) (string, error)
	// ClientSeq returns the last sequence number committed for client on
	// document id and the revision it produced; zeros if none.
	ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error)
	// List returns up to limit documents with ids greater than after, in id order.
	List(ctx context.Context, after string, limit int) ([]Meta, error)
	// Delete removes the document and all its data. ErrNotFound if absent.
	Delete(ctx context.Context, id string) error
}

// AsyncAppender is implemented by a Store that can queue a commit and
// report it later (bolt.DB does): a document then commits without a
// goroutine of its own per commit, one hand-off less each way. done is
// called once, with what Append would have returned, and must not block;
// an error from AppendAsync itself means nothing was queued and done is
// not called.
type AsyncAppender interface {
	AppendAsync(id string, recs []Record, done func(error)) error
}

// OpsReader is implemented by a Store that reads history within a byte
// budget (bolt.DB does). OpsWithin returns the records after from up to
// to, stopping before the one that would take the sum of their
// ot.Op.Size past maxBytes (more: it stopped there); the first is
// returned whatever its size. The server reads other stores' history a
// few records at a time.
type OpsReader interface {
	OpsWithin(ctx context.Context, id string, from, to uint64, maxBytes int) (recs []Record, more bool, err error)
}

// OpSizer is implemented by a Store that cannot hold a record as large as
// a message may carry (cluster.Store: one record is one NATS message).
// MaxOpBytes is the largest op it stores, in bytes of the op's JSON form.
type OpSizer interface {
	MaxOpBytes() int
}

// HistoryStore is implemented by a Store that keeps who wrote what and
// named versions (bolt.DB does). With another store the server's
// endpoints that need them answer unavailable, saying so.
type HistoryStore interface {
	// AuthorsAt returns the authorship of the text at rev. ErrPruned if
	// it is no longer kept.
	AuthorsAt(ctx context.Context, id string, rev uint64) ([]Span, error)
	// PutVersion names revision v.Rev, replacing the name it had; the
	// version's text is kept whatever history is pruned.
	// ErrTooManyVersions if the revision is unnamed and the document has
	// MaxVersions.
	PutVersion(ctx context.Context, id string, v Version) error
	// Versions lists the named versions in revision order.
	Versions(ctx context.Context, id string) ([]Version, error)
	// DeleteVersion removes the name of revision rev; ErrNotFound if none.
	DeleteVersion(ctx context.Context, id string, rev uint64) error
}

// Backuper is implemented by a Store that can stream a consistent copy of
// itself while serving (bolt.DB does); the server offers it as a hot
// backup.
type Backuper interface {
	Backup(w io.Writer) (int64, error)
}

// Follower is implemented by a Store that several servers share (cluster
// mode, see docs/cluster.md). A server whose Store implements it follows
// every document it has loaded: records other servers commit are applied
// and broadcast to its editors like its own, and a commit refused with
// ErrConflict (another server committed first) is transformed over what
// it missed and retried instead of failing.
type Follower interface {
	// Follow returns every record of document id with Rev > after, in
	// revision order, as it is committed by any server (this one
	// included), until ctx ends. The channel closes when ctx ends, or when
	// the feed stops for good (the document was deleted, the store
	// closed): the server then asks Load which.
	Follow(ctx context.Context, id string, after uint64) (<-chan Record, error)
}

// Bus is implemented by a Store that several servers share, to tell each
// other who edits a document and where their carets are. A server whose
// Store implements it shows its editors the editors of the other servers
// as if they were its own. Delivery is best effort: carets are worth
// nothing a second later, and the state is sent again whenever a server
// appears.
type Bus interface {
	// Publish sends data to the other servers that subscribed to document id.
	Publish(id string, data []byte) error
	// Subscribe calls fn with what other servers Publish for document id,
	// and the name of the server that sent it, until ctx ends. fn(from,
	// nil): server from is gone, forget what it said; fn(from, empty): a
	// server appeared, or what this one said may have been lost (from is
	// then empty): tell what you have. fn may be called from several
	// goroutines and must not block.
	Subscribe(ctx context.Context, id string, fn func(from string, data []byte)) error
}

// Collector is implemented by a Store with metrics of its own
// (cluster.Store: commit retries, consumer lag); the server serves them at
// /metrics with its own.
type Collector interface {
	prometheus.Collector
}
