// Command collabd is the collaborative editing server: the web pages, the
// WebSocket protocol and the HTTP API over one bbolt file, or over NATS
// JetStream in cluster mode.
//
//	collabd [flags]                          serve (see -h)
//	collabd compact -data FILE -out FILE     offline compaction
//	collabd backup -url URL -out FILE        hot backup of a running server
//	collabd backup -data FILE -out FILE      backup of a file no server holds
//	collabd token -doc ID -perm P -name N    mint an access token (-secret or
//	                                         COLLAB_AUTH_SECRET, -ttl 1h)
//
// With -nats nats://host:4222[,…] (COLLAB_NATS) collabd runs as a node of
// a cluster: the documents live in NATS JetStream instead of the file, any
// node serves any document, and clients may connect to any node.
// -nats-replicas (COLLAB_NATS_REPLICAS) is the replication factor of the
// stream, 3 by default; 1, for a single NATS server, also needs
// -nats-accept-r1, as acknowledged edits can then be lost with its machine;
// -nats-prefix names the stream, and nodes sharing documents share it;
// -node-name names the node. compact and backup do not apply there.
//
// With -webhook-url URL -webhook-secret S collabd POSTs signed events
// (doc.changed, doc.deleted, version.created) to URL, at least once and in
// order per document, from delivery cursors kept in the database; with
// -nats, one node at a time sends, from cursors kept in JetStream
// (docs/protocol.md, Webhooks; docs/cluster.md, Webhooks).
//
// Every flag can also be set with a COLLAB_ environment variable named after
// it: -addr is COLLAB_ADDR, -allowed-origins COLLAB_ALLOWED_ORIGINS.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first SIGINT/SIGTERM cancels ctx for a graceful stop; stop()
	// then restores the default action, so a second signal exits at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	if err := run(ctx, os.Args[1:], os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "collabd:", err)
		os.Exit(1)
	}
}
