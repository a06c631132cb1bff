package collab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// The tests that need some store, not a memory.Store in particular, take it
// from newTestStore: a memory.Store, or a cluster.Store on an in-process NATS
// JetStream server, so that a Server over a cluster store (following its
// documents, hearing other nodes' editors) is held to the same behaviour.
// They run on the cluster store under TestOnCluster, or all of them with
// COLLAB_TEST_STORE=nats.

const testStoreEnv = "COLLAB_TEST_STORE"

// onClusterTests are the tests TestOnCluster runs again over a cluster
// store.
var onClusterTests = []OnClusterTest{
	{"TestSession", TestSession},
	{"TestErrorBeforeClose", TestErrorBeforeClose},
	{"TestHTTPAPI", TestHTTPAPI},
	{"TestOrigin", TestOrigin},
	{"TestBadInput", TestBadInput},
	{"TestJoinCrowdedDocument", TestJoinCrowdedDocument},
	{"TestDuplicateSubmit", TestDuplicateSubmit},
	{"TestResume", TestResume},
	{"TestStalledClient", TestStalledClient},
	{"TestUnload", TestUnload},
	{"TestShutdown", TestShutdown},
	{"TestLimits", TestLimits},
	{"TestMessageRateLimitCounted", TestMessageRateLimitCounted},
	{"TestNoCompression", TestNoCompression},
	{"TestPingsReachIdleConnection", TestPingsReachIdleConnection},
	{"TestPipelinedMessages", TestPipelinedMessages},
	{"TestBadTokens", TestBadTokens},
	{"TestReadToken", TestReadToken},
	{"TestAdminEndpoints", TestAdminEndpoints},
	{"TestPrefixToken", TestPrefixToken},
	{"TestNoOriginNeedsToken", TestNoOriginNeedsToken},
	{"TestTokensNotLogged", TestTokensNotLogged},
	{"TestCrossSiteHijack", TestCrossSiteHijack},
	{"TestClientIDPrivate", TestClientIDPrivate},
	{"TestRefreshInBand", TestRefreshInBand},
	{"TestExpiryEndsSession", TestExpiryEndsSession},
	{"TestRefreshDowngrades", TestRefreshDowngrades},
	{"TestRevokeToken", TestRevokeToken},
}

// TestOnCluster runs onClusterTests with newTestStore giving cluster
// stores.
func TestOnCluster(t *testing.T) {
	RunOnCluster(t, onClusterTests...)
}

// OnClusterTest is a test that RunOnCluster runs again over a cluster store.
type OnClusterTest struct {
	Name string
	Test func(*testing.T)
}

// RunOnCluster runs tests as subtests of t, a test whose name begins with
// TestOnCluster, so that newTestStore gives them cluster stores; also for
// the package collab_test. It skips when COLLAB_TEST_STORE is nats: every
// test runs on a cluster store already.
func RunOnCluster(t *testing.T, tests ...OnClusterTest) {
	if !strings.HasPrefix(t.Name(), "TestOnCluster") {
		t.Fatalf("RunOnCluster from %s: the test's name must begin with TestOnCluster", t.Name())
	}
	if os.Getenv(testStoreEnv) == "nats" {
		t.Skipf("%s=nats: every test runs on a cluster store already", testStoreEnv)
	}
	for _, tt := range tests {
		t.Run(tt.Name, tt.Test)
	}
}

// NewTestStore is newTestStore for the package collab_test.
func NewTestStore(t testing.TB) storage.Store { return newTestStore(t) }

func TestMain(m *testing.M) {
	code := m.Run()
	testNATS.stop()
	os.Exit(code)
}

// newTestStore returns an empty store for the test: a cluster store when
// the test runs under RunOnCluster or COLLAB_TEST_STORE is "nats", a
// memory.Store otherwise. The store closes at the end of the test, after the
// servers started later.
func newTestStore(t testing.TB) storage.Store {
	t.Helper()
	switch kind := os.Getenv(testStoreEnv); {
	case kind == "nats" || strings.HasPrefix(t.Name(), "TestOnCluster"):
		return newClusterStore(t)
	case kind == "" || kind == "mem":
		return memory.New()
	default:
		t.Fatalf("%s=%q: want mem or nats", testStoreEnv, kind)
		return nil
	}
}

// clusterStores numbers the cluster stores, each on its own stream.
var clusterStores atomic.Int64

func newClusterStore(t testing.TB) *cluster.Store {
	t.Helper()
	return newClusterStoreWith(t, cluster.Options{})
}

// openClusterStore opens a cluster store with prefix: stores opened with
// one prefix are nodes of one cluster.
func openClusterStore(t testing.TB, prefix string) *cluster.Store {
	t.Helper()
	return newClusterStoreWith(t, cluster.Options{Prefix: prefix})
}

// newClusterStoreWith is newClusterStore with opts for the fields the
// tests' stores do not set (a Prefix given is kept: see openClusterStore).
func newClusterStoreWith(t testing.TB, opts cluster.Options) *cluster.Store {
	t.Helper()
	url, err := testNATS.url()
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testWait)
	defer cancel()
	opts.URLs = []string{url}
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("t%d", clusterStores.Add(1))
	}
	opts.Heartbeat = 100 * time.Millisecond
	opts.Name = "collab-test"
	opts.Logger = quietLogger()
	st, err := cluster.Open(ctx, opts)
	if err != nil {
		t.Fatalf("cluster.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// pruneTo drops document id's records up to rev, whose head must be
// rev+1: a cluster store prunes at its head, whose record it keeps.
func pruneTo(t *testing.T, st storage.Store, id string, rev uint64) {
	t.Helper()
	if doc, err := st.Load(t.Context(), id); err != nil || doc.Rev != rev+1 {
		t.Fatalf("pruneTo(%s, %d): head %d (%v), want %d", id, rev, doc.Rev, err, rev+1)
	}
	var err error
	switch st := st.(type) {
	case *memory.Store:
		err = st.Prune(id, rev)
	case *cluster.Store:
		err = st.Prune(t.Context(), id)
	default:
		t.Fatalf("pruneTo: %T does not prune", st)
	}
	if err != nil {
		t.Fatalf("prune %s to %d: %v", id, rev, err)
	}
}

// testNATS is the NATS server of the package's cluster stores, started by
// the first one and stopped by TestMain.
var testNATS natsServer

type natsServer struct {
	once sync.Once
	srv  *server.Server
	dir  string
	err  error
}

func (n *natsServer) url() (string, error) {
	n.once.Do(n.start)
	if n.err != nil {
		return "", n.err
	}
	return n.srv.ClientURL(), nil
}

func (n *natsServer) start() {
	n.dir, n.err = os.MkdirTemp("", "collab-nats-")
	if n.err != nil {
		return
	}
	n.srv, n.err = server.NewServer(&server.Options{
		ServerName: "collab-test",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   n.dir,
		NoLog:      true,
		NoSigs:     true,
	})
	if n.err != nil {
		return
	}
	n.srv.Start()
	if !n.srv.ReadyForConnections(testWait) {
		n.err = fmt.Errorf("not ready after %v", testWait)
	}
}

func (n *natsServer) stop() {
	if n.srv != nil {
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	}
	if n.dir != "" {
		os.RemoveAll(n.dir)
	}
}

// goroutines counts the process's goroutines but the in-process NATS
// server's, which in production run in another process (and keep idle
// consumers for a while after their readers went).
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if !bytes.Contains(g, []byte("github.com/nats-io/nats-server/")) {
			n++
		}
	}
	return n
}
