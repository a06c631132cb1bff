package cluster

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/collabd/collab/storage"
)

var (
	_ storage.Store     = (*Store)(nil)
	_ storage.Follower  = (*Store)(nil)
	_ storage.Bus       = (*Store)(nil)
	_ storage.OpSizer   = (*Store)(nil)
	_ storage.Collector = (*Store)(nil)
)

// Options configure a Store. The zero value of each field selects the
// default given in its comment.
type Options struct {
	// URLs of NATS servers of one cluster (nats://host:4222); default
	// nats.DefaultURL.
	URLs []string
	// Replicas is the replication factor of the op stream and the
	// snapshot bucket: 1 (default) for a single NATS server, 3 in
	// production. Changing it for an existing stream updates the stream.
	Replicas int
	// Prefix names the subjects (Prefix.ops.<doc>, Prefix.pres.<doc>,
	// Prefix.nodes), the stream (PREFIX_OPS) and the bucket
	// (Prefix_snapshots, Prefix_large_snapshots); default "collab". Servers that share documents
	// share it.
	Prefix string
	// SnapshotEvery is the number of ops after which the committing node
	// writes a snapshot; default 256.
	SnapshotEvery uint64
	// KeepFor is how long history is kept (PruneHistory); zero keeps all.
	// Older history goes up to a document's newest snapshot, so somewhat
	// more is kept.
	KeepFor time.Duration
	// KeepOps is how many of a document's newest ops are kept at least
	// (zero: all). The node that writes a snapshot prunes the document
	// then, and PruneHistory does too; with KeepFor as well, an op goes
	// only when both windows have passed it.
	KeepOps uint64
	// Heartbeat is the interval of this node's liveness beacon; a node
	// silent for three of them is taken for dead and its editors vanish
	// from other nodes' documents. Default 2s.
	Heartbeat time.Duration
	// LeaseTTL is how long a node's lease (Lead) lasts unless renewed: a
	// node that dies holding one is replaced after at most this long.
	// Every node sharing the Prefix must use the same; default 10s.
	LeaseTTL time.Duration
	// Timeout bounds one request to NATS when the caller's context does
	// not bound it tighter; default 2s.
	Timeout time.Duration
	// Name identifies this node in NATS connection names and logs; default
	// the host name. A random suffix keeps nodes of one host apart.
	Name string
	// NATS are extra connection options (TLS, credentials, …).
	NATS []nats.Option
	// Logger receives the store's logs; default slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if len(o.URLs) == 0 {
		o.URLs = []string{nats.DefaultURL}
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Prefix == "" {
		o.Prefix = "collab"
	}
	if o.SnapshotEvery == 0 {
		o.SnapshotEvery = 256
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 2 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Name == "" {
		o.Name, _ = os.Hostname()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Store keeps documents in NATS JetStream. It implements storage.Store,
// plus the optional storage.Follower (a feed of each document's commits),
// storage.Bus (presence between nodes), storage.HistoryStore (authorship
// and named versions), storage.OpSizer and storage.Collector.
type Store struct {
	opts     Options
	log      *slog.Logger
	node     string // unique id of this Store among the nodes
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	snaps    jetstream.KeyValue    // snapshots, or for a large one where it is
	versions jetstream.KeyValue    // named versions, or for a large one where it is
	blobs    jetstream.ObjectStore // large snapshots, in chunks
	revoked  jetstream.KeyValue    // token revocations (see revocations.go)
	subj     string                // prefix of the document subjects: Prefix + ".ops."
	metrics  *metrics
	bus      *bus

	kvMu    sync.Mutex
	cursors jetstream.KeyValue // guarded by kvMu: created on first use (cursors.go)
	leases  jetstream.KeyValue // guarded by kvMu: created on first use (lease.go)

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the Store starts

	mu     sync.Mutex
	docs   map[string]*docCache // guarded by mu
	closed bool                 // guarded by mu
	// reconn is closed at the next reconnection to NATS; nil until asked
	// for (reconnected). Guarded by mu.
	reconn chan struct{}
}

// reconnected returns a channel closed at the next reconnection to NATS.
func (s *Store) reconnected() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reconn == nil {
		s.reconn = make(chan struct{})
	}
	return s.reconn
}

// maxCached bounds the documents whose heads are remembered while nobody
// follows them.
const maxCached = 4096

// Open connects to NATS, creates or updates the stream and the snapshot
// bucket, and starts the node's liveness beacon. ctx bounds the setup.
func Open(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if strings.ContainsAny(opts.Prefix, ".*> \t") {
		return nil, fmt.Errorf("cluster: prefix %q must be one subject token", opts.Prefix)
	}
	s := &Store{
		opts:    opts,
		log:     opts.Logger,
		node:    opts.Name + "-" + randomID(),
		subj:    opts.Prefix + ".ops.",
		metrics: newMetrics(),
		docs:    make(map[string]*docCache),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.bus = newBus(s) // before the connection, whose reconnects it hears
	nopts := append([]nats.Option{
		nats.Name("collabd " + s.node),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		// No reconnect buffer: a commit attempted while NATS is away fails
		// at once instead of landing unseen minutes later.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			s.metrics.connected.Set(0)
			s.log.Warn("cluster: disconnected from nats", "err", err)
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			s.metrics.connected.Set(1)
			s.metrics.reconnects.Inc()
			s.log.Info("cluster: reconnected to nats", "url", c.ConnectedUrlRedacted())
			s.bus.resync()
			s.mu.Lock()
			if s.reconn != nil {
				close(s.reconn)
				s.reconn = nil
			}
			s.mu.Unlock()
		}),
	}, opts.NATS...)
	nc, err := nats.Connect(strings.Join(opts.URLs, ","), nopts...)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect: %w: %w", storage.ErrUnavailable, err)
	}
	s.nc = nc
	s.metrics.connected.Set(1)
	if err := s.setup(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := s.bus.start(); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) setup(ctx context.Context) error {
	js, err := jetstream.New(s.nc, jetstream.WithDefaultTimeout(s.opts.Timeout))
	if err != nil {
		return fmt.Errorf("cluster: jetstream: %w", err)
	}
	s.js = js
	cfg := jetstream.StreamConfig{
		Name:        strings.ToUpper(s.opts.Prefix) + "_OPS",
		Description: "collab document op logs, one subject per document",
		Subjects:    []string{s.subj + ">"},
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew, // never drop history to make room
		Duplicates:  2 * time.Minute,
		// Reads go to the leader so that a node sees every acknowledged
		// commit (a direct get may be answered by a lagging replica).
		AllowDirect: false,
	}
	// A cluster just (re)started answers once its stream has a leader.
	err = s.retry(ctx, func(ctx context.Context) (err error) {
		s.stream, err = js.CreateOrUpdateStream(ctx, cfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: create stream: %w", natsErr("setup", err))
	}
	err = s.retry(ctx, func(ctx context.Context) (err error) {
		s.snaps, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      s.opts.Prefix + "_snapshots",
			Description: "collab document snapshots",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    s.opts.Replicas,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: create snapshot bucket: %w", natsErr("setup", err))
	}
	err = s.retry(ctx, func(ctx context.Context) (err error) {
		s.blobs, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      s.opts.Prefix + "_large_snapshots",
			Description: "collab snapshots larger than a NATS message",
			Storage:     jetstream.FileStorage,
			Replicas:    s.opts.Replicas,
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("cluster: create large snapshot bucket: %w", natsErr("setup", err))
	}
	if err := s.createRevocationBucket(ctx); err != nil {
		return fmt.Errorf("cluster: create revocation bucket: %w", natsErr("setup", err))
	}
	return s.setupVersions(ctx)
}

// Node is this Store's unique name among the nodes sharing the cluster.
func (s *Store) Node() string { return s.node }

// Close stops the feeds, the beacon and background snapshots, tells the
// other nodes this one is leaving, and closes the connection. Shut the
// collab.Server down first.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.bus.stop()
	s.cancel()
	s.wg.Wait()
	s.nc.Close()
	return nil
}

// reqCtx bounds one NATS request by Options.Timeout within ctx.
func (s *Store) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// docSubject is the subject of document id's op log.
func (s *Store) docSubject(id string) string { return s.subj + encodeKey(id) }

func randomID() string {
	var b [6]byte
	crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// natsErr classifies an error of a NATS call: a lost connection or a
// timeout becomes storage.ErrUnavailable, which collab reports as "unavailable".
func natsErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, nats.ErrTimeout), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrReconnectBufExceeded),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return fmt.Errorf("cluster: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 503 {
		return fmt.Errorf("cluster: %s: %w: %w", op, storage.ErrUnavailable, err)
	}
	return fmt.Errorf("cluster: %s: %w", op, err)
}
