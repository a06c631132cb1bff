package ot

import (
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// Diff returns an op turning before into after: Diff(before, after).Apply(before)
// == after. The edit is found by go-diff on code points and cleaned up to
// fall on word and line boundaries where that keeps it short, so that it
// reads like what a person typed. It never splits a code point. Invalid
// UTF-8 in the texts is treated as U+FFFD.
func Diff(before, after string) Op {
	if before == after {
		var b Builder
		return b.Retain(utf8.RuneCountInString(before)).Op()
	}
	before, after = validText(before), validText(after)
	dmp := diffmatchpatch.New()
	raw := dmp.DiffMainRunes([]rune(before), []rune(after), false)
	// go-diff's semantic cleanup shifts edits by code point counts used as
	// byte offsets (diffmatchpatch v1.4.0), which can split a multi-byte
	// character. It works on a copy; its result is used only if every piece
	// is still whole UTF-8.
	cleaned := dmp.DiffCleanupSemantic(append([]diffmatchpatch.Diff(nil), raw...))
	if op, ok := opFromDiffs(cleaned, before, after); ok {
		return op
	}
	if op, ok := opFromDiffs(raw, before, after); ok {
		return op
	}
	// Not reached with go-diff as it is; replacing everything is still right.
	var b Builder
	return b.Insert(after).Delete(utf8.RuneCountInString(before)).Op()
}

// opFromDiffs converts go-diff's result to an op, counting code points in
// the diff texts. It reports false unless every text is valid UTF-8 and the
// op turns before into after.
func opFromDiffs(diffs []diffmatchpatch.Diff, before, after string) (Op, bool) {
	b := newBuilder(len(diffs))
	bi, ai := 0, 0 // byte offsets reached in before and after
	for _, d := range diffs {
		if !utf8.ValidString(d.Text) {
			return Op{}, false
		}
		n := utf8.RuneCountInString(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffEqual:
			if !hasAt(before, bi, d.Text) || !hasAt(after, ai, d.Text) {
				return Op{}, false
			}
			bi += len(d.Text)
			ai += len(d.Text)
			b.Retain(n)
		case diffmatchpatch.DiffDelete:
			if !hasAt(before, bi, d.Text) {
				return Op{}, false
			}
			bi += len(d.Text)
			b.Delete(n)
		case diffmatchpatch.DiffInsert:
			if !hasAt(after, ai, d.Text) {
				return Op{}, false
			}
			ai += len(d.Text)
			b.Insert(d.Text)
		}
	}
	return b.Op(), bi == len(before) && ai == len(after)
}

func hasAt(s string, i int, sub string) bool {
	return len(s)-i >= len(sub) && s[i:i+len(sub)] == sub
}

// validText returns s with each invalid byte replaced by U+FFFD, the way
// []rune(s) reads it, so that diff texts and the op agree.
func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return string([]rune(s))
}
