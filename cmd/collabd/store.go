package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

// clusterConfig are the flags of cluster mode.
type clusterConfig struct {
	urls     string
	replicas int
	prefix   string
	node     string
	creds    string
	timeout  time.Duration
	acceptR1 bool
}

func clusterFlags(fs *flag.FlagSet, c *clusterConfig) {
	fs.StringVar(&c.urls, "nats", "", "comma-separated NATS URLs (nats://host:4222): run as a node of a cluster whose documents live in NATS JetStream; empty: the embedded database (-data)")
	fs.IntVar(&c.replicas, "nats-replicas", 3, "replication factor of the JetStream stream and buckets: 3 on a three-server NATS cluster (production); 1 on a single NATS server, with -nats-accept-r1")
	fs.BoolVar(&c.acceptR1, "nats-accept-r1", false, "accept -nats-replicas 1: an acknowledged edit then survives a crash of collabd or of the NATS process, but not of the NATS machine unless its JetStream sync_interval is always (see docs/cluster.md, Durability)")
	fs.StringVar(&c.prefix, "nats-prefix", "collab", "name of the subjects, stream and bucket; the nodes sharing documents share it")
	fs.StringVar(&c.node, "node-name", "", "this node's name in NATS connection names and logs (default: the host name)")
	fs.StringVar(&c.creds, "nats-creds", "", "NATS user credentials file (.creds)")
	fs.DurationVar(&c.timeout, "nats-timeout", 2*time.Second, "deadline of one request to NATS")
}

// clusterModeFlag lets a subcommand that does not apply to cluster mode
// see -nats (or COLLAB_NATS) and refuse.
func clusterModeFlag(fs *flag.FlagSet) *string {
	return fs.String("nats", "", "NATS URLs of cluster mode, where this command does not apply")
}

// notInCluster are the serve flags that have no meaning in cluster mode:
// the documents live in JetStream.
var notInCluster = []string{"data", "snapshot-ratio"}

// backend is the store collabd serves documents from.
type backend struct {
	store  storage.Store
	close  func() error
	prune  func(ctx context.Context) (int, error) // nil: no history pruning here
	pruned string                                 // what prune counts, for the log
	desc   []any                                  // log attributes
}

// openBackend opens the cluster store when -nats is set, the bbolt file
// otherwise.
func openBackend(ctx context.Context, c *config, set map[string]bool, log *slog.Logger) (*backend, error) {
	if c.cluster.urls == "" {
		opts, err := boltOptions(c.store)
		if err != nil {
			return nil, err
		}
		db, err := bolt.Open(c.data, opts)
		if err != nil {
			return nil, err
		}
		return &backend{store: db, close: db.Close, prune: db.Prune, pruned: "ops", desc: []any{"data", c.data}}, nil
	}
	for _, name := range notInCluster {
		if set[name] {
			return nil, fmt.Errorf("-%s does not apply with -nats: the documents and their history live in NATS JetStream", name)
		}
	}
	if c.cluster.replicas < 1 {
		return nil, errors.New("-nats-replicas: at least 1")
	}
	if c.cluster.replicas == 1 && !c.cluster.acceptR1 {
		return nil, errors.New("-nats-replicas 1 keeps each edit on one NATS server, which by default flushes it to disk within 2 minutes: " +
			"a crash of that machine can lose acknowledged edits. Use -nats-replicas 3 on a three-server NATS cluster, " +
			"or set sync_interval: always in the server's jetstream block and pass -nats-accept-r1")
	}
	opts := cluster.Options{
		URLs:     splitList(c.cluster.urls),
		Replicas: c.cluster.replicas,
		Prefix:   c.cluster.prefix,
		Name:     c.cluster.node,
		Timeout:  c.cluster.timeout,
		KeepFor:  c.store.KeepFor,
		KeepOps:  uint64(max(c.store.KeepOps, 0)),
		Logger:   log,
	}
	if set["snapshot-every"] {
		if c.store.SnapshotEvery <= 0 {
			return nil, errors.New("-snapshot-every: at least 1")
		}
		opts.SnapshotEvery = uint64(c.store.SnapshotEvery)
	}
	if c.cluster.creds != "" {
		opts.NATS = append(opts.NATS, nats.UserCredentials(c.cluster.creds))
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := cluster.Open(octx, opts)
	var api *jetstream.APIError
	if errors.As(err, &api) && api.ErrorCode == jsErrReplicasNotSupported {
		return nil, fmt.Errorf("-nats: %w (-nats-replicas is %d: a single NATS server takes -nats-replicas 1 -nats-accept-r1)", err, opts.Replicas)
	}
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	return &backend{
		store:  st,
		close:  st.Close,
		prune:  st.PruneHistory,
		pruned: "documents",
		desc: []any{"nats", strings.Join(opts.URLs, ","), "replicas", opts.Replicas, "node", st.Node(),
			"durability", durability(opts.Replicas)},
	}, nil
}

// boltOptions checks the store flags and turns -snapshot-ratio 0 (no
// byte rule, as other flags' 0 means no limit) into Options' negative,
// since a zero Options field selects its default.
func boltOptions(o bolt.Options) (bolt.Options, error) {
	switch {
	case o.SnapshotRatio < 0:
		return o, errors.New("-snapshot-ratio: 0 or more")
	case o.SnapshotRatio == 0:
		o.SnapshotRatio = -1
	}
	return o, nil
}

// jsErrReplicasNotSupported is JetStream's answer to a replicated stream
// on a server that is not part of a cluster.
const jsErrReplicasNotSupported = 10074

// durability states what an acknowledged edit survives with a stream of
// replicas copies, for the startup log (docs/cluster.md, Durability).
func durability(replicas int) string {
	if replicas == 1 {
		return "an acknowledged edit is on one NATS server: it survives a crash of collabd or of the NATS process, " +
			"not of the NATS machine unless that server's sync_interval is always (by default up to 2 minutes of edits can be lost)"
	}
	return fmt.Sprintf("an acknowledged edit is on %d of %d NATS servers: it survives the loss of %d of them; "+
		"a power cut of all of them at once can lose what they had not flushed (sync_interval, 2 minutes by default) unless it is always",
		replicas/2+1, replicas, (replicas-1)/2)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
