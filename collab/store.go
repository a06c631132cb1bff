package collab

import (
	"context"

	"github.com/collabd/collab/storage"
)

// Store is what the server needs from durable storage. *storage.DB
// implements it; a distributed log can implement it too.
//
// All methods are safe for concurrent use. Errors wrap the storage
// sentinels (storage.ErrNotFound, storage.ErrPruned, storage.ErrCorrupt,
// storage.ErrConflict).
type Store interface {
	// Load returns the document at its current revision, or ErrNotFound.
	Load(ctx context.Context, id string) (storage.Doc, error)
	// Append commits recs, which must continue the document's log
	// (recs[0].Rev == current rev + 1, consecutive), together with each
	// record's client sequence number, in one durable transaction shared
	// with concurrent callers. It returns only after that commit. A missing
	// document is created.
	Append(ctx context.Context, id string, recs []storage.Record) error
	// Ops returns the records with from < Rev <= to. ErrPruned if some of
	// them are no longer kept.
	Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error)
	// TextAt returns the text at revision rev. ErrPruned if it is no longer kept.
	TextAt(ctx context.Context, id string, rev uint64) (string, error)
	// ClientSeq returns the last sequence number committed for client on
	// document id and the revision it produced; zeros if none.
	ClientSeq(ctx context.Context, id, client string) (seq, rev uint64, err error)
	// List returns up to limit documents with ids greater than after, in id order.
	List(ctx context.Context, after string, limit int) ([]storage.Meta, error)
	// Delete removes the document and all its data. ErrNotFound if absent.
	Delete(ctx context.Context, id string) error
}

// AsyncAppender is implemented by a Store that can queue a commit and
// report it later (storage.DB does): a document then commits without a
// goroutine of its own per commit, one hand-off less each way. done is
// called once, with what Append would have returned, and must not block;
// an error from AppendAsync itself means nothing was queued and done is
// not called.
type AsyncAppender interface {
	AppendAsync(id string, recs []storage.Record, done func(error)) error
}

// OpSizer is implemented by a Store that cannot hold a record as large as
// a message may carry (cluster.Store: one record is one NATS message).
// MaxOpBytes is the largest op it stores, in bytes of the op's JSON form.
type OpSizer interface {
	MaxOpBytes() int
}
