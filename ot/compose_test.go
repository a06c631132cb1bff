package ot

import (
	"errors"
	"testing"
)

func TestCompose(t *testing.T) {
	tests := []struct {
		name, doc, a, b, want string
	}{
		{"empty", "", `[]`, `[]`, `[]`},
		{"two inserts", "", `["ab"]`, `[1,"X",1]`, `["aXb"]`},
		{"type then fix", "abc", `[3,"helo"]`, `[6,"l",1]`, `[3,"hello"]`},
		{"delete what was inserted", "abc", `[1,"XYZ",2]`, `[2,-1,3]`, `[1,"XZ",2]`},
		{"delete everything inserted", "abc", `[1,"XY",2]`, `[1,-2,2]`, `[3]`},
		{"delete then delete", "abcdef", `[1,-2,3]`, `[1,-2,1]`, `[1,-4,1]`},
		{"insert where deleted", "abc", `[-3]`, `["xyz"]`, `["xyz",-3]`},
		{"emoji split insert", "", `["😀a😀"]`, `[1,-1,1]`, `["😀😀"]`},
		{"zwj assembled", "👩👧", `[1,"\u200d",1]`, `[2,"👩\u200d",1]`, `[1,"\u200d👩\u200d",1]`},
		{"combining", "e", `[1,"\u0301"]`, `[-1,"é",1]`, "[\"é\u0301\",-1]"},
		{"cjk", "漢字", `[1,"の",1]`, `[-2,1]`, `[-1,1]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := parseOp(t, tt.a), parseOp(t, tt.b)
			got, err := Compose(a, b)
			if err != nil {
				t.Fatalf("Compose: %v", err)
			}
			if want := parseOp(t, tt.want); !got.Equal(want) {
				t.Errorf("Compose(%s, %s) = %s, want %s", a, b, got, want)
			}
			mid, _ := a.Apply(tt.doc)
			seq, _ := b.Apply(mid)
			if one, err := got.Apply(tt.doc); err != nil || one != seq {
				t.Errorf("composed applied = %q, %v; sequential = %q", one, err, seq)
			}
		})
	}
}

func TestComposeLengthMismatch(t *testing.T) {
	_, err := Compose(parseOp(t, `[2,"a"]`), parseOp(t, `[2]`))
	var le *LengthError
	if !errors.As(err, &le) || *le != (LengthError{Want: 2, Got: 3}) {
		t.Fatalf("Compose = %v, want base length 2 vs 3", err)
	}
}
