// Package ot holds the operational-transformation engine for plain text:
// operations (Op) and the functions that apply, compose, transform and
// invert them, derive them from two texts (Diff) and move carets and
// selections through them (TransformIndex, Selection.Transform).
//
// # Model
//
// An Op covers the whole document it applies to, its base, as a sequence of
// components: retain n (keep the next n characters), insert text, and delete
// n (remove the next n characters). BaseLen is the length of the documents
// an op applies to; TargetLen the length of the document it produces.
//
// Positions and lengths count Unicode code points (runes): not bytes, not
// UTF-16 code units. "😀" has length 1, "e\u0301" (e and a combining acute
// accent) length 2 and the family emoji "👩‍👩‍👧" (three emoji joined by two
// zero-width joiners) length 5. Clients that count UTF-16 units convert at
// the edge; nothing here ever splits a code point.
//
// # Canonical form
//
// Every Op is kept in canonical form: no empty components, no two neighbours
// of one kind, and an insert placed before a delete at the same position (so
// a run of changes between retains is at most one insert then one delete).
// Two ops with the same effect on every document therefore have the same
// components, and Equal compares them directly. A trailing retain is kept:
// it is what makes BaseLen cover the whole document.
//
// # Wire form
//
// Ops marshal to the compact JSON array popularised by ot.js: a retain is a
// positive integer, an insert a string, a delete a negative integer, as in
// [5, "hé😀", -3, 10]. [] is the no-op on the empty document. Encoding
// always emits canonical form.
//
// Decoding (UnmarshalJSON, Parse) accepts only integers written without a
// fraction or exponent whose magnitude is at most 2^53-1 (the JavaScript safe
// integers) and fits an int; it rejects zero counts and empty inserts
// (ErrZeroCount), -0, 1.5 and 1e3 (ErrBadNumber), inserts with invalid UTF-8
// or lone surrogate escapes such as "\ud83d" (ErrInvalidText), ops over the
// Limits (ErrTooLarge), and anything else that is not such an array, null
// included (ErrSyntax). It normalises what is merely non-canonical: adjacent
// components of one kind are merged and a delete followed by an insert is
// reordered, as clients such as ot.js may emit that order.
//
// # Ties
//
// When both sides of Transform insert at the same position, the first
// argument's text goes first (as in ot.js): the server passes the op that
// was committed earlier as the first argument. A caret moved by
// TransformIndex stays before text that other editors insert at its
// position and moves after text its own editor inserted there; a caret
// inside a deleted range moves to the deletion point.
//
// # Errors
//
// Every error wraps one of the Err sentinels of this package; test with
// errors.Is. A base length mismatch is a *LengthError giving both lengths.
// Ops are immutable values and safe to share between goroutines.
package ot
