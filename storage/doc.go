// Package storage is the contract between the collab server and the
// stores that keep its documents: the domain types (Record, Doc, Meta,
// Version, Span), the Store interface with its optional capabilities,
// the sentinel errors every store returns and the one rule for document
// and client ids. It holds no implementation and imports no database
// (TestOnlyBoltLinksBbolt checks that neither it, the in-memory store,
// the cluster store nor the server links bbolt).
//
// # Layout
//
//	storage          this contract: types, interfaces, errors, ids
//	storage/bolt     a Store in one bbolt file (durable, group commit; collabd's default)
//	storage/memory   a Store in memory (tests, examples, programs that keep nothing)
//	cluster          a Store in NATS JetStream shared by several servers
//	collab           the server: depends on this package, never on an implementation
//
// cmd/collabd chooses the implementation and hands it to
// collab.NewServer. The binary form of a record, which bolt writes in its
// file and cluster in its messages, is internal/recordcodec; the
// authorship every store keeps beside its snapshots (who inserted each
// code point), and its binary form, is internal/authorship.
//
// # Capabilities
//
// Store is what every store does. What only some stores can do is an
// interface of its own, and the server asks for it with a type assertion
// on the Store it was given, falling back to doing without:
//
//	AsyncAppender  queue a commit and report it later (bolt)
//	OpsReader      read history within a byte budget (bolt)
//	OpSizer        a store with a smaller largest record (cluster)
//	HistoryStore   authorship and named versions (bolt, memory, cluster)
//	Backuper       stream a consistent copy while serving (bolt)
//	Follower       feed of commits made by other servers (cluster)
//	Bus            presence between servers (cluster)
//	Collector      metrics of the store's own (cluster)
//
// # Errors
//
// Stores wrap the sentinels below with %w; test for them with errors.Is.
// There is one of each condition: a store reached over a network wraps
// ErrUnavailable itself, and the server uses ErrNotFound and
// ErrUnavailable for the same conditions found above the store.
package storage
