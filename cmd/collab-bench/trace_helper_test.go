package main

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"testing"

	"github.com/collabd/collab/internal/bench/trace"
)

// writeTracePrefix writes the first n transactions of the trace at src as a
// trace file whose end content is their replay.
func writeTracePrefix(t *testing.T, src, dst string, n int) {
	t.Helper()
	tr, err := trace.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	tr.Txns = tr.Txns[:n]
	tr.EndContent = ""
	doc := []rune{}
	type rawTxn struct {
		Patches [][3]any `json:"patches"`
	}
	out := struct {
		StartContent string   `json:"startContent"`
		EndContent   string   `json:"endContent"`
		Txns         []rawTxn `json:"txns"`
	}{}
	for _, tx := range tr.Txns {
		var rt rawTxn
		for _, p := range tx.Patches {
			if doc, err = trace.Apply(doc, p); err != nil {
				t.Fatal(err)
			}
			rt.Patches = append(rt.Patches, [3]any{p.Pos, p.Del, p.Ins})
		}
		out.Txns = append(out.Txns, rt)
	}
	out.EndContent = string(doc)
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if err := json.NewEncoder(zw).Encode(out); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
