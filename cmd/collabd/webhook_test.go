package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/collabd/collab/collab/webhook"
	"github.com/collabd/collab/internal/webhooktest"
)

// Child processes: the test binary re-executed with childArgs set runs
// TestChildCollabd, which is collabd with those arguments.
const childArgs = "COLLABD_TEST_CHILD_ARGS"

// TestChildCollabd runs collabd in a child process, printing the address
// it listens on, until it is killed.
func TestChildCollabd(t *testing.T) {
	raw := os.Getenv(childArgs)
	if raw == "" {
		t.Skip("runs only as a child process of another test")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	listening = func(addr string) { fmt.Printf("listening %s\n", addr) }
	if err := run(context.Background(), args, nil); err != nil {
		fmt.Fprintln(os.Stderr, "collabd:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is collabd in a process of its own, to kill -9.
type child struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://addr
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildCollabd$")
	cmd.Env = append(os.Environ(), childArgs+"="+string(raw))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd}
	t.Cleanup(c.kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		t.Fatalf("child said %q, %v", line, err)
	}
	c.base = "http://" + addr
	return c
}

// kill ends the child with SIGKILL: no deferred function, no flush, no
// graceful stop runs.
func (c *child) kill() {
	if c.cmd.ProcessState != nil {
		return
	}
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

func (c *child) do(method, doc, body string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+"/api/docs/"+doc, strings.NewReader(body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, doc, err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		c.t.Fatalf("%s %s: %s", method, doc, res.Status)
	}
}

// TestWebhookKill9: the receiver sees every revision range exactly
// covered, with valid signatures, across kills of collabd: after an event
// was delivered but before collabd learnt it (sent again under its id),
// and after edits and a deletion were committed but before any event was
// made of them (found at the next start by comparing the cursors with
// the documents). Kills prove that nothing rests on a graceful stop, not
// that the disk keeps what was fsynced (the OS still flushes its cache).
func TestWebhookKill9(t *testing.T) {
	secret := "webhook-secret-0123456789"
	rcv := webhooktest.New(t, []byte(secret))
	data := filepath.Join(t.TempDir(), "collab.db")
	start := func(window string) *child {
		return startChild(t, "-addr", "127.0.0.1:0", "-data", data, "-log-level", "error",
			"-webhook-url", rcv.URL, "-webhook-secret", secret, "-webhook-window", window)
	}

	c := start("20ms")
	for i := range 3 {
		c.do("PUT", "a", fmt.Sprint("a", i))
	}
	c.do("PUT", "b", "b0")
	c.do("PUT", "c", "c0")
	rcv.Await("the first events", func(st webhooktest.State) bool {
		return st.Covered("a") == 3 && st.Covered("b") == 1 && st.Covered("c") == 1
	})
	// Delivered, not acknowledged: the receiver takes a's next event and
	// never answers.
	rcv.SetMode(webhooktest.Hang)
	c.do("PUT", "a", "a3")
	rcv.Await("a's rev 4 taken", func(st webhooktest.State) bool { return st.Covered("a") == 4 && st.Hung > 0 })
	c.kill()

	// Committed, no event made yet (a window of an hour), receiver down.
	rcv.SetMode(webhooktest.Down)
	c = start("1h")
	c.do("PUT", "b", "b1")
	c.do("PUT", "b", "b2")
	c.do("DELETE", "c", "")
	c.do("PUT", "d", "d0")
	rcv.Await("a's event sent again, refused", func(st webhooktest.State) bool { return st.Refused > 0 })
	c.kill()

	rcv.SetMode(webhooktest.Up)
	c = start("20ms")
	st := rcv.Await("everything", func(st webhooktest.State) bool {
		docs := st.Docs()
		return st.Copies > 0 && st.Covered("a") == 4 && st.Covered("b") == 3 && st.Covered("d") == 1 &&
			len(docs["c"]) == 2 && docs["c"][1].Type == webhook.TypeDeleted
	})
	for doc, events := range st.Docs() {
		for _, e := range events {
			if e.Type == webhook.TypeChanged && len(e.Authors) != 1 {
				t.Errorf("%s: %+v, want the one (HTTP) author", doc, e)
			}
		}
	}
	c.do("PUT", "b", "b3")
	rcv.Await("b's rev 4", func(st webhooktest.State) bool { return st.Covered("b") == 4 })
}

// TestWebhookFlags: the webhook needs a secret long enough and an http(s)
// URL, and is refused in cluster mode, before anything is served.
func TestWebhookFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "c.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-webhook-url", "http://x.example/hook"}, "-webhook-secret: at least 16 bytes"},
		{[]string{"-webhook-url", "http://x.example/hook", "-webhook-secret", "short"}, "-webhook-secret: at least 16 bytes"},
		{[]string{"-webhook-url", "x.example/hook", "-webhook-secret", "0123456789abcdef"}, "not an http:// or https:// URL"},
		{[]string{"-webhook-secret", "0123456789abcdef"}, "-webhook-secret without -webhook-url"},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := run(ctx, append([]string{"-addr", "127.0.0.1:0", "-data", data}, c.args...), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	env := []string{"COLLAB_WEBHOOK_URL=http://x.example/hook", "COLLAB_WEBHOOK_SECRET=short"}
	if err := run(ctx, []string{"-addr", "127.0.0.1:0", "-data", data}, env); err == nil || !strings.Contains(err.Error(), "-webhook-secret") {
		t.Errorf("COLLAB_WEBHOOK_ variables: %v, want them read", err)
	}
}
