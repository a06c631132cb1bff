package main

import (
	"slices"
	"testing"
)

func TestEditGenValidAndDeterministic(t *testing.T) {
	run := func(seed uint64) []string {
		g := newEditGen(seed, 3, 200)
		var text []rune
		var log []string
		astral := false
		for range 3000 {
			pos, del, ins := g.next(len(text))
			if pos < 0 || del < 0 || pos+del > len(text) {
				t.Fatalf("edit (%d, %d, %q) outside a text of %d", pos, del, ins, len(text))
			}
			text = slices.Concat(text[:pos], []rune(ins), text[pos+del:])
			astral = astral || containsAstral(ins)
			log = append(log, string(rune(pos))+string(rune(del))+ins)
		}
		if len(text) > 1000 {
			t.Errorf("text grew to %d code points with max-len 200", len(text))
		}
		if !astral {
			t.Error("no emoji typed")
		}
		return log
	}
	a := run(7)
	if !slices.Equal(a, run(7)) {
		t.Error("same seed, different edits")
	}
	if slices.Equal(a, run(8)) {
		t.Error("different seeds, same edits")
	}
}

func containsAstral(s string) bool {
	for _, r := range s {
		if r > 0xFFFF {
			return true
		}
	}
	return false
}
