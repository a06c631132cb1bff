package cluster_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
)

// Two collab nodes share documents through NATS: an edit made through one
// is read through the other. In production the nodes are separate
// processes behind a load balancer, and NATS is a three-server cluster
// (Replicas: 3).
func Example() {
	dir, _ := os.MkdirTemp("", "nats")
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)

	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node := func() (*cluster.Store, *httptest.Server, func()) {
		st, err := cluster.Open(ctx, cluster.Options{URLs: []string{ns.ClientURL()}, Replicas: 1, Logger: quiet})
		if err != nil {
			panic(err)
		}
		srv := collab.NewServer(st, collab.Options{Logger: quiet})
		ts := httptest.NewServer(srv) // or http.Server{Handler: srv}
		return st, ts, func() {
			ts.Close()
			srv.Shutdown(ctx) // first the server, then its store
			st.Close()
		}
	}
	_, a, stopA := node()
	defer stopA()
	_, b, stopB := node()
	defer stopB()

	put(a.URL+"/api/docs/notes", "written through node a")
	fmt.Println(get(b.URL + "/api/docs/notes"))
	// Output:
	// {"id":"notes","rev":1,"text":"written through node a"}
}

func put(url, body string) {
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
}

func get(url string) string {
	res, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return strings.TrimSpace(string(b))
}
