package web

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestJavaScript runs the JavaScript unit tests (OT, UTF-16 conversion,
// client state machine) with node's built-in test runner, so that
// `go test ./...` covers them.
func TestJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
			t.Fatalf("node not found and COLLAB_E2E_REQUIRED=1: %v", err)
		}
		t.Skipf("node not found: %v (install node 20+ to run the JavaScript tests)", err)
	}
	touchSources(t)
	cmd := exec.Command(node, "--test", ".")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test failed: %v\n%s", err, out)
	}
	t.Logf("node --test:\n%s", tail(out, 12))
}

func tail(b []byte, lines int) []byte {
	n := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n++
			if n > lines {
				return b[i+1:]
			}
		}
	}
	return b
}

// touchSources reads every JavaScript file so that go test's cache keys on
// them: node reads them in another process, which the cache cannot see.
func touchSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == "node_modules" {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		_, err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
