// Command collab-bench is the load generator of collabd: documents ×
// editors typing random edits through the Go client, or one typist
// replaying a real editing trace, with latency percentiles, throughput,
// the server's CPU and memory, and a convergence check at the end.
// Run it with -h for the flags and the exact meaning of each figure;
// docs/benchmarks.md holds recorded results.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], env{stdout: os.Stdout, stderr: os.Stderr}); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "collab-bench:", err)
		}
		os.Exit(1)
	}
}
