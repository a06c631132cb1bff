package ot

import (
	"errors"
	"testing"
)

func TestApply(t *testing.T) {
	tests := []struct {
		name, doc, op, want string
	}{
		{"empty no-op", "", `[]`, ""},
		{"insert into empty", "", `["hé😀"]`, "hé😀"},
		{"retain all", "abc", `[3]`, "abc"},
		{"insert middle", "abc", `[1,"X",2]`, "aXbc"},
		{"delete middle", "abc", `[1,-1,1]`, "ac"},
		{"replace", "abc", `["xy",-3]`, "xy"},
		{"delete all", "hé😀", `[-3]`, ""},
		{"emoji counts one", "a😀b", `[1,-1,1]`, "ab"},
		{"insert after emoji", "😀😀", `[1,"x",1]`, "😀x😀"},
		{"zwj family", "👩‍👩‍👧", `[2,-2,1]`, "👩‍👧"},
		{"zwj join", "👩👧", `[1,"\u200d",1]`, "👩‍👧"},
		{"combining mark", "e\u0301x", `[1,-1,1]`, "ex"},
		{"add combining mark", "ex", `[1,"\u0301",1]`, "e\u0301x"},
		{"cjk", "漢字テスト", `[2,"の",-1,2]`, "漢字のスト"},
		{"flag halves", "🇫🇷", `[1,"🇷🇫",1]`, "🇫🇷🇫🇷"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseOp(t, tt.op).Apply(tt.doc)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got != tt.want {
				t.Errorf("Apply(%q) = %q, want %q", tt.doc, got, tt.want)
			}
		})
	}
}

func TestApplyLengthMismatch(t *testing.T) {
	tests := []struct {
		name, doc, op string
		want          LengthError
		pastEnd       bool
	}{
		{"doc too short", "ab", `[3]`, LengthError{Want: 3, Got: 2}, true},
		{"delete past end", "ab", `[1,-2]`, LengthError{Want: 3, Got: 2}, true},
		{"doc too long", "abcd", `[3]`, LengthError{Want: 3, Got: 4}, false},
		{"bytes are not code points", "😀", `[4]`, LengthError{Want: 4, Got: 1}, true},
		{"empty op on text", "x", `[]`, LengthError{Want: 0, Got: 1}, false},
		{"insert only on text", "x😀", `["a"]`, LengthError{Want: 0, Got: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseOp(t, tt.op).Apply(tt.doc)
			var le *LengthError
			if !errors.As(err, &le) || *le != tt.want {
				t.Fatalf("Apply = %v, want %+v", err, tt.want)
			}
			if !errors.Is(err, ErrBaseLength) {
				t.Error("error does not match ErrBaseLength")
			}
			if got := errors.Is(err, ErrPastEnd); got != tt.pastEnd {
				t.Errorf("errors.Is(err, ErrPastEnd) = %v, want %v", got, tt.pastEnd)
			}
		})
	}
}

func TestInvert(t *testing.T) {
	tests := []struct {
		name, doc, op, want string
	}{
		{"empty", "", `[]`, `[]`},
		{"insert", "ab", `[1,"X",1]`, `[1,-1,1]`},
		{"delete emoji", "a😀b", `[1,-1,1]`, `[1,"😀",1]`},
		{"replace", "abc", `["xy",-3]`, `["abc",-2]`},
		{"zwj", "👩‍👩‍👧", `[1,-2,2]`, `[1,"\u200d👩",2]`},
		{"combining", "e\u0301", `[1,-1,"\u0300"]`, "[1,\"\u0301\",-1]"},
		{"cjk", "漢字", `[-1,"かん",1]`, `["漢",-2,1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := parseOp(t, tt.op)
			inv, err := op.Invert(tt.doc)
			if err != nil {
				t.Fatalf("Invert: %v", err)
			}
			if got, want := inv.String(), parseOp(t, tt.want).String(); got != want {
				t.Errorf("Invert = %s, want %s", got, want)
			}
			after, _ := op.Apply(tt.doc)
			if back, err := inv.Apply(after); err != nil || back != tt.doc {
				t.Errorf("inverse applied = %q, %v; want %q", back, err, tt.doc)
			}
		})
	}
	if _, err := parseOp(t, `[2]`).Invert("a"); !errors.Is(err, ErrBaseLength) {
		t.Errorf("Invert on a short doc = %v, want ErrBaseLength", err)
	}
}
