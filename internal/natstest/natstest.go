// Package natstest runs NATS servers with JetStream inside a test process,
// on loopback, with their stores in the test's temporary directory: a
// single server, or a cluster whose members can be stopped and restarted
// on the same ports and stores.
package natstest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// wait bounds every wait of the package (start, leader election).
const wait = 20 * time.Second

// Server is one in-process NATS server.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server // nil while stopped
}

// Run starts a single NATS server with JetStream; it stops at the end of
// the test.
func Run(t testing.TB) *Server { return RunWith(t, nil) }

// RunWith is Run with options changed by set (e.g. a small MaxPayload).
func RunWith(t testing.TB, set func(*server.Options)) *Server {
	t.Helper()
	s := &Server{t: t, opts: baseOptions(t, "n1", freePort(t))}
	if set != nil {
		set(&s.opts)
	}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// RunCluster starts an n-server JetStream cluster and waits until it has a
// meta leader; the servers stop at the end of the test.
func RunCluster(t testing.TB, n int) []*Server {
	t.Helper()
	routes := make([]*url.URL, n)
	ports := make([]int, n)
	for i := range n {
		ports[i] = freePort(t)
		routes[i] = &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	}
	servers := make([]*Server, n)
	for i := range n {
		o := baseOptions(t, fmt.Sprintf("n%d", i+1), ports[i])
		o.Cluster = server.ClusterOpts{Name: "collab-test", Host: "127.0.0.1", Port: portOf(routes[i])}
		o.Routes = routes
		servers[i] = &Server{t: t, opts: o}
	}
	for _, s := range servers {
		s.launch()
		t.Cleanup(s.Stop)
	}
	for _, s := range servers {
		s.ready()
	}
	WaitLeader(t, servers)
	return servers
}

func baseOptions(t testing.TB, name string, port int) server.Options {
	return server.Options{
		ServerName: name,
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}
}

// Start starts the server (again, after Stop) on its port and store and
// waits until it accepts connections.
func (s *Server) Start() {
	s.launch()
	s.ready()
}

func (s *Server) launch() {
	o := s.opts
	srv, err := server.NewServer(&o)
	if err != nil {
		s.t.Fatalf("natstest: %s: %v", o.ServerName, err)
	}
	srv.Start()
	s.srv = srv
}

func (s *Server) ready() {
	if !s.srv.ReadyForConnections(wait) {
		s.t.Fatalf("natstest: %s not ready", s.opts.ServerName)
	}
}

// StartAll starts stopped servers of a cluster together (each waits for
// the others' routes) and waits for a JetStream meta leader.
func StartAll(t testing.TB, servers []*Server) {
	t.Helper()
	for _, s := range servers {
		if s.srv == nil {
			s.launch()
		}
	}
	for _, s := range servers {
		s.ready()
	}
	WaitLeader(t, servers)
}

// Stop shuts the server down, as a crash of its process would.
func (s *Server) Stop() {
	if s.srv != nil {
		s.srv.Shutdown()
		s.srv.WaitForShutdown()
		s.srv = nil
	}
}

// URL is the client URL, valid also while stopped.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// Running reports whether the server is started.
func (s *Server) Running() bool { return s.srv != nil }

// Server returns the running server, nil if stopped.
func (s *Server) Server() *server.Server { return s.srv }

// URLs joins the client URLs of servers.
func URLs(servers []*Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.URL()
	}
	return out
}

// WaitLeader waits until one of the running servers is the JetStream meta
// leader and every running one is current with it.
func WaitLeader(t testing.TB, servers []*Server) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		leader, current := false, true
		for _, s := range servers {
			if s.srv == nil {
				continue
			}
			leader = leader || s.srv.JetStreamIsLeader()
			current = current && s.srv.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a state nothing signals
	}
	t.Fatalf("natstest: no JetStream meta leader among %s", strings.Join(URLs(servers), ", "))
}

func freePort(t testing.TB) int {
	// Below the kernel's ephemeral range when it is known: a port from
	// that range, once closed, can become the source port of any outgoing
	// loopback connection (tests in parallel make thousands), and a server
	// started or restarted on it then fails to listen.
	low := ephemeralLow()
	for range 100 {
		if low <= 10000 {
			break
		}
		port := 10000 + rand.IntN(low-10000)
		if l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			l.Close()
			return port
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ephemeralLow is the first port the kernel hands out as a source port, or
// 0 if unknown.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	var low int
	fmt.Sscan(string(b), &low)
	return low
}

func portOf(u *url.URL) int {
	_, p, _ := net.SplitHostPort(u.Host)
	var n int
	fmt.Sscan(p, &n)
	return n
}
