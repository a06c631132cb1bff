package ot

import (
	"encoding/binary"
	"math/bits"
)

// bufRuneOffset returns the byte offset of code point k in p, which holds n
// code points of valid UTF-8. ASCII text needs no walk; other text is
// walked from the nearer end, eight bytes at a time, counting the bytes
// that start a code point. Walking back from the end touches only the bytes
// that an insert or delete at k moves anyway.
func bufRuneOffset(p []byte, n, k int) int {
	switch {
	case n == len(p):
		return k
	case k >= n:
		return len(p)
	case k > n/2:
		return bufRuneOffsetBack(p, n-k)
	}
	i := 0
	for i+8 <= len(p) {
		starts := bufStarts(binary.LittleEndian.Uint64(p[i:]))
		if starts > k {
			break
		}
		k -= starts
		i += 8
	}
	for ; i < len(p); i++ {
		if p[i]&0xC0 != 0x80 {
			if k == 0 {
				return i
			}
			k--
		}
	}
	return len(p)
}

// bufRuneOffsetBack returns the byte offset of the m-th code point counted
// back from the end of p (m >= 1).
func bufRuneOffsetBack(p []byte, m int) int {
	j := len(p)
	for j >= 8 {
		starts := bufStarts(binary.LittleEndian.Uint64(p[j-8:]))
		if starts >= m {
			break
		}
		m -= starts
		j -= 8
	}
	for j > 0 {
		j--
		if p[j]&0xC0 != 0x80 {
			m--
			if m == 0 {
				return j
			}
		}
	}
	return 0
}

// bufStarts counts the bytes of w that start a code point (that are not
// continuation bytes 10xxxxxx).
func bufStarts(w uint64) int {
	return 8 - bits.OnesCount64(w&0x8080808080808080&^(w<<1))
}

// bufTouch reads one byte of every cache line of p and returns their sum,
// which the caller stores so that the reads are not optimized away. On a
// big document the leaf an edit lands in is rarely cached: reading a byte
// per line, with no branch on the bytes read, puts all of the leaf's lines
// in flight at once, so the leaf costs about one memory latency instead of
// one for the lines the walk reaches and another for those the copy moves.
func bufTouch(p []byte) byte {
	var x byte
	for i := 0; i < len(p); i += 64 {
		x += p[i]
	}
	return x
}
