package ot

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// genAlphabet mixes the characters that break naive text engines: ASCII,
// Latin-1, a combining mark, CJK, astral emoji, the zero-width joiner and
// regional indicators, U+2028 and a NUL.
var genAlphabet = []string{
	"a", "b", "c", " ", "\n", "é", "\u0301", "漢", "字", "😀", "👩", "\u200d",
	"🇫", "🇷", "\u2028", "\x00", "\"", "\\", "x", "y",
}

// opGen generates random documents and ops from a seed, so that a failing
// property test can print the seed and be replayed.
type opGen struct {
	seed uint64
	r    *rand.Rand
}

func newOpGen(seed uint64) *opGen {
	return &opGen{seed: seed, r: rand.New(rand.NewPCG(seed, 0x6f74))}
}

// text returns n random characters (code points).
func (g *opGen) text(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(genAlphabet[g.r.IntN(len(genAlphabet))])
	}
	return b.String()
}

// doc returns a random document of up to max characters; sometimes a run of
// one character, where ties between equal positions are most likely.
func (g *opGen) doc(max int) string {
	n := g.r.IntN(max + 1)
	if g.r.IntN(8) == 0 {
		return strings.Repeat(genAlphabet[g.r.IntN(len(genAlphabet))], n)
	}
	return g.text(n)
}

// op returns a random op over documents of baseLen characters.
func (g *opGen) op(baseLen int) Op {
	var b Builder
	for rem := baseLen; ; {
		if rem == 0 {
			if g.r.IntN(3) == 0 {
				b.Insert(g.text(1 + g.r.IntN(4)))
			}
			return b.Op()
		}
		n := 1 + g.r.IntN(min(rem, 6))
		switch g.r.IntN(5) {
		case 0, 1:
			b.Retain(n)
			rem -= n
		case 2:
			b.Insert(g.text(1 + g.r.IntN(4)))
		default:
			b.Delete(n)
			rem -= n
		}
	}
}

// opFor returns a random op over doc.
func (g *opGen) opFor(doc string) Op { return g.op(utf8.RuneCountInString(doc)) }

func (g *opGen) String() string { return fmt.Sprintf("seed %d", g.seed) }

// checkCanonical reports how o breaks canonical form, or nil.
func checkCanonical(o Op) error {
	base, target := 0, 0
	for i, c := range o.comps {
		if c.N <= 0 {
			return fmt.Errorf("%v: component %d has count %d", o, i, c.N)
		}
		switch c.Kind {
		case Retain:
			base += c.N
			target += c.N
		case Delete:
			base += c.N
		case Insert:
			if n := utf8.RuneCountInString(c.Text); n != c.N {
				return fmt.Errorf("%v: insert %d has N %d for %d code points", o, i, c.N, n)
			}
			target += c.N
		default:
			return fmt.Errorf("%v: component %d has kind %d", o, i, c.Kind)
		}
		if c.Kind != Insert && c.Text != "" {
			return fmt.Errorf("%v: component %d has text", o, i)
		}
		if i == 0 {
			continue
		}
		prev := o.comps[i-1].Kind
		if prev == c.Kind {
			return fmt.Errorf("%v: components %d and %d are both of kind %d", o, i-1, i, c.Kind)
		}
		if prev == Delete && c.Kind == Insert {
			return fmt.Errorf("%v: delete before insert at component %d", o, i)
		}
	}
	if base != o.baseLen || target != o.targetLen {
		return fmt.Errorf("%v: lengths %d→%d, components say %d→%d", o, o.baseLen, o.targetLen, base, target)
	}
	return nil
}
