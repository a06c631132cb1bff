package sim

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
)

var (
	jsSeeds = flag.Int("sim.js.seeds", 30, "seeds TestSimJavaScriptCore records and replays through the JavaScript core")
	jsDump  = flag.String("sim.js.dump", "", "TestSimJavaScriptCore writes the transcripts to this directory (default: a temporary one)")
)

// The JavaScript sources the replay runs; read by the test so that go
// test's cache keys on them (node reads them in another process).
var jsSources = []string{"web/jstest/*.js", "web/static/js/*.js"}

// The kinds of step the replay must have fed the JavaScript core (named as
// web/jstest/sim-replay.js counts them): if the schedules stop reaching
// one, the test says so rather than passing on less.
var jsKinds = []string{
	"joined reset on a known text, pending ops", // a reset with pending ops
	"joined text: the op in flight is committed",
	"joined ops, pending ops", // a resume with ops
	"joined ops hold the lost ack",
	"submit under a seq sent before", // a duplicate, when the first reached the server
	"error unavailable",              // a commit refused: dropped, retried
	"error rev_too_old",              // a submit refused: rejoin
	"action resync",
	"action unavailable",
	"reset diff: the Go client's differs, used", // Options.Diff is called
	"disconnect",
	"edit",
}

// TestSimJavaScriptCore runs -sim.js.seeds seeds from -sim.first (or only
// -sim.seed) recording every Go client's transcript, and has node feed
// them through the browser's sync core (web/static/js/sync.js), which must
// send, hold and resynchronise as the Go client did at every step
// (record.go lists what is left out of the comparison, and why).
func TestSimJavaScriptCore(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	touchJS(t, root)
	dir := *jsDump
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seedList := []uint64{*oneSeed}
	if *oneSeed == 0 {
		seedList = seedList[:0]
		for s := *first; s < *first+uint64(*jsSeeds); s++ {
			seedList = append(seedList, s)
		}
	}
	// Recorded first, so that a transcript that cannot be recorded fails
	// also where node is missing.
	files := recordSeeds(t, seedList, dir)
	if t.Failed() {
		return
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("COLLAB_E2E_REQUIRED") == "1" {
			t.Fatalf("node not found and COLLAB_E2E_REQUIRED=1: %v", err)
		}
		t.Skipf("node not found: %v (install node 20+ to replay the simulation through the JavaScript core)", err)
	}
	counts := replayJS(t, node, root, files)
	t.Logf("%d seeds: steps fed to the JavaScript core: %s", len(seedList), formatCounts(counts))
	if *oneSeed != 0 {
		return
	}
	for _, k := range jsKinds {
		if counts[k] == 0 {
			t.Errorf("no step of kind %q reached the JavaScript core in %d seeds: the schedules changed; raise -sim.js.seeds", k, len(seedList))
		}
	}
}

// replayJS runs web/jstest/sim-replay.js on the transcript files, fails t
// with what it printed and each failing seed's replay command if the core
// did not follow a transcript, and returns its counts of steps by kind.
func replayJS(t *testing.T, node, root string, files []string) map[string]int {
	t.Helper()
	cmd := exec.Command(node, append([]string{filepath.Join(root, "web", "jstest", "sim-replay.js")}, files...)...)
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	counts := map[string]int{}
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &counts); jerr != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if err != nil {
		t.Errorf("the JavaScript core did not follow the Go client: %v\n%s", err, strings.Join(lines[:len(lines)-1], "\n"))
		for _, seed := range failedSeeds(out) {
			t.Errorf("seed %d: replay with\n\t%s\n\tnode web/jstest/sim-replay.js /tmp/simjs/seed-%d.json", seed, jsReplay(seed), seed)
		}
	}
	return counts
}

// jsReplay is the command that records seed again, into /tmp/simjs.
func jsReplay(seed uint64) string {
	cmd := fmt.Sprintf("go test ./collab/internal/sim -run TestSimJavaScriptCore -sim.seed=%d -sim.js.dump=/tmp/simjs -v", seed)
	if !*stale {
		cmd += " -sim.stale-hello=false"
	}
	return cmd
}

// recordSeeds runs each seed recording its transcripts, checks the run as
// TestSim does, and writes the transcripts to dir as seed-N.json, whose
// paths it returns.
func recordSeeds(t *testing.T, seeds []uint64, dir string) []string {
	var mu sync.Mutex
	var files []string
	left := map[string]int{}
	defer func() { t.Logf("left out of the transcripts: %v", left) }()
	t.Run("record", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				cfg := Config{Seed: seed, StaleHello: *stale, Record: true}
				if *oneSeed != 0 {
					traceTo(t, &cfg)
				}
				res := run(t, cfg)
				if res.Err != nil {
					report(t, seed, res, jsReplay(seed))
				}
				if res.RecordErr != nil {
					t.Fatalf("seed %d: transcripts: %v", seed, res.RecordErr)
				}
				file := filepath.Join(dir, fmt.Sprintf("seed-%d.json", seed))
				if err := writeTranscripts(file, seed, res.Transcripts); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				files = append(files, file)
				for k, v := range res.Stats {
					if strings.HasPrefix(k, "recorded: ") {
						left[strings.TrimPrefix(k, "recorded: ")] += v
					}
				}
			})
		}
	})
	slices.Sort(files)
	return files
}

func writeTranscripts(file string, seed uint64, ts []Transcript) error {
	data, err := json.Marshal(struct {
		Version int          `json:"version"`
		About   string       `json:"about"`
		Seed    uint64       `json:"seed"`
		Doc     string       `json:"doc"`
		Vectors []Transcript `json:"vectors"`
	}{1, "What each Go client of a seed of the protocol simulation (collab/internal/sim) got and sent, in the step format of testdata/client-vectors.json.", seed, Doc, ts})
	if err != nil {
		return err
	}
	return os.WriteFile(file, data, 0o644)
}

var failedSeed = regexp.MustCompile(`(?m)^FAIL seed=(\d+) `)

func failedSeeds(out []byte) []uint64 {
	var seeds []uint64
	for _, m := range failedSeed.FindAllSubmatch(out, -1) {
		var s uint64
		fmt.Sscan(string(m[1]), &s)
		if !slices.Contains(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

func formatCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "\n\t%s: %d", k, counts[k])
	}
	return b.String()
}

// touchJS reads the JavaScript the replay runs.
func touchJS(t *testing.T, root string) {
	t.Helper()
	for _, pattern := range jsSources {
		names, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil || len(names) == 0 {
			t.Fatalf("no JavaScript at %s: %v", pattern, err)
		}
		for _, name := range names {
			if _, err := os.ReadFile(name); err != nil {
				t.Fatal(err)
			}
		}
	}
}
