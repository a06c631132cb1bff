package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// debugHandler serves Go's profiles (/debug/pprof/) for -debug-addr, on a
// listener of its own so that they are never reachable where the editors
// are: a CPU profile costs the server, and a heap profile shows memory.
func debugHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// listenDebug starts the profiling endpoints on addr; the server is
// closed by the caller.
func listenDebug(addr string) (*http.Server, net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	return &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second}, ln, nil
}
