package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

// usageOutput receives usage and flag errors (tests replace it).
var usageOutput io.Writer = os.Stderr

// serveHelp heads collabd -h: the subcommands, before the server's flags.
const serveHelp = `collabd serves collaborative text documents: the pages, the widget,
the WebSocket protocol and the HTTP API.

Usage:
  collabd [serve] [flags]                    run the server (flags below)
  collabd token -doc ID -perm P [-name N]    mint an access token (-secret or
                                             COLLAB_AUTH_SECRET; -ttl 1h)
  collabd compact -data FILE -out FILE       compact a database offline
  collabd backup -url URL -out FILE          hot backup of a running server
  collabd backup -data FILE -out FILE        backup of a file no server holds
  collabd COMMAND -h                         the flags of a command

Every flag can also be set with a COLLAB_ environment variable named after
it: -addr is COLLAB_ADDR, -allowed-origins COLLAB_ALLOWED_ORIGINS.

Flags of serve:
`

// serveUsage prints collabd -h.
func serveUsage(fs *flag.FlagSet) func() {
	return func() {
		fmt.Fprint(fs.Output(), serveHelp)
		fs.PrintDefaults()
	}
}
