package authorship

import (
	"testing"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

func TestApplyAndEncode(t *testing.T) {
	a := New([]storage.Span{{Length: 3}}) // "abc", nobody's
	ins := new(ot.Builder).Retain(1).Insert("XY").Delete(1).Retain(1).Op()
	if err := a.Apply(storage.Record{Rev: 1, Op: ins, Client: "c", Author: "Ann"}); err != nil {
		t.Fatal(err)
	}
	want := []storage.Span{{Length: 1}, {Length: 2, Client: "c", Author: "Ann"}, {Length: 1}}
	got := a.Spans()
	if len(got) != len(want) {
		t.Fatalf("spans %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("spans %+v, want %+v", got, want)
		}
	}
	back, err := Decode(Encode(got))
	if err != nil || len(back) != len(got) || back[1] != got[1] {
		t.Fatalf("Decode(Encode(%+v)) = %+v, %v", got, back, err)
	}
	long := new(ot.Builder).Retain(9).Op()
	if err := a.Apply(storage.Record{Rev: 2, Op: long}); err == nil {
		t.Fatal("an op longer than the text applied")
	}
	for _, bad := range [][]byte{nil, {2}, {format, 1}, {format, 0, 1, 1, 0}} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("Decode(%v) = nil error", bad)
		}
	}
}
