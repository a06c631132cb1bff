package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabd/collab/storage/bolt"
)

func TestColdSpecOps(t *testing.T) {
	tests := []coldSpec{
		{Docs: 100_000, Ops: 10_000_000, Big: 3, BigOps: 100_000},
		{Docs: 7, Ops: 100, Big: 0, BigOps: 1},
		{Docs: 5, Ops: 23, Big: 2, BigOps: 9},
	}
	for _, s := range tests {
		if err := s.validate(); err != nil {
			t.Fatalf("%+v: %v", s, err)
		}
		sum := 0
		for i := range s.Docs {
			n := s.opsOf(i)
			if i < s.Big && n != s.BigOps || n < 1 {
				t.Errorf("%+v: document %d has %d ops", s, i, n)
			}
			sum += n
		}
		if sum != s.Ops {
			t.Errorf("%+v: documents hold %d ops in all, want %d", s, sum, s.Ops)
		}
	}
	for _, bad := range []coldSpec{
		{Docs: 0, Ops: 10, BigOps: 1},
		{Docs: 5, Ops: 10, Big: 6, BigOps: 1},
		{Docs: 5, Ops: 10, Big: 1, BigOps: 7}, // 7 + 4 > 10
	} {
		if bad.validate() == nil {
			t.Errorf("%+v: valid, want an error", bad)
		}
	}
}

// TestColdStart generates a small database, checks it through the storage
// package, then starts a real collabd on it twice (the second run reuses
// the file) and checks every join returned the generated text.
func TestColdStart(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build collabd: ", err)
	}
	dir := t.TempDir()
	collabd := filepath.Join(dir, "collabd")
	if out, err := exec.Command(gobin, "build", "-o", collabd, "../collabd").CombinedOutput(); err != nil {
		t.Fatalf("build collabd: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	args := []string{"-cold-start", "-collabd", collabd, "-data", data, "-cold-docs", "40", "-cold-ops", "3000",
		"-cold-big", "2", "-cold-big-ops", "1000", "-cold-runs", "1", "-json"}
	coldRun := func() *coldReport {
		t.Helper()
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := run(ctx, args, env{stdout: &out, stderr: &errb}); err != nil {
			t.Fatalf("run: %v\n%s", err, errb.String())
		}
		var r coldReport
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("report: %v\n%s", err, out.String())
		}
		return &r
	}

	r := coldRun()
	if !r.Generated || len(r.Runs) != 1 {
		t.Fatalf("generated %v, runs %d; want a new file and one start", r.Generated, len(r.Runs))
	}
	checkColdRun(t, r.Runs[0])

	db, err := bolt.Open(filepath.Join(data, "cold.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	metas, err := db.List(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, m := range metas {
		ops += int(m.Rev)
	}
	if len(metas) != 40 || ops != 3000 {
		t.Errorf("the file holds %d documents, %d ops; want 40, 3000", len(metas), ops)
	}
	doc, err := db.Load(context.Background(), coldDocID(1))
	if err != nil || doc.Rev != 1000 {
		t.Errorf("big document: rev %d, %v; want 1000", doc.Rev, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	if r := coldRun(); r.Generated || len(r.Runs) != 1 {
		t.Errorf("second run: generated %v, want the file reused", r.Generated)
	} else {
		checkColdRun(t, r.Runs[0])
	}
}

func checkColdRun(t *testing.T, run coldRun) {
	t.Helper()
	if run.HealthzMS <= 0 {
		t.Errorf("start to /healthz = %v ms, want > 0", run.HealthzMS)
	}
	// Two big documents, the small one, the first big one again.
	if len(run.Joins) != 4 {
		t.Fatalf("%d joins, want 4", len(run.Joins))
	}
	for i, j := range run.Joins {
		if !j.TextOK || j.JoinMS <= 0 || j.Length == 0 || j.First != (i < 3) {
			t.Errorf("join %d = %+v, want the generated text, timed, first join for the first three", i, j)
		}
	}
	// The 38 small documents share 1,000 ops: the first 12 get 27.
	if run.Joins[0].Ops != 1000 || run.Joins[2].Ops != 27 {
		t.Errorf("ops %d, %d; want 1000 (big) and 27", run.Joins[0].Ops, run.Joins[2].Ops)
	}
}
