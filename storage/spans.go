package storage

import "fmt"

// Authorship is who inserted each code point of a text, advanced op by op:
// the bookkeeping the bbolt store keeps with its snapshots, for stores
// that keep authorship another way (in memory, in a cluster's snapshots).
type Authorship struct{ a *authorship }

// NewAuthorship starts from a text whose authorship is spans; nil for the
// empty text.
func NewAuthorship(spans []Span) *Authorship {
	a := newAuthorship()
	for _, s := range spans {
		a.cur = appendRun(a.cur, run{n: s.Length, who: a.whoOf(s.Client, s.Author)})
	}
	return &Authorship{a}
}

// Apply advances the authorship past rec's op: kept text keeps its
// author, deleted text goes, inserted text is rec's. ErrInvalid if the op
// does not fit the text (and then the authorship is unusable).
func (a *Authorship) Apply(rec Record) error {
	if err := a.a.apply(rec); err != nil {
		return fmt.Errorf("%w: revision %d: %v", ErrInvalid, rec.Rev, err)
	}
	return nil
}

// Spans returns the authorship as spans covering the text in order.
func (a *Authorship) Spans() []Span { return a.a.spans() }

// EncodeSpans is the binary form of spans that DecodeSpans reads.
func EncodeSpans(spans []Span) []byte { return encodeAuthors(spans) }

// DecodeSpans reads what EncodeSpans wrote.
func DecodeSpans(b []byte) ([]Span, error) { return decodeAuthors(b) }
