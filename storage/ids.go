package storage

import "fmt"

// MaxDocIDLen is the longest document id, in bytes.
const MaxDocIDLen = 128

// MaxClientIDLen is the longest client id, in bytes.
const MaxClientIDLen = 64

// ValidDocID reports whether id is 1–128 letters, digits, '-', '_' or '.'.
// "." and ".." are refused: they are path segments, not names. Every
// store and the server apply this one rule, so an id one of them accepts
// the others accept too, and it needs no escaping in a URL path.
func ValidDocID(id string) bool {
	if id == "." || id == ".." {
		return false
	}
	return validName(id, MaxDocIDLen, true)
}

// ValidClientID reports whether id is 1–64 letters, digits, '-' or '_'.
func ValidClientID(id string) bool { return validName(id, MaxClientIDLen, false) }

// CheckDocID returns an error wrapping ErrInvalid unless ValidDocID(id).
func CheckDocID(id string) error {
	if !ValidDocID(id) {
		return fmt.Errorf("%w: document id must be 1 to %d letters, digits, '-', '_' or '.'", ErrInvalid, MaxDocIDLen)
	}
	return nil
}

// CheckClientID returns an error wrapping ErrInvalid unless ValidClientID(id).
func CheckClientID(id string) error {
	if !ValidClientID(id) {
		return fmt.Errorf("%w: client id must be 1 to %d letters, digits, '-' or '_'", ErrInvalid, MaxClientIDLen)
	}
	return nil
}

// CheckCursors returns an error wrapping ErrInvalid unless consumer and
// every key of set are non-empty: what a store's PutCursors checks before
// it writes any of them.
func CheckCursors(consumer string, set map[string][]byte) error {
	if consumer == "" {
		return fmt.Errorf("%w: a cursor needs a consumer name", ErrInvalid)
	}
	if _, ok := set[""]; ok {
		return fmt.Errorf("%w: empty cursor key", ErrInvalid)
	}
	return nil
}

func validName(s string, max int, dot bool) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_':
		case c == '.' && dot:
		default:
			return false
		}
	}
	return true
}
