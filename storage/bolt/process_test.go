package bolt

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// Child processes: the test binary re-executed with helperEnv set runs
// TestHelperProcess, which does the named job on the file in helperPath.
const (
	helperEnv  = "STORAGE_TEST_HELPER"
	helperPath = "STORAGE_TEST_PATH"
	helperCkpt = "STORAGE_TEST_CHECKPOINT_EVERY"
	crashDocs  = 8
)

var crashOpts = Options{SnapshotEvery: 16, KeepOps: 40}

func helperCmd(t *testing.T, job, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+job, helperPath+"="+path)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestHelperProcess(t *testing.T) {
	job := os.Getenv(helperEnv)
	if job == "" {
		t.Skip("runs only as a child process of another test")
	}
	path := os.Getenv(helperPath)
	var err error
	switch job {
	case "lock":
		err = holdLock(path)
	case "crash":
		err = crashWriter(path)
	default:
		err = fmt.Errorf("unknown job %q", job)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// holdLock opens the store, says so, and keeps it open until stdin closes.
func holdLock(path string) error {
	db, err := Open(path, Options{})
	if err != nil {
		return err
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	return db.Close()
}

func TestLockedByAnotherProcess(t *testing.T) {
	path := t.TempDir() + "/collab.db"
	cmd := helperCmd(t, "lock", path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("child said %q, %v", line, err)
	}

	db, err := Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if err == nil {
		db.Close()
		t.Fatal("Open succeeded while another process holds the file")
	}
	want := "storage: database is locked by another process: " + path
	if !errors.Is(err, storage.ErrLocked) || err.Error() != want {
		t.Errorf("Open error = %q, want %q wrapping storage.ErrLocked", err, want)
	}
	if err := Compact(path+".compact", path); !errors.Is(err, storage.ErrLocked) {
		t.Errorf("Compact of a file in use = %v, want storage.ErrLocked", err)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	db, err = Open(path, Options{LockTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatalf("Open after the other process exited: %v", err)
	}
	db.Close()
}

// crashWriter appends to crashDocs documents at once, forever, printing
// "doc rev" for each op after its Append returned. The parent kills it.
// Op rev of document d inserts token(d, rev) at the end, by client
// "c<rev%3>" with sequence number rev; every fourth Append carries two ops.
func crashWriter(path string) error {
	opts := crashOpts
	opts.CheckpointEvery, _ = strconv.Atoi(os.Getenv(helperCkpt))
	if opts.CheckpointEvery > 0 {
		checkpointSlice = 1 // kills land between slices too
	}
	db, err := Open(path, opts)
	if err != nil {
		return err
	}
	var mu sync.Mutex // guards stdout
	errc := make(chan error, crashDocs)
	for d := range crashDocs {
		go func() { errc <- writeDoc(db, fmt.Sprintf("d%d", d), &mu) }()
	}
	return <-errc
}

func writeDoc(db *DB, id string, mu *sync.Mutex) error {
	ctx := context.Background()
	d, err := db.Load(ctx, id)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	rev, n := int(d.Rev), d.Length
	for i := 0; rev < 100000; i++ {
		var recs []storage.Record
		for k := 0; k < 1+min(1, i%4/3); k++ {
			rev++
			tok := token(id, rev)
			recs = append(recs, storage.Record{Rev: uint64(rev), Op: insertOp(n, n, tok), Client: "c" + strconv.Itoa(rev%3), Seq: uint64(rev)})
			n += len(tok)
		}
		if err := db.Append(ctx, id, recs); err != nil {
			return err
		}
		mu.Lock()
		for _, r := range recs {
			_, err = fmt.Fprintf(os.Stdout, "%s %d\n", id, r.Rev)
		}
		mu.Unlock()
		if err != nil {
			return err // parent gone
		}
	}
	return nil
}

// TestCrash kills a writing process with SIGKILL at random moments, many
// times, and checks after each kill that the file is consistent and holds
// every acknowledged op exactly once, in order, and nothing else. With the
// default checkpoint threshold every kill leaves the records in the
// write-ahead log, for Open to move; with a threshold of 3 records the
// writer checkpoints all the time, a document per transaction, so kills
// land before, during, between and after checkpoint transactions.
func TestCrash(t *testing.T) {
	for _, every := range []int{0, 3} {
		t.Run(fmt.Sprintf("checkpoint-every=%d", every), func(t *testing.T) { testCrash(t, every) })
	}
}

func testCrash(t *testing.T, checkpointEvery int) {
	rounds := 25
	if testing.Short() {
		rounds = 6
	}
	path := t.TempDir() + "/collab.db"
	acked := map[string]int{} // highest acknowledged revision per document
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	inLog, checkpointed := 0, 0 // rounds whose kill left records in the log / moved some
	for round := range rounds {
		killAfter := rng.IntN(400)
		got := runAndKill(t, path, killAfter, checkpointEvery)
		logged, stored := rawCrashState(t, path)
		if logged > 0 {
			inLog++
		}
		for id, rev := range got {
			if rev < acked[id] {
				t.Fatalf("round %d: %s acknowledged rev %d after %d", round, id, rev, acked[id])
			}
			if stored[id] > acked[id] {
				checkpointed++
			}
			acked[id] = rev
		}
		verifyCrashed(t, path, acked)
	}
	t.Logf("%d rounds: %d kills left records in the log, %d documents checkpointed by the writer", rounds, inLog, checkpointed)
	if checkpointEvery == 0 && inLog == 0 {
		t.Errorf("no kill left records in the log: recovery from it was not tested")
	}
	if checkpointEvery > 0 && checkpointed == 0 {
		t.Errorf("the writer never checkpointed before a kill")
	}
	// Writing goes on after recovery.
	db, err := Open(path, crashOpts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for d := range crashDocs {
		id := fmt.Sprintf("d%d", d)
		doc, err := db.Load(ctx, id)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		rev := int(doc.Rev) + 1
		rec := storage.Record{Rev: uint64(rev), Op: insertOp(doc.Length, doc.Length, token(id, rev)), Client: "c" + strconv.Itoa(rev%3), Seq: uint64(rev)}
		if err := db.Append(ctx, id, []storage.Record{rec}); err != nil {
			t.Errorf("Append after recovery: %v", err)
		}
		if got, _ := db.Load(ctx, id); got.Text != tokensText(id, rev) {
			t.Errorf("%s after recovery and one more op: %q", id, got.Text)
		}
	}
	total := 0
	for _, rev := range acked {
		total += rev
	}
	t.Logf("%d rounds, %d ops acknowledged", rounds, total)
}

// runAndKill runs the writer, kills it after it acknowledged killAfter ops
// (or exited) and returns the last revision it acknowledged per document.
func runAndKill(t *testing.T, path string, killAfter, checkpointEvery int) map[string]int {
	t.Helper()
	cmd := helperCmd(t, "crash", path)
	cmd.Env = append(cmd.Env, helperCkpt+"="+strconv.Itoa(checkpointEvery))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	sc := bufio.NewScanner(stdout)
	lines := 0
	for lines < killAfter && sc.Scan() {
		record(t, got, sc.Text())
		lines++
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // acknowledged before the kill, still in the pipe
		record(t, got, sc.Text())
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("writer ended by itself: %v", err)
	}
	return got
}

func record(t *testing.T, got map[string]int, line string) {
	t.Helper()
	id, revs, ok := strings.Cut(line, " ")
	rev, err := strconv.Atoi(revs)
	if !ok || err != nil {
		t.Fatalf("bad line from writer: %q", line)
	}
	if prev, seen := got[id]; seen && rev != prev+1 {
		t.Fatalf("writer acknowledged %s rev %d after %d", id, rev, prev)
	}
	got[id] = rev
}

// rawCrashState reads the killed writer's file as it left it, before
// recovery: how many records its log holds and each document's stored
// revision.
func rawCrashState(t *testing.T, path string) (logged int, stored map[string]int) {
	t.Helper()
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("bbolt.Open: %v", err)
	}
	defer b.Close()
	stored = map[string]int{}
	b.View(func(tx *bbolt.Tx) error {
		if lb := tx.Bucket(bucketLog); lb != nil {
			logged = lb.Stats().KeyN
		}
		for d := range crashDocs {
			id := fmt.Sprintf("d%d", d)
			if _, m, err := openDoc(tx, id); err == nil {
				stored[id] = int(m.Rev)
			}
		}
		return nil
	})
	return logged, stored
}

func verifyCrashed(t *testing.T, path string, acked map[string]int) {
	t.Helper()
	// No snapshots or pruning of its own while it checks.
	db, err := Open(path, Options{SnapshotEvery: 1 << 30})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("after kill: %v", err)
	}
	for d := range crashDocs {
		id := fmt.Sprintf("d%d", d)
		doc, err := db.Load(ctx, id)
		if errors.Is(err, storage.ErrNotFound) && acked[id] == 0 {
			continue
		}
		if err != nil {
			t.Fatalf("Load(%s): %v", id, err)
		}
		rev := int(doc.Rev)
		// Ops committed but killed before being reported may be there too.
		if rev < acked[id] {
			t.Fatalf("%s at rev %d, but rev %d was acknowledged", id, rev, acked[id])
		}
		if want := tokensText(id, rev); doc.Text != want || doc.Length != len(want) {
			t.Fatalf("%s text at rev %d = %q, want %q", id, rev, doc.Text, want)
		}
		verifyLog(t, db, id, rev)
	}
}

// verifyLog checks the kept ops and the client records of a crash document.
func verifyLog(t *testing.T, db *DB, id string, rev int) {
	t.Helper()
	var m docMeta
	db.view(func(tx *bbolt.Tx) error { _, m, _ = openDoc(tx, id); return nil })
	recs, err := db.Ops(ctx, id, m.cut, uint64(rev))
	if err != nil || len(recs) != rev-int(m.cut) {
		t.Fatalf("Ops(%s, %d, %d) = %d records, %v", id, m.cut, rev, len(recs), err)
	}
	n := tokensLen(id, int(m.cut))
	for _, r := range recs {
		want := insertOp(n, n, token(id, int(r.Rev)))
		n += want.TargetLen() - want.BaseLen()
		if fmt.Sprint(r.Op.Components()) != fmt.Sprint(want.Components()) || r.Seq != r.Rev || r.Client != "c"+strconv.Itoa(int(r.Rev)%3) {
			t.Fatalf("%s record %+v", id, r)
		}
	}
	if got, err := db.TextAt(ctx, id, m.cut); err != nil || got != tokensText(id, int(m.cut)) {
		t.Fatalf("%s TextAt(cut %d) = %q, %v", id, m.cut, got, err)
	}
	for k := range 3 {
		last := rev - ((rev-k)%3+3)%3 // newest r <= rev with r%3 == k
		if last < 1 {
			last = 0
		}
		seq, crev, err := db.ClientSeq(ctx, id, "c"+strconv.Itoa(k))
		if err != nil || seq != uint64(last) || crev != uint64(last) {
			t.Fatalf("%s ClientSeq(c%d) = %d, %d, %v; want %d", id, k, seq, crev, err, last)
		}
	}
}
