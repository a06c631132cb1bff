package ot

import (
	"errors"
	"testing"
)

func TestTransform(t *testing.T) {
	tests := []struct {
		name, doc, a, b string
		wantA, wantB    string // aPrime, bPrime
		wantDoc         string // the converged document
	}{
		{"empty", "", `[]`, `[]`, `[]`, `[]`, ""},
		{"inserts at same position, a first", "", `["a"]`, `["b"]`, `["a",1]`, `[1,"b"]`, "ab"},
		{"same position mid-doc", "xy", `[1,"A",1]`, `[1,"B",1]`, `[1,"A",2]`, `[2,"B",1]`, "xABy"},
		{"inserts apart", "abc", `["X",3]`, `[3,"Y"]`, `["X",4]`, `[4,"Y"]`, "XabcY"},
		{"same delete", "abc", `[1,-1,1]`, `[1,-1,1]`, `[2]`, `[2]`, "ac"},
		{"overlapping deletes", "abcdef", `[1,-3,2]`, `[2,-3,1]`, `[1,-1,1]`, `[1,-1,1]`, "af"},
		{"delete contains delete", "abcdef", `[-6]`, `[2,-2,2]`, `[-4]`, `[]`, ""},
		{"insert inside deleted range", "abcdef", `[1,-4,1]`, `[3,"X",3]`, `[1,-2,1,-2,1]`, `[1,"X",1]`, "aXf"},
		{"insert at delete start", "abc", `[-3]`, `["X",3]`, `[1,-3]`, `["X"]`, "X"},
		{"insert at delete end", "abc", `[-3]`, `[3,"X"]`, `[-3,1]`, `["X"]`, "X"},
		{"replace vs insert at same spot", "ab", `[1,"X",-1]`, `[1,"Y",1]`, `[1,"X",1,-1]`, `[2,"Y"]`, "aXY"},
		{"emoji", "😀😀", `[1,"👍",1]`, `[1,-1]`, `[1,"👍"]`, `[2,-1]`, "😀👍"},
		{"zwj sequence", "👩👧", `[1,"\u200d",1]`, `[1,"\u200d👩\u200d",1]`, `[1,"\u200d",4]`, `[2,"\u200d👩\u200d",1]`, "👩\u200d\u200d👩\u200d👧"},
		{"combining marks", "e", `[1,"\u0301"]`, `[1,"\u0300"]`, `[1,"\u0301",1]`, `[2,"\u0300"]`, "e\u0301\u0300"},
		{"cjk", "漢字", `[2,"です"]`, `[-1,1]`, `[1,"です"]`, `[-1,3]`, "字です"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := parseOp(t, tt.a), parseOp(t, tt.b)
			ap, bp, err := Transform(a, b)
			if err != nil {
				t.Fatalf("Transform: %v", err)
			}
			if wa, wb := parseOp(t, tt.wantA), parseOp(t, tt.wantB); !ap.Equal(wa) || !bp.Equal(wb) {
				t.Errorf("Transform(%s, %s) = %s, %s; want %s, %s", a, b, ap, bp, wa, wb)
			}
			for _, path := range [][2]Op{{a, bp}, {b, ap}} {
				mid, err := path[0].Apply(tt.doc)
				if err != nil {
					t.Fatal(err)
				}
				got, err := path[1].Apply(mid)
				if err != nil || got != tt.wantDoc {
					t.Errorf("%s then %s = %q, %v; want %q", path[0], path[1], got, err, tt.wantDoc)
				}
			}
		})
	}
}

func TestTransformLengthMismatch(t *testing.T) {
	_, _, err := Transform(parseOp(t, `[2]`), parseOp(t, `[3]`))
	if !errors.Is(err, ErrBaseLength) {
		t.Fatalf("Transform = %v, want ErrBaseLength", err)
	}
}

func TestTransformIndex(t *testing.T) {
	tests := []struct {
		name string
		op   string
		i    int
		own  bool
		want int
	}{
		{"before insert", `[2,"XY",2]`, 1, false, 1},
		{"after insert", `[2,"XY",2]`, 3, false, 5},
		{"at others' insert stays before", `[2,"XY",2]`, 2, false, 2},
		{"at own insert moves after", `[2,"XY",2]`, 2, true, 4},
		{"end of doc, others append", `[2,"XY"]`, 2, false, 2},
		{"end of doc, own append", `[2,"XY"]`, 2, true, 4},
		{"inside deleted range", `[1,-3,1]`, 2, false, 1},
		{"at delete start", `[1,-3,1]`, 1, false, 1},
		{"at delete end", `[1,-3,1]`, 4, false, 1},
		{"after delete", `[1,-3,1]`, 5, false, 2},
		{"inside replaced range", `[1,"XY",-3,1]`, 2, false, 3},
		{"at replaced start, others", `[1,"XY",-3,1]`, 1, false, 1},
		{"at replaced start, own", `[1,"XY",-3,1]`, 1, true, 3},
		{"clamped below", `[3]`, -4, false, 0},
		{"clamped above", `[3,"ab"]`, 9, true, 5},
		{"empty op", `[]`, 0, false, 0},
		{"insert into empty, own", `["😀"]`, 0, true, 1},
		{"after emoji", `["😀",2]`, 1, false, 2},
		{"zwj delete", `[2,-1,2]`, 3, false, 2},
		{"cjk", `["漢字",1]`, 1, false, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TransformIndex(parseOp(t, tt.op), tt.i, tt.own); got != tt.want {
				t.Errorf("TransformIndex(%s, %d, %v) = %d, want %d", tt.op, tt.i, tt.own, got, tt.want)
			}
		})
	}
}

func TestSelectionTransform(t *testing.T) {
	tests := []struct {
		name string
		op   string
		sel  Selection
		own  bool
		want Selection
	}{
		{"caret", `[1,"ab",3]`, Selection{1, 1}, false, Selection{1, 1}},
		{"own caret", `[1,"ab",3]`, Selection{1, 1}, true, Selection{3, 3}},
		{"insert at start stays outside", `[1,"ab",3]`, Selection{1, 3}, false, Selection{3, 5}},
		{"insert at end stays outside", `[3,"ab",1]`, Selection{1, 3}, false, Selection{1, 3}},
		{"backward selection", `[1,"ab",2,"cd",1]`, Selection{3, 1}, false, Selection{5, 3}},
		{"insert inside grows", `[2,"ab",2]`, Selection{1, 3}, false, Selection{1, 5}},
		{"own insert at edges", `[1,"ab",2,"cd",1]`, Selection{1, 3}, true, Selection{3, 7}},
		{"selection deleted", `[1,-3,1]`, Selection{2, 3}, false, Selection{1, 1}},
		{"selection partly deleted", `[2,-3]`, Selection{1, 3}, false, Selection{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.Transform(parseOp(t, tt.op), tt.own); got != tt.want {
				t.Errorf("%+v.Transform(%s, %v) = %+v, want %+v", tt.sel, tt.op, tt.own, got, tt.want)
			}
		})
	}
}
