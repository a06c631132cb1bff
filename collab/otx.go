package collab

import "github.com/collabd/collab/ot"

// The few ot calls the server makes, in one place.

// transformOver returns op transformed over prior, where prior was
// sequenced first (its inserts win ties).
func transformOver(prior, op ot.Op) (ot.Op, error) {
	_, op2, err := ot.Transform(prior, op)
	return op2, err
}

// transformCaret moves a caret at pos through op.
func transformCaret(op ot.Op, pos int, own bool) int {
	return ot.TransformIndex(op, pos, own)
}

// diff is the op turning a into b.
func diff(a, b string) ot.Op { return ot.Diff(a, b) }
