package trace

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"
)

func gz(t *testing.T, s string) *bytes.Buffer {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestReadAndReplay(t *testing.T) {
	// Two transactions; the second holds patches in descending position
	// order, with an emoji (one code point, four UTF-8 bytes) before them.
	src := `{"startContent":"","endContent":"😀aXc!","txns":[
		{"time":"t0","patches":[[0,0,"😀abc"]]},
		{"time":"t1","patches":[[4,0,"!"],[2,1,"X"]]}]}`
	tr, err := Read(gz(t, src))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got := tr.Patches(); got != 3 {
		t.Errorf("Patches() = %d, want 3", got)
	}
	if p := tr.Txns[1].Patches[1]; p != (Patch{Pos: 2, Del: 1, Ins: "X"}) {
		t.Errorf("patch = %+v, want {2 1 X}", p)
	}
	got, err := tr.Replay()
	if err != nil {
		t.Fatalf("Replay: %v", err)
	}
	if got != "😀aXc!" {
		t.Errorf("Replay = %q, want %q", got, "😀aXc!")
	}
}

func TestReplayDetectsMismatch(t *testing.T) {
	tr, err := Read(gz(t, `{"startContent":"","endContent":"abd","txns":[{"patches":[[0,0,"abc"]]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Replay(); !errors.Is(err, ErrMismatch) {
		t.Errorf("Replay error = %v, want ErrMismatch", err)
	}
}

func TestReadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want error
	}{
		{"not json", `nope`, ErrFormat},
		{"short patch", `{"txns":[{"patches":[[0,0]]}]}`, ErrFormat},
		{"text not string", `{"txns":[{"patches":[[0,0,5]]}]}`, ErrFormat},
		{"negative", `{"txns":[{"patches":[[-1,0,"a"]]}]}`, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Read(gz(t, tt.src)); !errors.Is(err, tt.want) {
				t.Errorf("Read error = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := Read(bytes.NewBufferString("not gzip")); !errors.Is(err, ErrFormat) {
		t.Errorf("Read(plain text) error = %v, want ErrFormat", err)
	}
}

func TestApplyOutOfRange(t *testing.T) {
	tests := []Patch{{Pos: 4, Del: 0}, {Pos: 1, Del: 3}}
	for _, p := range tests {
		if _, err := Apply([]rune("abc"), p); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Apply(%+v) error = %v, want ErrOutOfRange", p, err)
		}
	}
}

func TestRealTraceReplays(t *testing.T) {
	tr, err := Load("../../../testdata/traces/sveltecomponent.json.gz")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if tr.Patches() != 19749 {
		t.Errorf("Patches() = %d, want 19749 (see testdata/traces/README.md)", tr.Patches())
	}
	if _, err := tr.Replay(); err != nil {
		t.Errorf("Replay: %v", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	if _, err := Load("no-such-file.json.gz"); err == nil {
		t.Error("Load of a missing file succeeded")
	}
}
