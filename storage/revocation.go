package storage

import (
	"context"
	"encoding/json"
	"fmt"
)

// Revocation takes away, before they expire, the access some tokens
// grant: the token whose id (jti) is ID, or else the tokens of Subject
// (sub) and/or Name issued at or before At, on Doc (a document id, a
// prefix ending in "*", or "*" for every document). It is kept until
// Until, when the last token it concerns has expired.
type Revocation struct {
	ID      string `json:"jti,omitempty"`
	Subject string `json:"sub,omitempty"`
	Name    string `json:"name,omitempty"`
	Doc     string `json:"doc,omitempty"`
	At      int64  `json:"at"`    // Unix seconds: when it was made
	Until   int64  `json:"until"` // Unix seconds: when it may be forgotten
}

// Key names the tokens a revocation concerns: a later revocation of the
// same tokens replaces an earlier one.
func (r Revocation) Key() string {
	if r.ID != "" {
		return "jti\x00" + r.ID
	}
	return "who\x00" + r.Subject + "\x00" + r.Name + "\x00" + r.Doc
}

// Merge is what r and a later revocation of the same tokens, n, amount
// to: the later time made and the later time kept.
func (r Revocation) Merge(n Revocation) Revocation {
	r.At, r.Until = max(r.At, n.At), max(r.Until, n.Until)
	return r
}

// EncodeRevocation and DecodeRevocation are a revocation's stored form.
func EncodeRevocation(r Revocation) []byte {
	data, err := json.Marshal(r)
	if err != nil {
		panic("storage: encode revocation: " + err.Error()) // strings and integers always encode
	}
	return data
}

func DecodeRevocation(data []byte) (Revocation, error) {
	var r Revocation
	if err := json.Unmarshal(data, &r); err != nil {
		return Revocation{}, fmt.Errorf("%w: revocation: %v", ErrCorrupt, err)
	}
	return r, nil
}

// RevocationStore is implemented by a Store that keeps revocations
// durably (bolt.DB in its file, cluster.Store in JetStream), so that they
// survive a restart until their Until.
type RevocationStore interface {
	// PutRevocation stores r, merged with a stored revocation of the same
	// tokens (Revocation.Merge).
	PutRevocation(ctx context.Context, r Revocation) error
	// Revocations returns the stored revocations not past their Until.
	Revocations(ctx context.Context) ([]Revocation, error)
}

// RevocationWatcher is implemented by a Store several servers share: it
// calls fn with every revocation any of them puts, including those put
// before the call, until ctx ends. fn is called from one goroutine at a
// time and may block.
type RevocationWatcher interface {
	WatchRevocations(ctx context.Context, fn func(Revocation)) error
}
