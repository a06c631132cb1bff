// Package peers holds the comparison of collabd with ShareDB and
// y-websocket (compare.mjs, run by run.sh); this Go test runs the unit
// tests of its node code so that `go test ./...` covers them.
package peers

import (
	"os/exec"
	"testing"
)

func TestNodeUnitTests(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping the comparison's JavaScript unit tests")
	}
	out, err := exec.Command(node, "--test", "workload.test.mjs").CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
}
