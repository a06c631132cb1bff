package ot

import (
	"encoding/binary"
	"math/bits"
)

// bufRuneOffset returns the byte offset of code point k in p, which holds n
// code points of valid UTF-8. ASCII text needs no walk; other text is
// walked from the nearer end, 32 bytes and then 8 bytes at a time, counting
// the bytes that start a code point, and the code point is picked out of
// its 8 bytes without a branch per byte. Walking back from the end touches
// only the bytes that an insert or delete at k moves anyway.
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
	for i+32 <= len(p) {
		starts := bufStarts4(p[i : i+32])
		if starts > k {
			break
		}
		k -= starts
		i += 32
	}
	for i+8 <= len(p) {
		w := binary.LittleEndian.Uint64(p[i:])
		starts := bufStarts(w)
		if starts > k {
			return i + bufSelect(w, k)
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
	for j >= 32 {
		starts := bufStarts4(p[j-32 : j])
		if starts >= m {
			break
		}
		m -= starts
		j -= 32
	}
	for j >= 8 {
		w := binary.LittleEndian.Uint64(p[j-8:])
		starts := bufStarts(w)
		if starts >= m {
			return j - 8 + bufSelect(w, starts-m)
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

const (
	bufHigh = 0x8080808080808080 // the top bit of each byte
	bufOnes = 0x0101010101010101 // 1 in each byte
)

// bufStarts counts the bytes of w that start a code point (that are not
// continuation bytes 10xxxxxx).
func bufStarts(w uint64) int {
	return 8 - bits.OnesCount64(w&bufHigh&^(w<<1))
}

// bufStarts4 counts the bytes of p, 32 long, that start a code point.
func bufStarts4(p []byte) int {
	_ = p[31]
	w0 := binary.LittleEndian.Uint64(p)
	w1 := binary.LittleEndian.Uint64(p[8:])
	w2 := binary.LittleEndian.Uint64(p[16:])
	w3 := binary.LittleEndian.Uint64(p[24:])
	return 32 - bits.OnesCount64(w0&bufHigh&^(w0<<1)) - bits.OnesCount64(w1&bufHigh&^(w1<<1)) -
		bits.OnesCount64(w2&bufHigh&^(w2<<1)) - bits.OnesCount64(w3&bufHigh&^(w3<<1))
}

// bufSelect returns the index in w (little-endian bytes) of the byte that
// starts code point k of those starting in w (k < bufStarts(w)). Each byte
// of prefix counts the starts up to and including it; the index is the
// number of bytes whose count is at most k, found by adding 127-k to each
// count (at most 8, so no byte carries into the next) and counting the
// bytes that stay below 128.
func bufSelect(w uint64, k int) int {
	start := (^(w &^ (w << 1)) & bufHigh) >> 7
	prefix := start * bufOnes
	over := (prefix + (0x7F-uint64(k))*bufOnes) & bufHigh
	return 8 - bits.OnesCount64(over)
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
