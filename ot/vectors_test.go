package ot

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"testing"
)

// The shared test vectors (testdata/vectors.json, described in
// testdata/README.md) are checked here and by the JavaScript client.
// Regenerate the expected values after a deliberate change with
//
//	go test ./ot/ -run TestVectors -update-vectors
//
// and review the diff by hand.
var updateVectors = flag.Bool("update-vectors", false, "rewrite testdata/vectors.json from the inputs in vectors_test.go")

const vectorsPath = "testdata/vectors.json"

type vectorFile struct {
	Comment   []string          `json:"comment"`
	Version   int               `json:"version"`
	Decode    []decodeVector    `json:"decode"`
	Apply     []applyVector     `json:"apply"`
	Compose   []composeVector   `json:"compose"`
	Transform []transformVector `json:"transform"`
	Invert    []invertVector    `json:"invert"`
	Cursor    []cursorVector    `json:"cursor"`
	Invalid   []invalidVector   `json:"invalid"`
	Diff      []diffVector      `json:"diff"`
}

// diffVector is a change Diff must place on word boundaries the same way
// in every client (the reset rule of docs/protocol.md).
type diffVector struct {
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
	Op     Op     `json:"op"`
}

type decodeVector struct {
	Name      string `json:"name"`
	Op        string `json:"op"`
	Canonical Op     `json:"canonical"`
}

type applyVector struct {
	Name   string `json:"name"`
	Doc    string `json:"doc"`
	Op     Op     `json:"op"`
	Result string `json:"result"`
}

type composeVector struct {
	Name   string `json:"name"`
	Doc    string `json:"doc"`
	A      Op     `json:"a"`
	B      Op     `json:"b"`
	Result Op     `json:"result"`
	Text   string `json:"text"`
}

type transformVector struct {
	Name   string `json:"name"`
	Doc    string `json:"doc"`
	A      Op     `json:"a"`
	B      Op     `json:"b"`
	APrime Op     `json:"aPrime"`
	BPrime Op     `json:"bPrime"`
	Text   string `json:"text"`
}

type invertVector struct {
	Name   string `json:"name"`
	Doc    string `json:"doc"`
	Op     Op     `json:"op"`
	Result Op     `json:"result"`
}

type cursorVector struct {
	Name   string `json:"name"`
	Op     Op     `json:"op"`
	Index  int    `json:"index"`
	Own    bool   `json:"own"`
	Result int    `json:"result"`
}

type invalidVector struct {
	Name  string  `json:"name"`
	Op    string  `json:"op"`
	Doc   *string `json:"doc,omitempty"`
	Error string  `json:"error"`
}

// errKind names the error as the vectors do. ErrPastEnd is tested before
// ErrBaseLength, as a too-short document matches both.
func errKind(err error) string {
	for _, k := range []struct {
		err  error
		name string
	}{
		{ErrPastEnd, "past_end"}, {ErrBaseLength, "base_length"}, {ErrZeroCount, "zero_count"},
		{ErrBadNumber, "bad_number"}, {ErrInvalidText, "invalid_text"}, {ErrTooLarge, "too_large"},
		{ErrSyntax, "syntax"},
	} {
		if errors.Is(err, k.err) {
			return k.name
		}
	}
	if err == nil {
		return ""
	}
	return "unknown: " + err.Error()
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		writeVectors(t)
	}
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var vf vectorFile
	if err := json.Unmarshal(data, &vf); err != nil {
		t.Fatalf("%s: %v", vectorsPath, err)
	}
	if len(vf.Apply) == 0 || len(vf.Transform) == 0 || len(vf.Invalid) == 0 {
		t.Fatalf("%s has empty sections", vectorsPath)
	}
	for _, v := range vf.Decode {
		t.Run("decode/"+v.Name, func(t *testing.T) {
			if got := parseOp(t, v.Op); !got.Equal(v.Canonical) {
				t.Errorf("Parse(%s) = %v, want %v", v.Op, got, v.Canonical)
			}
		})
	}
	for _, v := range vf.Apply {
		t.Run("apply/"+v.Name, func(t *testing.T) {
			if got, err := v.Op.Apply(v.Doc); err != nil || got != v.Result {
				t.Errorf("%v.Apply(%q) = %q, %v; want %q", v.Op, v.Doc, got, err, v.Result)
			}
		})
	}
	for _, v := range vf.Compose {
		t.Run("compose/"+v.Name, func(t *testing.T) {
			got, err := Compose(v.A, v.B)
			if err != nil || !got.Equal(v.Result) {
				t.Errorf("Compose(%v, %v) = %v, %v; want %v", v.A, v.B, got, err, v.Result)
			}
			if text, err := got.Apply(v.Doc); err != nil || text != v.Text {
				t.Errorf("composed op on %q = %q, %v; want %q", v.Doc, text, err, v.Text)
			}
		})
	}
	for _, v := range vf.Transform {
		t.Run("transform/"+v.Name, func(t *testing.T) {
			ap, bp, err := Transform(v.A, v.B)
			if err != nil || !ap.Equal(v.APrime) || !bp.Equal(v.BPrime) {
				t.Errorf("Transform(%v, %v) = %v, %v, %v; want %v, %v", v.A, v.B, ap, bp, err, v.APrime, v.BPrime)
			}
			for _, p := range [][2]Op{{v.A, v.BPrime}, {v.B, v.APrime}} {
				if text, err := applyBoth(v.Doc, p[0], p[1]); err != nil || text != v.Text {
					t.Errorf("%v then %v on %q = %q, %v; want %q", p[0], p[1], v.Doc, text, err, v.Text)
				}
			}
		})
	}
	for _, v := range vf.Invert {
		t.Run("invert/"+v.Name, func(t *testing.T) {
			if got, err := v.Op.Invert(v.Doc); err != nil || !got.Equal(v.Result) {
				t.Errorf("%v.Invert(%q) = %v, %v; want %v", v.Op, v.Doc, got, err, v.Result)
			}
		})
	}
	for _, v := range vf.Cursor {
		t.Run("cursor/"+v.Name, func(t *testing.T) {
			if got := TransformIndex(v.Op, v.Index, v.Own); got != v.Result {
				t.Errorf("TransformIndex(%v, %d, %v) = %d, want %d", v.Op, v.Index, v.Own, got, v.Result)
			}
		})
	}
	for _, v := range vf.Diff {
		t.Run("diff/"+v.Name, func(t *testing.T) {
			if got := Diff(v.Before, v.After); !got.Equal(v.Op) {
				t.Errorf("Diff(%q, %q) = %v, want %v", v.Before, v.After, got, v.Op)
			}
		})
	}
	for _, v := range vf.Invalid {
		t.Run("invalid/"+v.Name, func(t *testing.T) {
			op, err := Parse([]byte(v.Op), Limits{})
			if v.Doc != nil {
				if err != nil {
					t.Fatalf("Parse(%s): %v", v.Op, err)
				}
				_, err = op.Apply(*v.Doc)
			}
			if got := errKind(err); got != v.Error {
				t.Errorf("%s on %v: error %v (%q), want %q", v.Op, v.Doc, err, got, v.Error)
			}
		})
	}
}

// writeVectors computes the expected values for vectorInputs and rewrites
// the vectors file.
func writeVectors(t *testing.T) {
	t.Helper()
	in := vectorInputs
	vf := vectorFile{Comment: vectorComment, Version: 1}
	for _, c := range in.decode {
		vf.Decode = append(vf.Decode, decodeVector{c[0], c[1], parseOp(t, c[1])})
	}
	for _, c := range in.apply {
		op := parseOp(t, c[2])
		res, err := op.Apply(c[1])
		if err != nil {
			t.Fatalf("apply %s: %v", c[0], err)
		}
		vf.Apply = append(vf.Apply, applyVector{c[0], c[1], op, res})
	}
	for _, c := range in.pairs {
		a, b := parseOp(t, c[2]), parseOp(t, c[3])
		ap, bp, err := Transform(a, b)
		if err != nil {
			t.Fatalf("transform %s: %v", c[0], err)
		}
		text, _ := applyBoth(c[1], a, bp)
		vf.Transform = append(vf.Transform, transformVector{c[0], c[1], a, b, ap, bp, text})
		// Composing a with b' gives the same document.
		ab, err := Compose(a, bp)
		if err != nil {
			t.Fatalf("compose %s: %v", c[0], err)
		}
		vf.Compose = append(vf.Compose, composeVector{c[0], c[1], a, bp, ab, text})
		inv, err := a.Invert(c[1])
		if err != nil {
			t.Fatalf("invert %s: %v", c[0], err)
		}
		vf.Invert = append(vf.Invert, invertVector{c[0], c[1], a, inv})
	}
	for _, c := range in.compose {
		a, b := parseOp(t, c[2]), parseOp(t, c[3])
		ab, err := Compose(a, b)
		if err != nil {
			t.Fatalf("compose %s: %v", c[0], err)
		}
		text, _ := applyBoth(c[1], a, b)
		vf.Compose = append(vf.Compose, composeVector{c[0], c[1], a, b, ab, text})
	}
	for _, c := range in.cursor {
		op := parseOp(t, c.op)
		vf.Cursor = append(vf.Cursor, cursorVector{c.name, op, c.index, c.own, TransformIndex(op, c.index, c.own)})
	}
	for _, c := range in.invalid {
		op, err := Parse([]byte(c.op), Limits{})
		if c.doc != nil && err == nil {
			_, err = op.Apply(*c.doc)
		}
		if err == nil {
			t.Fatalf("invalid %s: no error", c.name)
		}
		vf.Invalid = append(vf.Invalid, invalidVector{c.name, c.op, c.doc, errKind(err)})
	}
	for _, c := range in.diff {
		vf.Diff = append(vf.Diff, diffVector{c[0], c[1], c[2], Diff(c[1], c[2])})
	}
	// One vector per line keeps the file readable and its diffs small.
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\n  \"comment\": %s,\n  \"version\": %d", marshalVector(t, vf.Comment), vf.Version)
	writeVectorList(t, &buf, "decode", vf.Decode)
	writeVectorList(t, &buf, "apply", vf.Apply)
	writeVectorList(t, &buf, "compose", vf.Compose)
	writeVectorList(t, &buf, "transform", vf.Transform)
	writeVectorList(t, &buf, "invert", vf.Invert)
	writeVectorList(t, &buf, "cursor", vf.Cursor)
	writeVectorList(t, &buf, "invalid", vf.Invalid)
	writeVectorList(t, &buf, "diff", vf.Diff)
	buf.WriteString("\n}\n")
	if err := os.WriteFile(vectorsPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeVectorList[T any](t *testing.T, buf *bytes.Buffer, name string, list []T) {
	t.Helper()
	fmt.Fprintf(buf, ",\n  %q: [", name)
	for i, v := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n    ")
		buf.Write(marshalVector(t, v))
	}
	buf.WriteString("\n  ]")
}

func marshalVector(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
