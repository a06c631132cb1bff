package client

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

var updateSplitVectors = flag.Bool("update-split-vectors", false, "rewrite testdata/split-vectors.json from the Go split")

// splitVector is an edit and the pieces it is sent as under limits; the
// browser client's split (web/static/js/split.js) passes the same file.
type splitVector struct {
	Limits wire.Limits `json:"limits"`
	Doc    string      `json:"doc"`
	Op     ot.Op       `json:"op"`
	Pieces []ot.Op     `json:"pieces"`
}

const splitVectorsPath = "../testdata/split-vectors.json"

func piecesOf(l wire.Limits, doc string, op ot.Op) []ot.Op {
	b := budgetFor(l, doc)
	var out []ot.Op
	for {
		first, rest, ok := b.split(op)
		out = append(out, first)
		if !ok {
			return out
		}
		op = rest
	}
}

// TestSplitVectors: the Go client cuts each edit of the shared vectors
// into the pieces they list.
func TestSplitVectors(t *testing.T) {
	if *updateSplitVectors {
		writeSplitVectors(t)
	}
	data, err := os.ReadFile(splitVectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vs []splitVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range vs {
		if got := piecesOf(v.Limits, v.Doc, v.Op); !reflect.DeepEqual(got, v.Pieces) {
			t.Errorf("vector %d: %d pieces, want %d (or different pieces)", i, len(got), len(v.Pieces))
		}
	}
}

func writeSplitVectors(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 2))
	limits := []wire.Limits{
		{Frame: 2048, Doc: 1 << 20, Op: 2048, Components: 40},
		{Frame: 4096, Doc: 1 << 20, Op: 1500, Components: 1000},
		{Frame: 1 << 20, Doc: 16 << 20, Op: 1 << 20, Components: 300},
	}
	var vs []splitVector
	for i := range 12 {
		l := limits[i%len(limits)]
		op := randomBigOp(rng, 200+rng.IntN(1200))
		vs = append(vs, splitVector{Limits: l, Doc: "notes", Op: op, Pieces: piecesOf(l, "notes", op)})
	}
	var repl ot.Builder
	repl.Delete(5000)
	for range 150 {
		repl.Insert("replacement text ")
	}
	op := repl.Op()
	vs = append(vs, splitVector{Limits: limits[0], Doc: "notes", Op: op, Pieces: piecesOf(limits[0], "notes", op)})
	data, err := json.Marshal(vs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Clean(splitVectorsPath), append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
