package storage_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestOnlyBoltLinksBbolt: the contract, the other stores and the server
// depend on no database; only storage/bolt (and the binaries that choose
// it) link bbolt.
func TestOnlyBoltLinksBbolt(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to list dependencies with: %v", err)
	}
	const mod = "github.com/collabd/collab/"
	for _, pkg := range []string{"storage", "storage/memory", "cluster", "collab"} {
		out, err := exec.Command(goTool, "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for dep := range strings.Lines(string(out)) {
			if strings.HasPrefix(dep, "go.etcd.io/bbolt") {
				t.Errorf("%s links %s", pkg, strings.TrimSpace(dep))
			}
		}
	}
}
