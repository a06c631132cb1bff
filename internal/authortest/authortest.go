// Package authortest is the reference the authorship tests compare the
// store's against: one author per code point, every op replayed in full.
package authortest

import "github.com/collabd/collab/ot"

// Replay applies op to authors, one entry per code point of the text op
// applies to: retained code points keep theirs, inserted ones get who.
func Replay(authors []string, op ot.Op, who string) []string {
	var out []string
	pos := 0
	for _, c := range op.Components() {
		switch c.Kind {
		case ot.Retain:
			out = append(out, authors[pos:pos+c.N]...)
			pos += c.N
		case ot.Insert:
			for range c.N {
				out = append(out, who)
			}
		case ot.Delete:
			pos += c.N
		}
	}
	return append(out, authors[pos:]...)
}
