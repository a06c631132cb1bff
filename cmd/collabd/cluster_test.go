package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/collabd/collab/ot"
)

// dialWS connects to addr's /ws as client (internal/rawclient).
func dialWS(t *testing.T, addr, client string) *rawclient.T {
	t.Helper()
	c, _, err := rawclient.Dial(context.Background(), websocket.DefaultDialer, "ws://"+addr+"/ws", nil, 15*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return rawclient.NewT(t, c, client)
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestRunCluster runs two collabd nodes on one NATS server, one given
// -nats and the other COLLAB_NATS, and edits one document through both.
func TestRunCluster(t *testing.T) {
	url := natstest.Run(t).URL()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr1, wait1 := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-nats", url, "-nats-replicas", "1", "-nats-accept-r1", "-node-name", "n1"}, nil)
	addr2, wait2 := startRun(t, ctx, []string{"-addr", "127.0.0.1:0", "-log-level", "error"},
		[]string{"COLLAB_NATS=" + url, "COLLAB_NATS_REPLICAS=1", "COLLAB_NATS_ACCEPT_R1=true", "COLLAB_NODE_NAME=n2", "COLLAB_NATS_PREFIX=collab"})

	a := dialWS(t, addr1, "ada")
	a.Join("notes", nil)
	a.Submit("notes", 0, 1, new(ot.Builder).Insert("from node 1").Op())
	a.Ack(1)

	// The other node serves what the first committed.
	b := dialWS(t, addr2, "bo")
	joined := b.Join("notes", nil)
	if joined.Text == nil || *joined.Text != "from node 1" || joined.Rev != 1 {
		t.Fatalf("joined on node 2: rev %d text %v, want rev 1 %q", joined.Rev, joined.Text, "from node 1")
	}
	if code, body := httpGet(t, "http://"+addr2+"/api/docs/notes"); code != 200 || !strings.Contains(body, "from node 1") {
		t.Fatalf("GET on node 2 = %d %s", code, body)
	}

	// An edit on node 1 reaches the editor on node 2 live.
	second := new(ot.Builder).Retain(len("from node 1")).Insert(", live").Op()
	a.Submit("notes", 1, 2, second)
	a.Ack(2)
	var op wire.Op
	b.Expect(wire.TypeOp, &op)
	if op.Rev != 2 || op.Client != wire.PublicID("ada") || op.Seq != 2 {
		t.Fatalf("op on node 2 = %+v, want ada's seq 2 as rev 2", op)
	}

	// The same client moves to node 2 and resubmits its seq 2, as after a
	// lost ack: acknowledged with its revision, not applied again.
	a.Close()
	a = dialWS(t, addr2, "ada")
	a.Join("notes", ptr(uint64(1)))
	a.Submit("notes", 1, 2, second)
	if ack := a.Ack(2); ack.Rev != 2 {
		t.Fatalf("resubmitted seq 2 on node 2: ack %+v, want seq 2 rev 2", ack)
	}
	for _, addr := range []string{addr1, addr2} {
		code, body := httpGet(t, "http://"+addr+"/api/docs/notes")
		if code != 200 || !strings.Contains(body, `"text":"from node 1, live"`) || !strings.Contains(body, `"rev":2`) {
			t.Fatalf("GET on %s = %d %s, want rev 2 with each edit once", addr, code, body)
		}
	}

	if code, body := httpGet(t, "http://"+addr1+"/metrics"); code != 200 ||
		!strings.Contains(body, "collab_cluster_nats_connected 1") || !strings.Contains(body, "collab_ops_applied_total 2") {
		t.Fatalf("/metrics = %d, lacks the cluster's or the server's metrics:\n%s", code, body)
	}

	cancel()
	wait1()
	wait2()
}

func ptr[T any](v T) *T { return &v }

// TestClusterFlags: flags that do not apply to cluster mode are refused
// with a clear message, before anything is opened.
func TestClusterFlags(t *testing.T) {
	ctx := context.Background()
	natsEnv := []string{"COLLAB_NATS=nats://127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		env  []string
		want string
	}{
		{[]string{"compact", "-data", "x.db", "-out", "y.db"}, natsEnv, "compact: not available in cluster mode"},
		{[]string{"backup", "-url", "http://127.0.0.1:1", "-out", "y.db"}, natsEnv, "backup: not available in cluster mode"},
		{[]string{"backup", "-nats", "nats://127.0.0.1:1", "-data", "x.db", "-out", "y.db"}, nil, "backup: not available in cluster mode"},
		{[]string{"-addr", "127.0.0.1:0", "-data", "x.db"}, natsEnv, "-data does not apply with -nats"},
		{[]string{"-addr", "127.0.0.1:0", "-snapshot-ratio", "2"}, natsEnv, "-snapshot-ratio does not apply with -nats"},
		{[]string{"-addr", "127.0.0.1:0", "-nats-replicas", "0"}, natsEnv, "-nats-replicas: at least 1"},
		{[]string{"-addr", "127.0.0.1:0", "-nats", "nats://127.0.0.1:1"}, nil, "-nats: "},
		{[]string{"-addr", "127.0.0.1:0", "-nats-replicas", "1"}, natsEnv, "-nats-replicas 1 keeps each edit on one NATS server"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				if strings.HasSuffix(a, ".db") {
					a = dir + "/" + a
				}
				args[i] = a
			}
			err := run(ctx, args, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("run %v = %v, want an error with %q", args, err, tc.want)
			}
		})
	}
}

// TestReplicasOnSingleServer: the default three replicas on a single NATS
// server fail with a hint at the R1 flags; with them, collabd starts.
func TestReplicasOnSingleServer(t *testing.T) {
	url := natstest.Run(t).URL()
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-log-level", "error", "-nats", url}, nil)
	if err == nil || !strings.Contains(err.Error(), "-nats-replicas 1 -nats-accept-r1") {
		t.Fatalf("run with R3 on one NATS server = %v, want the hint at -nats-replicas 1 -nats-accept-r1", err)
	}
}

// TestDurabilityStated: what the startup log says an acknowledged edit
// survives, per replication factor.
func TestDurabilityStated(t *testing.T) {
	for _, tc := range []struct {
		replicas int
		want     []string
	}{
		{1, []string{"on one NATS server", "not of the NATS machine", "sync_interval is always"}},
		{3, []string{"on 2 of 3 NATS servers", "the loss of 1 of them", "power cut of all of them"}},
		{5, []string{"on 3 of 5 NATS servers", "the loss of 2 of them"}},
	} {
		got := durability(tc.replicas)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("durability(%d) = %q, lacks %q", tc.replicas, got, w)
			}
		}
	}
}
