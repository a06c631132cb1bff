// Package collab is the collaborative editing server: documents, editing
// sessions over WebSocket (docs/protocol.md), and the HTTP API.
//
// Contracts:
//   - One goroutine owns each loaded document (its text, revision, editors and
//     presence). Ops of a document are serialized there; documents progress
//     independently and nothing on the submit path is shared by all documents.
//   - An op is acknowledged and broadcast only after Store.Append committed it,
//     in revision order. A resubmitted (client, seq) is acknowledged again and
//     never applied twice, also after a restart or history pruning.
//   - A document is loaded before it is served and unloaded a grace period
//     after its last editor leaves: nothing is kept per stored document.
//   - Each connection has one reader goroutine, at most one writer goroutine
//     (running while there is something to write, so an idle connection has
//     none) and a bounded outbound queue; the writer sends what it finds
//     queued in one write. A client whose queue fills is disconnected
//     (close 4002) and never blocks its document.
//   - Every goroutine the Server starts ends by Shutdown, which waits for it.
//   - With Options.AuthSecret, every join and /api request is authorized by
//     an HS256 token (Claims, MintToken) before any document is loaded or
//     the store is called, its expiry checked at that moment (also for the
//     token a connection gave earlier); tokens never reach logs or error
//     messages.
//     Without it, every document is open (a warning is logged).
package collab
