package cluster_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

const smallPayload = 8 << 10

func smallServer(t *testing.T) *natstest.Server {
	return natstest.RunWith(t, func(o *server.Options) { o.MaxPayload = smallPayload })
}

// TestLargeCommits: with NATS messages limited to 8 KiB, a commit of many
// records is written as several messages; a record that cannot fit is
// refused with ot.ErrTooLarge after the records before it are written;
// a snapshot larger than a message goes to the large snapshot bucket and
// is loaded from there.
func TestLargeCommits(t *testing.T) {
	ns := smallServer(t)
	a := open(t, []string{ns.URL()}, cluster.Options{SnapshotEvery: 1000})
	ctx := ctxT(t)
	kb := strings.Repeat("é", 512) // 1 KiB of UTF-8
	var recs []storage.Record
	text := ""
	for i := range 20 {
		recs = append(recs, rec(uint64(i+1), 512*i, 512*i, kb, "c", uint64(i+1)))
		text += kb
	}
	mustAppend(t, a, "big", recs...)
	wantText(t, a, "big", text, 20)
	if got, err := a.Ops(ctx, "big", 0, 20); err != nil || len(got) != 20 {
		t.Fatalf("Ops = %d records, %v", len(got), err)
	}

	huge := strings.Repeat("x", 3*smallPayload)
	batch := []storage.Record{rec(21, 20*512, 0, "a", "c", 21), rec(22, 20*512+1, 0, huge, "c", 22), rec(23, 20*512+1+len(huge), 0, "b", "c", 23)}
	if err := a.Append(ctx, "big", batch); !errors.Is(err, ot.ErrTooLarge) {
		t.Fatalf("Append with a record larger than a message: %v, want ot.ErrTooLarge", err)
	}
	wantText(t, a, "big", "a"+text, 21)

	// Prune keeps only a snapshot (about 10 KiB: larger than a message):
	// another node can load the document only from it.
	if err := a.Prune(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	b := open(t, []string{ns.URL()}, cluster.Options{})
	wantText(t, b, "big", "a"+text, 21)
	if seq, _, err := b.ClientSeq(ctx, "big", "c"); err != nil || seq != 21 {
		t.Fatalf("ClientSeq from the large snapshot = %d, %v; want 21", seq, err)
	}
	if err := b.Delete(ctx, "big"); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, b, "big", rec(1, 0, 0, "new", "c", 1))
	wantText(t, a, "big", "new", 1)
}

// TestLargeOpRefused: an op larger than a NATS message is refused with
// doc_too_large (HTTP 413, or an error for the editor's seq) and nothing
// else changes: editing goes on.
func TestLargeOpRefused(t *testing.T) {
	ns := smallServer(t)
	n := startNode(t, []string{ns.URL()}, cluster.Options{})
	x := wsDial(t, n.addr(), "cx")
	x.join("d", nil)
	x.submit("d", 0, 1, insert(0, 0, "ok"))
	x.ack(1, 1)
	status, body := call(t, "PUT", "http://"+n.addr()+"/api/docs/d", strings.Repeat("y", 2*smallPayload))
	if status != 413 || !strings.Contains(body, `"code":"doc_too_large"`) {
		t.Fatalf("PUT of an op larger than a message: %d %s, want 413 doc_too_large", status, body)
	}
	x.submit("d", 1, 2, insert(2, 2, strings.Repeat("z", 2*smallPayload)))
	x.expectError("doc_too_large")
	x.submit("d", 1, 3, insert(2, 2, "!"))
	x.ack(3, 2)
	if _, body := call(t, "GET", "http://"+n.addr()+"/api/docs/d", ""); !strings.Contains(body, `"text":"ok!"`) {
		t.Fatalf("GET: %s, want ok!", body)
	}
}

// TestMaxOpBytes: an op whose JSON is MaxOpBytes long fits in a message
// with its record (the longest client id and author), so a client keeping
// its submits within the advertised size is never refused for it.
func TestMaxOpBytes(t *testing.T) {
	ns := smallServer(t)
	a := open(t, []string{ns.URL()}, cluster.Options{})
	max := a.MaxOpBytes()
	if max <= 0 || max >= smallPayload {
		t.Fatalf("MaxOpBytes = %d with %d-byte messages", max, smallPayload)
	}
	// ["…",7]: an insert and a retain, with 6 bytes of JSON around the text.
	text := strings.Repeat("x", max-6)
	r := rec(2, 7, 0, text, strings.Repeat("c", 64), 1)
	r.Author = strings.Repeat("a", 64)
	if got := len(r.Op.String()); got != max {
		t.Fatalf("op JSON of %d bytes, want %d", got, max)
	}
	mustAppend(t, a, "d", rec(1, 0, 0, "1234567", "c", 1))
	mustAppend(t, a, "d", r)
	wantText(t, a, "d", text+"1234567", 2)
}
