package natstest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Process is a NATS server with JetStream in a process of its own, built
// from the module's nats-server: killing it is what a crash or a restart
// of a real server does to its clients. (A server restarted inside the
// test's process now and then answers no JetStream request afterwards
// while a key-value watch was open.)
type Process struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd // nil while killed
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// RunProcess starts nats-server, built on first use into a directory of
// the system's temporary one named for the module's nats-server version
// (and kept for later runs), and kills it at the end of the test.
func RunProcess(t testing.TB) *Process {
	t.Helper()
	buildOnce.Do(func() { binary, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("natstest: build nats-server: %v", buildErr)
	}
	p := &Process{t: t, port: freePort(t), dir: t.TempDir()}
	p.Start()
	t.Cleanup(p.Kill)
	return p
}

// build returns the path of nats-server at the version this module
// requires, building it if it is not there yet.
func build() (string, error) {
	const pkg = "github.com/nats-io/nats-server/v2"
	version, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("go list -m %s: %w", pkg, err)
	}
	dir := filepath.Join(os.TempDir(), "collab-natstest-"+strings.TrimSpace(string(version)))
	bin := filepath.Join(dir, "nats-server")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	out, err := exec.Command("go", "build", "-o", tmp.Name(), pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%v: %s", err, out)
	}
	// Another test binary may have built it meanwhile: either is fine.
	return bin, os.Rename(tmp.Name(), bin)
}

// Start starts the server (again, after Kill) on its port and store and
// waits until it accepts connections.
func (p *Process) Start() {
	p.t.Helper()
	cmd := exec.Command(binary, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(p.port), "-sd", p.dir)
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("natstest: start nats-server: %v", err)
	}
	p.cmd = cmd
	deadline := time.Now().Add(wait)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", p.port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("natstest: nats-server on port %d not ready: %v", p.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the server as SIGKILL does.
func (p *Process) Kill() {
	if p.cmd != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// URL is the client URL, valid also while killed.
func (p *Process) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", p.port) }
