package ot

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDiff(t *testing.T) {
	tests := []struct {
		name, before, after string
		want                string // the op, when it is worth pinning down
	}{
		{"both empty", "", "", `[]`},
		{"same", "abc", "abc", `[3]`},
		{"from empty", "", "hé😀", `["hé😀"]`},
		{"to empty", "hé😀", "", `[-3]`},
		{"insert word", "hello world", "hello big world", `[6,"big ",5]`},
		{"delete word", "hello big world", "hello world", `[6,-4,5]`},
		{"short equal run merged", "The cat sat on it", "The dog ran on it", `[4,"dog ran",-7,6]`},
		{"emoji for emoji", "a😀b", "a😁b", `[1,"😁",-1,1]`},
		{"emoji sharing bytes", "😀", "😁", `["😁",-1]`},
		{"shared emoji prefix", "😀😀😀x", "😀😀😀y😀", ``},
		{"zwj grows", "👩‍👧", "👩‍👩‍👧", `["👩\u200d",3]`},
		{"combining", "cafe", "cafe\u0301", `[4,"\u0301"]`},
		{"precomposed vs combining", "café", "cafe\u0301", `[3,"e\u0301",-1]`},
		{"cjk", "漢字テスト", "漢字のテスト", `[2,"の",3]`},
		{"multi-byte shift", "aéc", "aébéc", ``},
		{"cjk shift", "日本語日本", "日本語日本語日本", ``},
		{"lines", "one\ntwo\nthree\n", "one\n2\nthree\nfour\n", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := Diff(tt.before, tt.after)
			got, err := op.Apply(tt.before)
			if err != nil || got != tt.after {
				t.Fatalf("Diff(%q, %q) = %s, applies to %q, %v", tt.before, tt.after, op, got, err)
			}
			if err := checkCanonical(op); err != nil {
				t.Error(err)
			}
			for i := 0; i < op.Len(); i++ {
				if c := op.Component(i); c.Kind == Insert && !utf8.ValidString(c.Text) {
					t.Errorf("Diff = %s: insert %d is not valid UTF-8", op, i)
				}
			}
			if tt.want != "" && !op.Equal(parseOp(t, tt.want)) {
				t.Errorf("Diff(%q, %q) = %s, want %s", tt.before, tt.after, op, tt.want)
			}
		})
	}
}

func TestDiffInvalidUTF8(t *testing.T) {
	before, after := "a\xffb", "a\xffbc\xfe"
	op := Diff(before, after)
	got, err := op.Apply(before)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if want := "a\xffbc\uFFFD"; got != want {
		t.Errorf("Diff applied = %q, want %q", got, want)
	}
}

// TestDiffLarge checks that a long text with a small edit gives a small op.
func TestDiffLarge(t *testing.T) {
	before := strings.Repeat("lorem ipsum 😀 漢字 ", 2000)
	after := before[:len(before)/2] + "NEW" + before[len(before)/2:]
	op := Diff(before, after)
	if op.Len() > 3 {
		t.Errorf("Diff = %d components, want a single insert between retains", op.Len())
	}
	if got, err := op.Apply(before); err != nil || got != after {
		t.Errorf("Diff does not turn before into after: %v", err)
	}
}
