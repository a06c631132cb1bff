package ot

import (
	"errors"
	"fmt"
)

// Errors reported by decoding, validation and application of ops. Test for
// them with errors.Is; the returned errors wrap them with detail.
var (
	ErrBaseLength  = errors.New("ot: base length mismatch")
	ErrPastEnd     = errors.New("ot: retain or delete past the end of the document")
	ErrZeroCount   = errors.New("ot: zero-length component")
	ErrBadNumber   = errors.New("ot: component count is not a safe integer")
	ErrInvalidText = errors.New("ot: insert is not valid Unicode text")
	ErrTooLarge    = errors.New("ot: operation over the size limit")
	ErrSyntax      = errors.New("ot: malformed operation")
)

// LengthError reports a base length mismatch: an op built for documents of
// Want code points met one of Got. errors.Is(err, ErrBaseLength) holds, and
// so does errors.Is(err, ErrPastEnd) when Got < Want: the op retains or
// deletes past the end of the document.
type LengthError struct {
	Want, Got int
}

func (e *LengthError) Error() string {
	return fmt.Sprintf("ot: base length mismatch: op expects %d code points, document has %d", e.Want, e.Got)
}

// Is makes a *LengthError match ErrBaseLength, and ErrPastEnd when the
// document is too short.
func (e *LengthError) Is(target error) bool {
	return target == ErrBaseLength || (target == ErrPastEnd && e.Got < e.Want)
}
