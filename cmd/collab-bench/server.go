package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/internal/bench/hub"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/storage/memory"
)

// local is a server run inside this process on a loopback port.
type local struct {
	base  string // http://127.0.0.1:port
	stop  func()
	stats func() bolt.Stats // the bbolt store's counters; nil for other stores
}

func serve(h http.Handler) (*local, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ErrorLog: nil}
	done := make(chan struct{})
	go func() { defer close(done); hs.Serve(ln) }()
	return &local{
		base: "http://" + ln.Addr().String(),
		stop: func() { hs.Close(); <-done },
	}, nil
}

// startInproc runs collabd's server with a fresh bbolt file in dir (a new
// temporary directory when dir is empty). Acks are durable as in collabd;
// the per-connection message rate limit is lifted, since a benchmark
// editor legitimately exceeds a person's typing rate.
func startInproc(dir string, mem bool, queueLen int) (*local, error) {
	if mem {
		return startServer(memory.New(), func() {}, queueLen)
	}
	cleanup := func() {}
	if dir == "" {
		d, err := os.MkdirTemp("", "collab-bench-")
		if err != nil {
			return nil, err
		}
		dir, cleanup = d, func() { os.RemoveAll(d) }
	}
	db, err := bolt.Open(filepath.Join(dir, "bench.db"), bolt.Options{})
	if err != nil {
		cleanup()
		return nil, err
	}
	l, err := startServer(db, func() { db.Close(); cleanup() }, queueLen)
	if err != nil {
		return nil, err
	}
	l.stats = db.Stats
	return l, nil
}

// startServer serves collabd's server over store; closeStore runs after
// the server has shut down.
func startServer(store storage.Store, closeStore func(), queueLen int) (*local, error) {
	srv := collab.NewServer(store, collab.Options{
		QueueLen:   queueLen,
		Rate:       1e9,
		Burst:      1 << 30,
		WriteRate:  -1, // the load generator's, not the server's, limits apply
		DocGrowth:  -1,
		MaxEditors: 100_000,
		Logger:     slog.New(slog.DiscardHandler),
	})
	l, err := serve(srv)
	if err != nil {
		closeStore()
		return nil, err
	}
	stopHTTP := l.stop
	l.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		stopHTTP()
		closeStore()
	}
	return l, nil
}

func startBaseline() (*local, error) { return serve(hub.New()) }

// raiseFDLimit lifts the soft limit on open files to the hard limit: each
// editor holds a socket, and so does the server for it.
func raiseFDLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

func checkFDs(need int, limit uint64) error {
	if limit > 0 && uint64(need)+64 > limit {
		return fmt.Errorf("%d connections need about %d file descriptors, the limit is %d: run the server as its own process (-server URL)", need/2, need+64, limit)
	}
	return nil
}
