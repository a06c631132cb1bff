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

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage"
)

// clusterConfig are the flags of cluster mode.
type clusterConfig struct {
	urls     string
	replicas int
	prefix   string
	node     string
	creds    string
	timeout  time.Duration
}

func clusterFlags(fs *flag.FlagSet, c *clusterConfig) {
	fs.StringVar(&c.urls, "nats", "", "comma-separated NATS URLs (nats://host:4222): run as a node of a cluster whose documents live in NATS JetStream; empty: the embedded database (-data)")
	fs.IntVar(&c.replicas, "nats-replicas", 1, "replication factor of the JetStream stream and bucket (3 in production; 1 for a single NATS server)")
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
// the documents and their history are JetStream's.
var notInCluster = []string{"data", "keep-ops", "keep-for", "prune-every"}

// backend is the store collabd serves documents from.
type backend struct {
	store collab.Store
	close func() error
	prune func(ctx context.Context) (int, error) // nil: no history pruning here
	desc  []any                                  // log attributes
}

// openBackend opens the cluster store when -nats is set, the bbolt file
// otherwise.
func openBackend(ctx context.Context, c *config, set map[string]bool, log *slog.Logger) (*backend, error) {
	if c.cluster.urls == "" {
		db, err := storage.Open(c.data, c.store)
		if err != nil {
			return nil, err
		}
		return &backend{store: db, close: db.Close, prune: db.Prune, desc: []any{"data", c.data}}, nil
	}
	for _, name := range notInCluster {
		if set[name] {
			return nil, fmt.Errorf("-%s does not apply with -nats: the documents and their history live in NATS JetStream", name)
		}
	}
	if c.cluster.replicas < 1 {
		return nil, errors.New("-nats-replicas: at least 1")
	}
	opts := cluster.Options{
		URLs:     splitList(c.cluster.urls),
		Replicas: c.cluster.replicas,
		Prefix:   c.cluster.prefix,
		Name:     c.cluster.node,
		Timeout:  c.cluster.timeout,
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
	if err != nil {
		return nil, fmt.Errorf("-nats: %w", err)
	}
	return &backend{
		store: st,
		close: st.Close,
		desc:  []any{"nats", strings.Join(opts.URLs, ","), "replicas", opts.Replicas, "node", st.Node()},
	}, nil
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
