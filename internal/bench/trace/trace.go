// Package trace loads real editing traces: keystroke-by-keystroke recordings
// of people writing documents, in the gzip-compressed JSON format of the
// editing-traces collection (see testdata/traces/README.md).
//
// A trace is a list of transactions, each a list of patches
// [pos, numDeleted, "inserted"] applied like Array.prototype.splice on the
// document's code points. Positions and counts are Unicode code points.
// Replaying every patch from the start content must give the end content;
// Load checks that the file decodes, Replay checks the replay.
package trace

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"
)

// Errors returned by Load and Replay; they are wrapped with detail.
var (
	ErrFormat     = errors.New("trace: malformed trace")
	ErrOutOfRange = errors.New("trace: patch outside the document")
	ErrMismatch   = errors.New("trace: replay does not give the end content")
)

// Patch deletes Del code points at Pos, then inserts Ins there.
type Patch struct {
	Pos int
	Del int
	Ins string
}

// UnmarshalJSON decodes the [pos, numDeleted, "inserted"] form.
func (p *Patch) UnmarshalJSON(data []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("%w: patch %s is not [pos, del, text]", ErrFormat, abbreviate(data))
	}
	if err := json.Unmarshal(raw[0], &p.Pos); err != nil {
		return fmt.Errorf("%w: patch position: %v", ErrFormat, err)
	}
	if err := json.Unmarshal(raw[1], &p.Del); err != nil {
		return fmt.Errorf("%w: patch delete count: %v", ErrFormat, err)
	}
	if err := json.Unmarshal(raw[2], &p.Ins); err != nil {
		return fmt.Errorf("%w: patch text: %v", ErrFormat, err)
	}
	if p.Pos < 0 || p.Del < 0 {
		return fmt.Errorf("%w: negative position or count in %s", ErrFormat, abbreviate(data))
	}
	return nil
}

func abbreviate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// Txn is one transaction: patches applied in order, each to the result of
// the one before.
type Txn struct {
	Time    string  `json:"time"`
	Patches []Patch `json:"patches"`
}

// Trace is a decoded editing trace.
type Trace struct {
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	Txns         []Txn  `json:"txns"`
}

// Patches returns the number of patches in all transactions.
func (t *Trace) Patches() int {
	n := 0
	for _, tx := range t.Txns {
		n += len(tx.Patches)
	}
	return n
}

// Load reads a gzip-compressed JSON trace from path.
func Load(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	return Read(f)
}

// Read decodes a gzip-compressed JSON trace.
func Read(r io.Reader) (*Trace, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	defer zr.Close()
	var t Trace
	if err := json.NewDecoder(zr).Decode(&t); err != nil {
		if errors.Is(err, ErrFormat) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	return &t, nil
}

// Apply applies p to doc, a slice of code points, and returns the result.
// It may reuse doc's storage.
func Apply(doc []rune, p Patch) ([]rune, error) {
	if p.Pos > len(doc) || p.Del > len(doc)-p.Pos {
		return doc, fmt.Errorf("%w: delete %d at %d in a document of %d", ErrOutOfRange, p.Del, p.Pos, len(doc))
	}
	ins := []rune(p.Ins)
	grow := len(ins) - p.Del
	if grow > 0 {
		doc = append(doc, make([]rune, grow)...)
		copy(doc[p.Pos+len(ins):], doc[p.Pos+p.Del:len(doc)-grow])
	} else if grow < 0 {
		copy(doc[p.Pos+len(ins):], doc[p.Pos+p.Del:])
		doc = doc[:len(doc)+grow]
	}
	copy(doc[p.Pos:], ins)
	return doc, nil
}

// Replay applies every patch to the start content and checks the result
// equals the end content. It returns the replayed text.
func (t *Trace) Replay() (string, error) {
	doc := []rune(t.StartContent)
	var err error
	for i, tx := range t.Txns {
		for j, p := range tx.Patches {
			if doc, err = Apply(doc, p); err != nil {
				return "", fmt.Errorf("transaction %d patch %d: %w", i, j, err)
			}
		}
	}
	got := string(doc)
	if got != t.EndContent {
		return got, fmt.Errorf("%w: %d code points, want %d; first difference at %d",
			ErrMismatch, len(doc), utf8.RuneCountInString(t.EndContent), firstDiff(got, t.EndContent))
	}
	return got, nil
}

// firstDiff returns the code point index of the first difference of a and b.
func firstDiff(a, b string) int {
	n := 0
	for a != "" && b != "" {
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			break
		}
		a, b = a[sa:], b[sb:]
		n++
	}
	return n
}

// Equal reports whether a equals b, for callers comparing large texts that
// want the first difference when they don't.
func Equal(a, b string) (bool, int) {
	if a == b {
		return true, -1
	}
	return false, firstDiff(a, b)
}
