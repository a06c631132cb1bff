// Package cluster keeps collab documents in NATS JetStream, so that several
// collabd nodes serve the same documents behind any load balancer (see
// docs/cluster.md).
//
// A Store implements storage.Store and its optional Follower, Bus, OpSizer
// and Collector:
//
//   - Each document is one subject of one stream, Prefix.ops.<id> with the
//     id escaped to a subject token. A commit is one message holding
//     consecutive records; JetStream accepts it only if the subject's last
//     message is the one the committing node transformed against (the
//     expected-last-subject-sequence check). Otherwise Append fails with
//     storage.ErrConflict and writes nothing: there is one order per
//     document across nodes.
//   - Records carry the client id and sequence number, so a client's last
//     committed sequence (ClientSeq) is read from the log and survives
//     pruning through the snapshots' client records: a resubmission to any
//     node is acknowledged, never applied twice.
//   - Snapshots (text, revision, client records) live in a key-value
//     bucket; Load replays only the messages after the newest one.
//   - Follow streams a document's commits to every node that has it
//     loaded (an ordered consumer per document), and ends when it is
//     deleted. Publish/Subscribe carry presence between nodes over core
//     NATS, and node beacons tell when a node is gone.
//   - Deleting a document writes a tombstone on its subject and purges
//     what precedes it; a recreated document is a new incarnation whose
//     messages name the tombstone (the epoch), so nothing of the old one
//     is read again.
//
// Contracts: all methods are safe for concurrent use; errors wrap the
// storage sentinels (storage.ErrUnavailable when NATS cannot be reached, in
// which case a commit may or may not have been written: the feed tells).
// Close waits for every goroutine the Store started.
package cluster
