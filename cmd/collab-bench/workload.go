package main

import (
	"math/rand/v2"
	"strings"
)

// editGen makes the random edits of one editor: mostly typing at a caret
// that moves forward, with backspaces, emoji, selections deleted and
// pastes, so ops have the shapes real editors send. It is deterministic
// for a seed.
type editGen struct {
	rng    *rand.Rand
	caret  int
	maxLen int // above this length the editor deletes more than it types
}

func newEditGen(seed, stream uint64, maxLen int) *editGen {
	return &editGen{rng: rand.New(rand.NewPCG(seed, stream)), maxLen: maxLen}
}

const letters = "abcdefghijklmnopqrstuvwxyz    ,.e"

var emoji = []string{"😀", "👍", "🎉", "👩‍💻", "❤️", "é"}

var pasteWords = []string{"lorem", "ipsum", "héllo", "wörld", "日本語", "😀", "naïve", "code", "the", "and"}

// next returns an edit of a text of n code points: delete del code points
// at pos, then insert ins there.
func (g *editGen) next(n int) (pos, del int, ins string) {
	if g.caret > n || g.rng.IntN(50) == 0 {
		g.caret = g.rng.IntN(n + 1) // the caret jumps
	}
	r := g.rng.IntN(100)
	if n > g.maxLen && r < 75 {
		r = 75 + g.rng.IntN(20) // trim a long document
	}
	switch {
	case r < 65: // type a character
		ins = string(letters[g.rng.IntN(len(letters))])
	case r < 75: // an emoji (some are several code points)
		ins = emoji[g.rng.IntN(len(emoji))]
	case r < 88: // backspace
		if g.caret == 0 {
			return g.next(n)
		}
		g.caret--
		return g.caret, 1, ""
	case r < 95: // delete a selection
		if n == 0 {
			return 0, 0, "a"
		}
		pos = g.rng.IntN(n)
		del = 1 + g.rng.IntN(min(20, n-pos))
		g.caret = pos
		return pos, del, ""
	default: // paste a few words
		var b strings.Builder
		for range 3 + g.rng.IntN(25) {
			b.WriteString(pasteWords[g.rng.IntN(len(pasteWords))])
			b.WriteByte(' ')
		}
		ins = b.String()
	}
	pos = g.caret
	g.caret += runeCount(ins)
	return pos, 0, ins
}

func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
