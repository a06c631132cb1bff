package collab

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/memory"
)

// An idle crowd: many editors connected and joined, nobody typing. The
// server runs in a child process (this test binary, TestIdleHelperProcess)
// so that its RSS is its own; the editors are raw sockets in this process
// that say hello, join and then read nothing more.

const idleHelperEnv = "COLLAB_IDLE_HELPER"

// TestIdleHelperProcess is the server of the idle-crowd measurements when
// run as a child of one; otherwise it has nothing to do.
func TestIdleHelperProcess(t *testing.T) {
	if os.Getenv(idleHelperEnv) != "1" {
		return
	}
	if os.Getenv("COLLAB_IDLE_HEAP") != "" {
		runtime.MemProfileRate = 1 // every allocation, for a per-connection account
	}
	opts := Options{Logger: quietLogger(), PingPeriod: time.Hour, PongWait: 2 * time.Hour}
	if os.Getenv(idleHelperEnv+"_PINGS") == "1" {
		opts.PingPeriod, opts.PongWait = 0, 0 // the defaults: a raw editor answers no ping
	}
	srv := NewServer(memory.New(), opts)
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.HandleFunc("/heap", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		pprof.Lookup("heap").WriteTo(w, 0)
	})
	mux.HandleFunc("/memstats", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("gc") == "1" {
			debug.FreeOSMemory()
		}
		json.NewEncoder(w).Encode(readMem(os.Getpid()))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
	go http.Serve(ln, mux)
	io.Copy(io.Discard, os.Stdin) // until the parent is done
	os.Exit(0)
}

// memSample is a process's memory: RSS from /proc, the rest from the Go
// runtime.
type memSample struct {
	RSS, HeapInuse, StackInuse, Sys uint64
	Goroutines                      int
}

func readMem(pid int) memSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{RSS: rssOf(pid), HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse, Sys: ms.Sys, Goroutines: runtime.NumGoroutine()}
}

// rssOf is VmRSS of pid in bytes, 0 if unknown (no /proc).
func rssOf(pid int) uint64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// idleServer is a child process serving the idle crowd.
type idleServer struct {
	addr  string
	stdin io.Closer
	cmd   *exec.Cmd
}

func startIdleServer(tb testing.TB, pings bool) *idleServer {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestIdleHelperProcess$")
	cmd.Env = append(os.Environ(), idleHelperEnv+"=1")
	if pings {
		cmd.Env = append(cmd.Env, idleHelperEnv+"_PINGS=1")
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &idleServer{stdin: stdin, cmd: cmd}
	tb.Cleanup(s.stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("idle server: %v", err)
	}
	s.addr = strings.TrimSpace(line)
	return s
}

func (s *idleServer) stop() {
	s.stdin.Close()
	s.cmd.Wait()
}

func (s *idleServer) mem(tb testing.TB, gc bool) memSample {
	tb.Helper()
	url := "http://" + s.addr + "/memstats"
	if gc {
		url += "?gc=1"
	}
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var m memSample
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// heapProfile writes the server's heap profile to file.
func (s *idleServer) heapProfile(tb testing.TB, file string) {
	tb.Helper()
	resp, err := http.Get("http://" + s.addr + "/heap")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := os.Create(file)
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, resp.Body); err != nil {
		tb.Fatal(err)
	}
}

// maskedText is a client's text frame with a zero mask key (XOR with zero
// leaves the payload as it is).
func maskedText(payload []byte) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

// idleEditor connects to addr, says hello as client, joins doc and returns
// once "joined" has arrived. It reads nothing more.
func idleEditor(addr, client, doc string) (net.Conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(testWait))
	hello, _ := json.Marshal(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: client, Name: client})
	join, _ := json.Marshal(wire.Join{Type: wire.TypeJoin, Doc: doc})
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	// gorilla refuses frames sent before its answer to the upgrade.
	if _, err := nc.Write([]byte(req)); err != nil {
		nc.Close()
		return nil, err
	}
	var got []byte
	readUntil := func(s string) error {
		buf := make([]byte, 512)
		for !bytes.Contains(got, []byte(s)) {
			n, err := nc.Read(buf)
			if err != nil {
				return fmt.Errorf("%s: %w (read %q)", client, err, got)
			}
			got = append(got, buf[:n]...)
		}
		return nil
	}
	if err := readUntil("\r\n\r\n"); err != nil {
		nc.Close()
		return nil, err
	}
	if _, err := nc.Write(append(maskedText(hello), maskedText(join)...)); err != nil {
		nc.Close()
		return nil, err
	}
	if err := readUntil(`"type":"joined"`); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}

// idleCrowd connects n editors, editors to a document, with workers
// dialling at once.
func idleCrowd(tb testing.TB, addr string, n, editors int) []net.Conn {
	tb.Helper()
	conns := make([]net.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n && !failed.Load(); i = int(next.Add(1) - 1) {
				nc, err := idleEditor(addr, fmt.Sprintf("idle-%d", i), fmt.Sprintf("idle-doc-%d", i/editors))
				if err != nil {
					tb.Error(err)
					failed.Store(true)
					return
				}
				conns[i] = nc
			}
		})
	}
	wg.Wait()
	tb.Cleanup(func() {
		for _, nc := range conns {
			if nc != nil {
				nc.Close()
			}
		}
	})
	if tb.Failed() {
		tb.FailNow()
	}
	return conns
}

// BenchmarkIdleConnections measures what an idle editor costs the server:
// RSS, heap and stack per connection, over COLLAB_IDLE_CONNS editors
// (default 2,000) in documents of 10, with pings off (the raw editors
// answer none). "after GC" is after a forced collection returned freed
// memory to the OS; "at once" is right after the last join. b.N is not
// used: one crowd per run.
//
//	go test ./collab/ -run '^$' -bench IdleConnections -benchtime 1x
//	COLLAB_IDLE_CONNS=19000 COLLAB_IDLE_HEAP=idle.heap go test ./collab/ -run '^$' -bench IdleConnections -benchtime 1x
func BenchmarkIdleConnections(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("COLLAB_IDLE_CONNS")); err == nil && v > 0 {
		n = v
	}
	srv := startIdleServer(b, false)
	before := srv.mem(b, true)
	idleCrowd(b, srv.addr, n, 10)
	atOnce := srv.mem(b, false)
	after := srv.mem(b, true)
	if f := os.Getenv("COLLAB_IDLE_HEAP"); f != "" {
		srv.heapProfile(b, f)
	}
	per := func(a, z uint64) float64 { return (float64(a) - float64(z)) / float64(n) }
	b.ReportMetric(per(atOnce.RSS, before.RSS), "RSS-B/conn")
	b.ReportMetric(per(after.RSS, before.RSS), "RSS-after-GC-B/conn")
	b.ReportMetric(per(after.HeapInuse, before.HeapInuse), "heap-B/conn")
	b.ReportMetric(per(after.StackInuse, before.StackInuse), "stack-B/conn")
	b.ReportMetric(float64(after.Goroutines-before.Goroutines)/float64(n), "goroutines/conn")
	b.Logf("%d idle editors: RSS %.1f → %.1f MiB (%.1f after GC), heap %.1f → %.1f MiB, stacks %.1f → %.1f MiB",
		n, mib(before.RSS), mib(atOnce.RSS), mib(after.RSS), mib(before.HeapInuse), mib(after.HeapInuse),
		mib(before.StackInuse), mib(after.StackInuse))
}

// TestIdlePingsAnswered: an idle connection's reader answers each ping
// with its payload (outside gorilla's read path) and still serves the
// messages that come after.
func TestIdlePingsAnswered(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{PingPeriod: time.Hour})
	c := connect(t, ts, "pinger")
	c.join("pinged", nil)
	pongs := make(chan string, 1)
	c.ws.SetPongHandler(func(s string) error { pongs <- s; return nil })
	msgs := make(chan []byte, 16)
	go func() {
		defer close(msgs)
		c.ws.SetReadDeadline(time.Now().Add(testWait))
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				return
			}
			msgs <- data
		}
	}()
	for i := range 5 {
		want := fmt.Sprintf("ping-%d", i)
		if err := c.ws.WriteControl(websocket.PingMessage, []byte(want), time.Now().Add(testWait)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-pongs:
			if got != want {
				t.Fatalf("pong %q, want %q", got, want)
			}
		case <-time.After(testWait):
			t.Fatalf("no pong to %q", want)
		}
	}
	c.submit("pinged", 0, 1, insertAt(0, 0, "x"))
	for data := range msgs {
		if bytes.Contains(data, []byte(`"type":"ack"`)) {
			return
		}
	}
	t.Fatal("no ack after the pings")
}

// TestIdlePongsKeepConnection: pongs the reader serves itself give the
// peer another PongWait, as gorilla's pong handler does.
func TestIdlePongsKeepConnection(t *testing.T) {
	const pongWait = time.Second
	_, ts := startServer(t, memory.New(), Options{PingPeriod: time.Hour, PongWait: pongWait})
	c := connect(t, ts, "ponger")
	c.join("ponged", nil)
	tick := time.NewTicker(pongWait / 10)
	defer tick.Stop()
	for end := time.Now().Add(3 * pongWait); time.Now().Before(end); <-tick.C {
		if err := c.ws.WriteControl(websocket.PongMessage, nil, time.Now().Add(testWait)); err != nil {
			t.Fatal(err)
		}
	}
	c.submit("ponged", 0, 1, insertAt(0, 0, "x"))
	c.ack(1)
}

// TestControlFramesBeforeMessage: a ping sent in one segment with the
// messages after it is answered and the messages are served.
func TestControlFramesBeforeMessage(t *testing.T) {
	_, ts := startServer(t, memory.New(), Options{PingPeriod: time.Hour})
	ws := dialByHand(t, ts)
	hello, _ := json.Marshal(wire.Hello{Type: wire.TypeHello, Version: wire.Version, Client: "segment"})
	join, _ := json.Marshal(wire.Join{Type: wire.TypeJoin, Doc: "segment"})
	burst := maskedControl(websocket.PingMessage, "first")
	burst = append(burst, maskedText(hello)...)
	burst = append(burst, maskedControl(websocket.PingMessage, "second")...)
	burst = append(burst, maskedText(join)...)
	if _, err := ws.nc.Write(burst); err != nil {
		t.Fatal(err)
	}
	ws.readUntil(`"type":"joined"`)
	for _, want := range []string{"\x8a\x05first", "\x8a\x06second", `"type":"welcome"`} {
		if !bytes.Contains(ws.got, []byte(want)) {
			t.Errorf("no %q in %q", want, ws.got)
		}
	}
	if _, err := ws.nc.Write(maskedControl(websocket.PingMessage, "idle")); err != nil {
		t.Fatal(err)
	}
	ws.readUntil("\x8a\x04idle")
}

// maskedControl is a client's control frame, masked with a key that
// changes the payload.
func maskedControl(op int, payload string) []byte {
	mask := []byte{0x5a, 0xa5, 0x0f, 0xf0}
	b := append([]byte{0x80 | byte(op), 0x80 | byte(len(payload))}, mask...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i&3])
	}
	return b
}
