package ot

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// parseOp decodes s with the default limits or fails the test.
func parseOp(t testing.TB, s string) Op {
	t.Helper()
	op, err := Parse([]byte(s), Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return op
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name, in, want string
		base, target   int
	}{
		{"empty", `[]`, `[]`, 0, 0},
		{"spaces", " [ 5 , \"a\" ,\t-3,\n10 ] ", `[5,"a",-3,10]`, 18, 16},
		{"wire example", `[5, "hé😀", -3, 10]`, `[5,"hé😀",-3,10]`, 18, 18},
		{"merge retains", `[2,3]`, `[5]`, 5, 5},
		{"merge inserts", `["a","b"]`, `["ab"]`, 0, 2},
		{"merge deletes", `[-1,-2]`, `[-3]`, 3, 0},
		{"delete then insert", `[1,-2,"x"]`, `[1,"x",-2]`, 3, 2},
		{"insert delete insert", `["a",-2,"b",1]`, `["ab",-2,1]`, 3, 3},
		{"escapes", `["\"\\\/\b\f\n\r\t\u0041\u00e9"]`, `["\"\\/\u0008\u000c\n\r\tAé"]`, 0, 10},
		{"paired surrogates", `["\ud83d\ude00"]`, `["😀"]`, 0, 1},
		{"upper hex", `["\uD83D\uDE00"]`, `["😀"]`, 0, 1},
		{"nul escape", `["\u0000"]`, `["\u0000"]`, 0, 1},
		{"line separators", "[\"\u2028\u2029\"]", `["\u2028\u2029"]`, 0, 2},
		{"zwj family", `["👩‍👩‍👧"]`, `["👩‍👩‍👧"]`, 0, 5},
		{"combining", "[\"e\u0301\"]", "[\"e\u0301\"]", 0, 2},
		{"cjk", `[1,"漢字",-1]`, `[1,"漢字",-1]`, 2, 3},
		{"max safe", `[9007199254740991]`, `[9007199254740991]`, 1<<53 - 1, 1<<53 - 1},
		{"min safe", `[-9007199254740991]`, `[-9007199254740991]`, 1<<53 - 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op := parseOp(t, tt.in)
			if got := op.String(); got != tt.want {
				t.Errorf("String() = %s, want %s", got, tt.want)
			}
			if op.BaseLen() != tt.base || op.TargetLen() != tt.target {
				t.Errorf("lengths = %d→%d, want %d→%d", op.BaseLen(), op.TargetLen(), tt.base, tt.target)
			}
			if err := checkCanonical(op); err != nil {
				t.Error(err)
			}
			again := parseOp(t, op.String())
			if !again.Equal(op) {
				t.Errorf("round trip = %v, want %v", again, op)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty input", ``, ErrSyntax},
		{"null", `null`, ErrSyntax},
		{"object", `{}`, ErrSyntax},
		{"unclosed", `[1`, ErrSyntax},
		{"trailing comma", `[1,]`, ErrSyntax},
		{"leading comma", `[,1]`, ErrSyntax},
		{"missing comma", `[1 2]`, ErrSyntax},
		{"trailing data", `[1] x`, ErrSyntax},
		{"two arrays", `[1][2]`, ErrSyntax},
		{"nested", `[[1]]`, ErrSyntax},
		{"bool", `[true]`, ErrSyntax},
		{"null item", `[null]`, ErrSyntax},
		{"leading zero", `[01]`, ErrSyntax},
		{"plus sign", `[+1]`, ErrSyntax},
		{"bare minus", `[-]`, ErrSyntax},
		{"dot only", `[1.]`, ErrSyntax},
		{"bad exponent", `[1e]`, ErrSyntax},
		{"hex", `[0x10]`, ErrSyntax},
		{"unterminated string", `["abc`, ErrSyntax},
		{"raw newline", "[\"a\nb\"]", ErrSyntax},
		{"bad escape", `["\x41"]`, ErrSyntax},
		{"short unicode escape", `["\u12"]`, ErrSyntax},
		{"bad hex", `["\u12g4"]`, ErrSyntax},
		{"zero", `[0]`, ErrZeroCount},
		{"zero in middle", `[1,0,2]`, ErrZeroCount},
		{"empty insert", `[""]`, ErrZeroCount},
		{"minus zero", `[-0]`, ErrBadNumber},
		{"fraction", `[1.5]`, ErrBadNumber},
		{"integral fraction", `[1.0]`, ErrBadNumber},
		{"exponent", `[1e3]`, ErrBadNumber},
		{"negative exponent", `[-2E-1]`, ErrBadNumber},
		{"2^53", `[9007199254740992]`, ErrBadNumber},
		{"-2^53", `[-9007199254740992]`, ErrBadNumber},
		{"huge", `[123456789012345678901234567890]`, ErrBadNumber},
		{"lone high surrogate", `["\ud83d"]`, ErrInvalidText},
		{"lone high then text", `["\ud83dabc"]`, ErrInvalidText},
		{"high then non-low", `["\ud83d\u0041"]`, ErrInvalidText},
		{"two highs", `["\ud83d\ud83d"]`, ErrInvalidText},
		{"lone low surrogate", `["\ude00"]`, ErrInvalidText},
		{"reversed pair", `["\ude00\ud83d"]`, ErrInvalidText},
		{"invalid utf8", "[\"a\xffb\"]", ErrInvalidText},
		{"invalid utf8 after escape", "[\"\\n\xc3\"]", ErrInvalidText},
		{"invalid utf8 before escape", "[\"\x8b\\b\"]", ErrInvalidText},
		{"invalid utf8 before control", "[\"\xff\x01\"]", ErrInvalidText},
		{"utf8 surrogate", "[\"\xed\xa0\xbd\"]", ErrInvalidText},
		{"overlong", "[\"\xc0\xaf\"]", ErrInvalidText},
		{"sum past 2^53", `[9007199254740991,1]`, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, err := Parse([]byte(tt.in), Limits{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q) = %v, %v; want error %v", tt.in, op, err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "ot: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"components at limit", `[1,"a",-1]`, Limits{MaxComponents: 3}, nil},
		{"components over limit", `[1,"a",-1,2]`, Limits{MaxComponents: 3}, ErrTooLarge},
		{"merged still counted", `[1,1,1,1]`, Limits{MaxComponents: 3}, ErrTooLarge},
		{"insert bytes at limit", `["é","ab"]`, Limits{MaxInsertBytes: 4}, nil},
		{"insert bytes over limit", `["é","abc"]`, Limits{MaxInsertBytes: 4}, ErrTooLarge},
		{"default insert limit", `["` + strings.Repeat("a", 1<<20+1) + `"]`, Limits{}, ErrTooLarge},
		{"unlimited", `["` + strings.Repeat("a", 1<<20+1) + `"]`, Limits{MaxInsertBytes: -1}, nil},
		{"default components", `[` + strings.Repeat("1,", 100_000) + `1]`, Limits{}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestUnmarshalEmbedded checks the path client input takes: an Op inside a
// message decoded by encoding/json, which would otherwise replace a lone
// surrogate with U+FFFD.
func TestUnmarshalEmbedded(t *testing.T) {
	type submit struct {
		Rev int `json:"rev"`
		Op  Op  `json:"op"`
	}
	tests := []struct {
		name, in string
		want     string // the op's wire form, if decoding succeeds
		err      error
	}{
		{"valid", `{"rev":3,"op":[2, "\ud83d\ude00", -1]}`, `[2,"😀",-1]`, nil},
		{"lone surrogate", `{"rev":3,"op":[2,"\ud83d",-1]}`, "", ErrInvalidText},
		{"float", `{"rev":3,"op":[2.5]}`, "", ErrBadNumber},
		{"null", `{"rev":3,"op":null}`, "", ErrSyntax},
		{"string", `{"rev":3,"op":"[1]"}`, "", ErrSyntax},
		{"missing is the empty no-op", `{"rev":3}`, `[]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m submit
			err := json.Unmarshal([]byte(tt.in), &m)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Unmarshal = %v, want %v", err, tt.err)
			}
			if err == nil && m.Op.String() != tt.want {
				t.Errorf("op = %s, want %s", m.Op, tt.want)
			}
		})
	}
}

func TestMarshalEmbedded(t *testing.T) {
	var b Builder
	op := b.Retain(2).Insert("<a>\u2028\"x\"").Delete(1).Op()
	got, err := json.Marshal(struct {
		Op Op `json:"op"`
	}{op})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"op":[2,"\u003ca\u003e\u2028\"x\"",-1]}`
	if string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var zero Op
	if got, _ := json.Marshal(zero); string(got) != "[]" {
		t.Errorf("zero Op = %s, want []", got)
	}
}

func TestMarshalInvalidText(t *testing.T) {
	var b Builder
	op := b.Insert("a\xffb\x01").Op()
	if got, want := op.String(), `["a\ufffdb\u0001"]`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{`[]`, `[]`, true},
		{`[1,"a"]`, `[1,"a"]`, true},
		{`[1,-1,"a"]`, `[1,"a",-1]`, true},
		{`[1,"a"]`, `[1,"b"]`, false},
		{`[1,"a"]`, `["a",1]`, false},
		{`[2]`, `[1,"a",-1,1]`, false},
		{`[-1]`, `[1]`, false},
	}
	for _, tt := range tests {
		if got := parseOp(t, tt.a).Equal(parseOp(t, tt.b)); got != tt.want {
			t.Errorf("%s.Equal(%s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestParseManyPieces decodes an op whose inserts and deletes come in many
// small pieces, delete first, as a chatty client might send them.
func TestParseManyPieces(t *testing.T) {
	const pieces = 40_000 // 80,002 items, under the default limit
	var in strings.Builder
	in.WriteString("[1")
	for range pieces {
		in.WriteString(`,-1,"é"`)
	}
	in.WriteString(",1]")
	op := parseOp(t, in.String())
	if op.Len() != 4 || op.Component(1).Text != strings.Repeat("é", pieces) || op.Component(2).N != pieces {
		t.Fatalf("got %d components, want [1,\"é…\",-%d,1]", op.Len(), pieces)
	}
	if err := checkCanonical(op); err != nil {
		t.Fatal(err)
	}
}

// TestOpSize: Size counts every component and all inserted text, so an op
// of many short components weighs more than its text.
func TestOpSize(t *testing.T) {
	var b Builder
	for range 1000 {
		b.Retain(1)
		b.Delete(1)
	}
	b.Insert("héllo")
	many := b.Op()
	if got, min := many.Size(), 2001*16+len("héllo"); got < min {
		t.Errorf("Size of %d components = %d, want at least %d", many.Len(), got, min)
	}
	text := strings.Repeat("x", 1<<20)
	one := parseOp(t, `["`+text+`"]`)
	if got := one.Size(); got < len(text) || got > len(text)+256 {
		t.Errorf("Size of a 1 MiB insert = %d, want 1 MiB plus a little", got)
	}
}
