package collab

// MaxDocIDLen is the longest document id.
const MaxDocIDLen = 128

// ValidDocID reports whether id is 1–128 letters, digits, '-', '_' or '.'.
// "." and ".." are refused: they are path segments, not names.
func ValidDocID(id string) bool {
	if id == "." || id == ".." {
		return false
	}
	return validName(id, MaxDocIDLen, true)
}

// validClientID reports whether id is 1–64 letters, digits, '-' or '_'.
func validClientID(id string) bool { return validName(id, 64, false) }

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
