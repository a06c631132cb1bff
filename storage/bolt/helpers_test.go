package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

func openTemp(t testing.TB, opts Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "collab.db")
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func reopen(t testing.TB, db *DB, opts Options) *DB {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db2, err := Open(db.Path(), opts)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { db2.Close() })
	return db2
}

// insertOp inserts s at pos in a document of length n.
func insertOp(n, pos int, s string) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Insert(s).Retain(n - pos).Op()
}

// deleteOp deletes k code points at pos in a document of length n.
func deleteOp(n, pos, k int) ot.Op {
	var b ot.Builder
	return b.Retain(pos).Delete(k).Retain(n - pos - k).Op()
}

// applyNaive is the reference: ops applied to a []rune one by one.
func applyNaive(text string, op ot.Op) string {
	r := []rune(text)
	var out []rune
	pos := 0
	for _, c := range op.Components() {
		switch c.Kind {
		case ot.Retain:
			out = append(out, r[pos:pos+c.N]...)
			pos += c.N
		case ot.Insert:
			out = append(out, []rune(c.Text)...)
		case ot.Delete:
			pos += c.N
		}
	}
	return string(out)
}

// appendInserts appends n ops to id, each inserting a unique token at the
// end, as client with seq = rev. It returns the text they build.
func appendInserts(t testing.TB, db *DB, id, client string, from, n int) string {
	t.Helper()
	ctx := context.Background()
	var text strings.Builder
	for rev := from + 1; rev <= from+n; rev++ {
		tok := token(id, rev)
		length := tokensLen(id, rev-1)
		rec := storage.Record{Rev: uint64(rev), Op: insertOp(length, length, tok), Author: "ann", Client: client, Seq: uint64(rev)}
		if err := db.Append(ctx, id, []storage.Record{rec}); err != nil {
			t.Fatalf("Append %s rev %d: %v", id, rev, err)
		}
		text.WriteString(tok)
	}
	return text.String()
}

func token(id string, rev int) string { return fmt.Sprintf("%sr%d;", id, rev) }

// tokensText is the text of revisions 1..rev of a document built by
// appendInserts.
func tokensText(id string, rev int) string {
	var sb strings.Builder
	for r := 1; r <= rev; r++ {
		sb.WriteString(token(id, r))
	}
	return sb.String()
}

func tokensLen(id string, rev int) int { return utf8.RuneCountInString(tokensText(id, rev)) }

var epoch = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// sub is s minus an earlier reading of the counters used by benchmarks.
func (s Stats) sub(t Stats) Stats {
	s.Commits -= t.Commits
	s.Writes -= t.Writes
	s.Ops -= t.Ops
	return s
}
