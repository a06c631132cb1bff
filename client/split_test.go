package client

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
)

// randomBigOp is an op on a text of n code points with many components and
// long inserts full of characters JSON escapes.
func randomBigOp(rng *rand.Rand, n int) ot.Op {
	alphabet := []rune("ab<&>\"\\\n\u2028é😀 ")
	var b ot.Builder
	for pos := 0; pos < n; {
		switch k := 1 + rng.IntN(min(50, n-pos)); rng.IntN(3) {
		case 0:
			b.Retain(k)
			pos += k
		case 1:
			b.Delete(k)
			pos += k
		default:
			var s strings.Builder
			for range rng.IntN(300) + 1 {
				s.WriteRune(alphabet[rng.IntN(len(alphabet))])
			}
			b.Insert(s.String())
		}
	}
	return b.Op()
}

// TestSplitComposes: every piece of a split fits the budget (as the JSON
// the client sends), inserts are cut between code points, and the pieces
// compose to the original op.
func TestSplitComposes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		op := randomBigOp(rng, rng.IntN(1000))
		b := budget{bytes: minBudget + rng.IntN(4000), items: 8 + rng.IntN(100)}
		if i%5 == 0 {
			b.bytes = minBudget // the smallest: progress still
		}
		got, rest, pieces := ot.Op{}, op, 0
		for first := true; ; first = false {
			piece, more, split := b.split(rest)
			if !split {
				piece = rest
			}
			data, err := json.Marshal(piece)
			if err != nil {
				t.Fatal(err)
			}
			if len(data) > b.bytes || piece.Len() > b.items {
				t.Fatalf("op %d: piece of %d bytes, %d components, budget %+v", i, len(data), piece.Len(), b)
			}
			for j := 0; j < piece.Len(); j++ {
				if !utf8.ValidString(piece.Component(j).Text) {
					t.Fatalf("op %d: piece cuts a code point: %q", i, piece.Component(j).Text)
				}
			}
			if first {
				got = piece
			} else if got, err = ot.Compose(got, piece); err != nil {
				t.Fatalf("op %d: compose piece %d: %v", i, pieces, err)
			}
			pieces++
			if !split {
				break
			}
			rest = more
		}
		if !got.Equal(op) {
			t.Fatalf("op %d: %d pieces compose to another op", i, pieces)
		}
	}
}

// readSubmit reads the next message, a submit, and checks that it fits in
// the frame limit.
func readSubmit(t *testing.T, fc *fakeConn, frame int) wire.Submit {
	t.Helper()
	typ, data := fc.read()
	if typ != wire.TypeSubmit {
		t.Fatalf("got %s, want a submit", data)
	}
	if len(data) > frame {
		t.Fatalf("submit of %d bytes, frame limit %d", len(data), frame)
	}
	var m wire.Submit
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLargeEditSentInPieces: an edit larger than the advertised frame goes
// as several submits, each with its own seq and within the limit; a piece
// in flight when the connection drops is resent unchanged under its seq,
// and the pieces make the edit.
func TestLargeEditSentInPieces(t *testing.T) {
	const frame = 1000
	fs := newFakeServer(t)
	fs.limits = &wire.Limits{Frame: frame, Doc: 1 << 20}
	c, fc := dial(t, fs, Options{Reconnect: true})
	d := join(t, c, fc, "doc", "ab", 1)
	big := strings.Repeat("é😀<x", 500) // 4000 code points, far over 1000 bytes of JSON
	must(t, d.Insert(1, big))

	server, rev := "ab", uint64(1)
	var seqs []uint64
	for piece := 0; server != d.Text(); piece++ {
		m := readSubmit(t, fc, frame)
		if piece == 1 {
			// The connection drops with the second piece in flight: it
			// comes again, the same, after the rejoin.
			fc.drop()
			fc = fs.accept()
			if j := fc.expectJoin(); j.Rev == nil || *j.Rev != rev {
				t.Fatalf("rejoin %+v, want rev %d", j, rev)
			}
			fc.joinedOps("doc", rev, m.Seq-1)
			again := readSubmit(t, fc, frame)
			if again.Seq != m.Seq || again.Rev != m.Rev || !again.Op.Equal(m.Op) {
				t.Fatalf("resent %+v, want %+v", again, m)
			}
		}
		if m.Rev != rev {
			t.Fatalf("piece %d at rev %d, want %d", piece, m.Rev, rev)
		}
		var err error
		if server, err = m.Op.Apply(server); err != nil {
			t.Fatalf("piece %d: %v", piece, err)
		}
		seqs = append(seqs, m.Seq)
		rev++
		fc.ack("doc", m.Seq, rev)
	}
	waitSynced(t, d)
	if len(seqs) < 5 {
		t.Fatalf("%d pieces, want at least 5 for %d bytes under a %d-byte frame", len(seqs), len(big), frame)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("seqs %v, want 1, 2, 3, …", seqs)
		}
	}
	checkText(t, d, "a"+big+"b")
}

// TestEditOverDocLimitRefusedWhole: an edit that needs several submits and
// would make the document larger than the server takes is refused before
// anything is sent, whole (never half committed), and the local text goes
// back; later edits go through.
func TestEditOverDocLimitRefusedWhole(t *testing.T) {
	fs := newFakeServer(t)
	fs.limits = &wire.Limits{Frame: 1000, Doc: 2000}
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "ab", 1)
	must(t, d.Insert(1, strings.Repeat("x", 3000)))
	e := nextEvent(t, d, EventReject)
	var se *ServerError
	if !errors.As(e.Err, &se) || se.Code != wire.CodeDocTooLarge || e.Seq != 0 {
		t.Fatalf("reject %+v, want doc_too_large before any seq", e)
	}
	checkText(t, d, "ab")
	must(t, d.Insert(0, "ok"))
	checkSubmit(t, readSubmit(t, fc, 1000), 1, 1, `["ok",2]`)
	fc.ack("doc", 1, 2)
	waitSynced(t, d)
	checkText(t, d, "okab")
}

// TestRefusedNeverResent: a submit the server refuses for good is dropped
// and not sent again, neither on that connection nor after a reconnect;
// the next edit takes the next seq.
func TestRefusedNeverResent(t *testing.T) {
	for _, code := range []string{wire.CodeInvalidOp, wire.CodeDocTooLarge, wire.CodeReadOnly} {
		t.Run(code, func(t *testing.T) {
			fs := newFakeServer(t)
			c, fc := dial(t, fs, Options{Reconnect: true})
			d := join(t, c, fc, "doc", "abc", 1)
			must(t, d.Insert(0, "bad"))
			checkSubmit(t, fc.expectSubmit(), 1, 1, `["bad",3]`)
			fc.send(wire.Error{Type: wire.TypeError, Code: code, Message: "no", Doc: "doc", Seq: 1})
			nextEvent(t, d, EventReject)
			checkText(t, d, "abc")

			fc.drop()
			fc = fs.accept()
			fc.expectJoin()
			fc.joinedOps("doc", 1, 0)
			if code == wire.CodeReadOnly {
				// Nothing may be sent: the first message after the rejoin
				// is whatever comes next, here a caret.
				must(t, d.SetPresence(1, 1))
				typ, data := fc.read()
				if typ != wire.TypePresence {
					t.Fatalf("after the rejoin got %s, want the caret only", data)
				}
				return
			}
			must(t, d.Insert(0, "ok"))
			checkSubmit(t, fc.expectSubmit(), 2, 1, `["ok",3]`)
		})
	}
}

// TestResolveLimits: a server that advertises no limits, or some of them,
// has collabd's defaults for the rest (docs/protocol.md, Large edits).
func TestResolveLimits(t *testing.T) {
	if got := resolveLimits(nil); got != wire.DefaultLimits {
		t.Errorf("no limits: %+v, want the defaults %+v", got, wire.DefaultLimits)
	}
	got := resolveLimits(&wire.Limits{Frame: 4096, Op: 2048})
	want := wire.Limits{Frame: 4096, Doc: 16 << 20, Op: 2048, Components: 100_000}
	if got != want {
		t.Errorf("some limits: %+v, want %+v", got, want)
	}
	if b := budgetFor(got, "notes"); b.bytes > 2048 || b.bytes < minBudget || b.items >= 100_000 {
		t.Errorf("budget %+v for %+v: want under the op limit, with a margin", b, got)
	}
}

// TestSplitDeletesFirst: a replacement too large for one submit deletes
// first, so that no piece makes the text larger than the start or the end
// (replacing a 15 MB text under the 16 MiB limit never holds 30 MB).
func TestSplitDeletesFirst(t *testing.T) {
	old, repl := strings.Repeat("old text ", 500), strings.Repeat("new words ", 400)
	op := ot.Diff(old, repl)
	b := budget{bytes: 2000, items: 1000}
	text, most, pieces := old, 0, 0
	for rest, more := op, true; more; pieces++ {
		var piece ot.Op
		piece, rest, more = b.split(rest) // the whole rest when !more
		var err error
		if text, err = piece.Apply(text); err != nil {
			t.Fatalf("piece %d: %v", pieces, err)
		}
		most = max(most, len(text))
	}
	if text != repl {
		t.Fatal("the pieces do not make the replacement")
	}
	if limit := max(len(old), len(repl)); most > limit || pieces < 3 {
		t.Fatalf("%d pieces, text up to %d bytes: want several, never over %d", pieces, most, limit)
	}
}

// TestRefusedPieceDropsTheRest: when the server refuses a piece of an edit
// sent in pieces, the rest of that edit, not yet sent, is dropped with it
// (two rejects, one edit), and the next edit goes on with the next seq.
func TestRefusedPieceDropsTheRest(t *testing.T) {
	fs := newFakeServer(t)
	fs.limits = &wire.Limits{Frame: 1000, Doc: 1 << 20}
	c, fc := dial(t, fs, Options{})
	d := join(t, c, fc, "doc", "ab", 1)
	must(t, d.Insert(1, strings.Repeat("x", 3000)))
	m := readSubmit(t, fc, 1000)
	fc.send(wire.Error{Type: wire.TypeError, Code: wire.CodeDocTooLarge, Message: "too large", Doc: "doc", Seq: m.Seq})
	if e := nextEvent(t, d, EventReject); e.Seq != 1 {
		t.Fatalf("first reject %+v, want seq 1", e)
	}
	if e := nextEvent(t, d, EventReject); e.Seq != 0 {
		t.Fatalf("second reject %+v, want the unsent rest (seq 0)", e)
	}
	checkText(t, d, "ab")
	must(t, d.Insert(2, "!"))
	checkSubmit(t, readSubmit(t, fc, 1000), 2, 1, `[2,"!"]`)
}
