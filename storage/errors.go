package storage

import "errors"

// Errors returned by stores; test for them with errors.Is.
var (
	// ErrNotFound: the document (or the revision, or the version) does not exist.
	ErrNotFound = errors.New("storage: document not found")
	// ErrPruned: the history asked for is older than what the store keeps.
	ErrPruned = errors.New("storage: history pruned")
	// ErrCorrupt: a stored value cannot be decoded; only its document fails.
	ErrCorrupt = errors.New("storage: record cannot be decoded")
	// ErrConflict: an Append does not continue the document's log (another
	// writer committed first, or the records do not chain); nothing of it
	// was written.
	ErrConflict = errors.New("storage: revision conflict")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("storage: database closed")
	// ErrLocked: another process holds the store's file.
	ErrLocked = errors.New("storage: database is locked by another process")
	// ErrInvalid: an argument breaks the contract (an id, a limit, a name).
	ErrInvalid = errors.New("storage: invalid argument")
	// ErrUnavailable: the store could not be reached in time (a store
	// reached over a network), or the server cannot serve the document
	// now. A write that fails with it may still have been committed;
	// resubmitting it under the same client sequence number is safe.
	ErrUnavailable = errors.New("storage: store unavailable")
	// ErrTooManyVersions refuses a new name for a document that has
	// MaxVersions already.
	ErrTooManyVersions = errors.New("storage: too many named versions")
)
