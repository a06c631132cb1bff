package bolt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

var ctx = context.Background()

func TestAppendLoad(t *testing.T) {
	tests := []struct {
		name string
		ops  func() []ot.Op
		want string
	}{
		{"one insert", func() []ot.Op { return []ot.Op{insertOp(0, 0, "hello")} }, "hello"},
		{"insert middle", func() []ot.Op {
			return []ot.Op{insertOp(0, 0, "held"), insertOp(4, 3, "lo worl")}
		}, "hello world"},
		{"delete", func() []ot.Op {
			return []ot.Op{insertOp(0, 0, "hello world"), deleteOp(11, 5, 6)}
		}, "hello"},
		{"code points", func() []ot.Op {
			return []ot.Op{insertOp(0, 0, "a😀b"), insertOp(3, 2, "é"), deleteOp(4, 1, 1)}
		}, "aéb"},
		{"noop", func() []ot.Op { return []ot.Op{{}} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTemp(t, Options{})
			ops := tt.ops()
			for i, op := range ops {
				rec := storage.Record{Rev: uint64(i + 1), Op: op, Client: "c1", Seq: uint64(i + 1)}
				if err := db.Append(ctx, "doc", []storage.Record{rec}); err != nil {
					t.Fatalf("Append %d: %v", i+1, err)
				}
			}
			d, err := db.Load(ctx, "doc")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if d.Text != tt.want || d.Rev != uint64(len(ops)) || d.Length != len([]rune(tt.want)) || d.ID != "doc" {
				t.Errorf("Load = %q rev %d len %d id %q, want %q rev %d len %d", d.Text, d.Rev, d.Length, d.ID, tt.want, len(ops), len([]rune(tt.want)))
			}
			if d.Created.IsZero() || d.Updated.Before(d.Created) {
				t.Errorf("times created %v updated %v", d.Created, d.Updated)
			}
		})
	}
}

func TestAppendSeveralRecords(t *testing.T) {
	db, _ := openTemp(t, Options{})
	recs := []storage.Record{
		{Rev: 1, Op: insertOp(0, 0, "ab"), Client: "c", Seq: 1, Time: epoch},
		{Rev: 2, Op: insertOp(2, 1, "x"), Client: "c", Seq: 2, Time: epoch},
		{Rev: 3, Op: insertOp(3, 3, "y"), Client: "d", Seq: 7, Time: epoch},
	}
	if err := db.Append(ctx, "doc", recs); err != nil {
		t.Fatalf("Append: %v", err)
	}
	got, err := db.Ops(ctx, "doc", 0, 3)
	if err != nil {
		t.Fatalf("Ops: %v", err)
	}
	if len(got) != 3 {
		t.Fatalf("Ops returned %d records, want 3", len(got))
	}
	for i := range recs {
		if !sameRecord(got[i], recs[i]) {
			t.Errorf("record %d = %+v, want %+v", i, got[i], recs[i])
		}
	}
	if d, _ := db.Load(ctx, "doc"); d.Text != "axby" {
		t.Errorf("text = %q, want axby", d.Text)
	}
}

func sameRecord(a, b storage.Record) bool {
	return a.Rev == b.Rev && a.Author == b.Author && a.Client == b.Client && a.Seq == b.Seq &&
		a.Time.Equal(b.Time) && fmt.Sprint(a.Op.Components()) == fmt.Sprint(b.Op.Components())
}

func TestAppendRefused(t *testing.T) {
	tests := []struct {
		name string
		id   string
		recs []storage.Record
		want error
	}{
		{"revision gap", "doc", []storage.Record{{Rev: 4, Op: insertOp(2, 0, "x")}}, storage.ErrConflict},
		{"revision taken", "doc", []storage.Record{{Rev: 2, Op: insertOp(2, 0, "x")}}, storage.ErrConflict},
		{"not consecutive", "doc", []storage.Record{{Rev: 3, Op: insertOp(2, 0, "x")}, {Rev: 5, Op: insertOp(3, 0, "x")}}, storage.ErrConflict},
		{"base length", "doc", []storage.Record{{Rev: 3, Op: insertOp(5, 0, "x")}}, storage.ErrConflict},
		{"second base length", "doc", []storage.Record{{Rev: 3, Op: insertOp(2, 0, "x")}, {Rev: 4, Op: insertOp(2, 0, "x")}}, storage.ErrConflict},
		{"client seq repeated", "doc", []storage.Record{{Rev: 3, Op: insertOp(2, 0, "x"), Client: "c", Seq: 2}}, storage.ErrConflict},
		{"client seq repeated within", "doc", []storage.Record{{Rev: 3, Op: insertOp(2, 0, "x"), Client: "e", Seq: 1}, {Rev: 4, Op: insertOp(3, 0, "x"), Client: "e", Seq: 1}}, storage.ErrConflict},
		{"new doc not at 1", "new", []storage.Record{{Rev: 2, Op: insertOp(0, 0, "x")}}, storage.ErrConflict},
		{"empty id", "", []storage.Record{{Rev: 1, Op: insertOp(0, 0, "x")}}, storage.ErrInvalid},
		{"long id", strings.Repeat("x", 2000), []storage.Record{{Rev: 1, Op: insertOp(0, 0, "x")}}, storage.ErrInvalid},
		{"bad utf8 text", "doc", []storage.Record{{Rev: 3, Op: insertOp(2, 0, "\xff")}}, storage.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTemp(t, Options{})
			base := []storage.Record{
				{Rev: 1, Op: insertOp(0, 0, "a"), Client: "c", Seq: 1},
				{Rev: 2, Op: insertOp(1, 1, "b"), Client: "c", Seq: 2},
			}
			if err := db.Append(ctx, "doc", base); err != nil {
				t.Fatalf("Append base: %v", err)
			}
			if err := db.Append(ctx, tt.id, tt.recs); !errors.Is(err, tt.want) {
				t.Fatalf("Append = %v, want %v", err, tt.want)
			}
			d, err := db.Load(ctx, "doc")
			if err != nil || d.Text != "ab" || d.Rev != 2 {
				t.Errorf("after refusal Load = %q rev %d, %v; want ab rev 2", d.Text, d.Rev, err)
			}
			if seq, rev, _ := db.ClientSeq(ctx, "doc", "c"); seq != 2 || rev != 2 {
				t.Errorf("ClientSeq = %d, %d; want 2, 2", seq, rev)
			}
			if _, err := db.Load(ctx, "new"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("refused write created a document: Load(new) = %v", err)
			}
		})
	}
}

func TestAppendEmptyIsNoop(t *testing.T) {
	db, _ := openTemp(t, Options{})
	if err := db.Append(ctx, "doc", nil); err != nil {
		t.Fatalf("Append(nil) = %v", err)
	}
	if _, err := db.Load(ctx, "doc"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Load = %v, want storage.ErrNotFound", err)
	}
}

// TestGroupFailsAlone commits one group in which some writes are refused:
// only those fail, the rest of the group commits.
func TestGroupFailsAlone(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "a", "c", 0, 2)
	results := make(map[*write]chan error)
	mk := func(id string, recs ...storage.Record) *write {
		res := make(chan error, 1)
		w := &write{id: id, recs: recs, done: func(err error) { res <- err }}
		results[w] = res
		for _, r := range recs {
			w.vals = append(w.vals, encodeRecord(r))
		}
		return w
	}
	la := tokensLen("a", 2)
	batch := []*write{
		mk("a", storage.Record{Rev: 3, Op: insertOp(la, la, token("a", 3)), Client: "c", Seq: 3}),
		mk("a", storage.Record{Rev: 3, Op: insertOp(la, 0, "dup")}),        // conflict: rev 3 taken by the write before
		mk("b", storage.Record{Rev: 1, Op: insertOp(0, 0, token("b", 1))}), // new document
		mk("b", storage.Record{Rev: 2, Op: insertOp(9, 0, "x")}),           // base length wrong
		mk("b", storage.Record{Rev: 2, Op: insertOp(tokensLen("b", 1), tokensLen("b", 1), token("b", 2))}),
		mk("c", storage.Record{Rev: 2, Op: insertOp(0, 0, "x")}), // a new document must start at 1
	}
	db.commit(batch)
	want := []error{nil, storage.ErrConflict, nil, storage.ErrConflict, nil, storage.ErrConflict}
	for i, w := range batch {
		if err := <-results[w]; !errors.Is(err, want[i]) || (want[i] == nil && err != nil) {
			t.Errorf("write %d: err = %v, want %v", i, err, want[i])
		}
	}
	for id, rev := range map[string]int{"a": 3, "b": 2} {
		d, err := db.Load(ctx, id)
		if err != nil || d.Text != tokensText(id, rev) || d.Rev != uint64(rev) {
			t.Errorf("Load(%s) = %q rev %d, %v; want %q rev %d", id, d.Text, d.Rev, err, tokensText(id, rev), rev)
		}
	}
	if _, err := db.Load(ctx, "c"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Load(c) = %v, want storage.ErrNotFound", err)
	}
	if got := db.Stats().Commits; got != 3 {
		t.Errorf("Stats().Commits = %d, want 3 (2 appends, 1 group)", got)
	}
}

// TestConcurrentAppends has many editors of many documents append at once;
// the group commit must keep every document's log exact.
func TestConcurrentAppends(t *testing.T) {
	db, _ := openTemp(t, Options{SnapshotEvery: 7})
	const docs, perDoc = 20, 40
	var wg sync.WaitGroup
	for d := range docs {
		wg.Go(func() {
			id := fmt.Sprintf("d%d", d)
			for rev := 1; rev <= perDoc; rev++ {
				n := tokensLen(id, rev-1)
				rec := storage.Record{Rev: uint64(rev), Op: insertOp(n, n, token(id, rev)), Client: "c", Seq: uint64(rev)}
				if err := db.Append(ctx, id, []storage.Record{rec}); err != nil {
					t.Errorf("Append %s %d: %v", id, rev, err)
					return
				}
			}
		})
	}
	wg.Wait()
	for d := range docs {
		id := fmt.Sprintf("d%d", d)
		doc, err := db.Load(ctx, id)
		if err != nil || doc.Text != tokensText(id, perDoc) {
			t.Errorf("Load(%s) = %q, %v; want %q", id, doc.Text, err, tokensText(id, perDoc))
		}
	}
	s := db.Stats()
	if s.Ops != docs*perDoc || s.Writes != docs*perDoc {
		t.Errorf("Stats ops %d writes %d, want %d", s.Ops, s.Writes, docs*perDoc)
	}
	t.Logf("%d writes in %d commits", s.Writes, s.Commits)
}

func TestOps(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c", 0, 10)
	tests := []struct {
		from, to uint64
		want     []uint64
	}{
		{0, 10, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{3, 5, []uint64{4, 5}},
		{9, 10, []uint64{10}},
		{5, 5, nil},
		{7, 3, nil},
		{8, 100, []uint64{9, 10}},
		{10, 20, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-%d", tt.from, tt.to), func(t *testing.T) {
			recs, err := db.Ops(ctx, "doc", tt.from, tt.to)
			if err != nil {
				t.Fatalf("Ops: %v", err)
			}
			var got []uint64
			for _, r := range recs {
				got = append(got, r.Rev)
				if r.Client != "c" || r.Seq != r.Rev || r.Author != "ann" || r.Time.IsZero() {
					t.Errorf("record %d: %+v", r.Rev, r)
				}
				if want := token("doc", int(r.Rev)); r.Op.Len() < 1 || r.Op.Component(r.Op.Len()-1).Text != want {
					t.Errorf("record %d op %v, want insert %q at end", r.Rev, r.Op.Components(), want)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("revs = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := db.Ops(ctx, "nope", 0, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Ops(missing) = %v, want storage.ErrNotFound", err)
	}
}

func TestTextAt(t *testing.T) {
	db, _ := openTemp(t, Options{})
	// Inserts and deletes at varying places, checked against applyNaive.
	texts := []string{""}
	text := ""
	for rev := 1; rev <= 60; rev++ {
		n := len([]rune(text))
		op := insertOp(n, (rev*7)%(n+1), fmt.Sprintf("<%d>", rev))
		if rev%3 == 0 && n > 4 {
			op = deleteOp(n, (rev*5)%(n-3), 3)
		}
		if err := db.Append(ctx, "doc", []storage.Record{{Rev: uint64(rev), Op: op}}); err != nil {
			t.Fatalf("Append %d: %v", rev, err)
		}
		if rev == 25 {
			db.snapshotAll(map[string]uint64{"doc": 1}, true) // a snapshot mid-history
		}
		text = applyNaive(text, op)
		texts = append(texts, text)
	}
	for rev, want := range texts {
		got, err := db.TextAt(ctx, "doc", uint64(rev))
		if err != nil || got != want {
			t.Errorf("TextAt(%d) = %q, %v; want %q", rev, got, err, want)
		}
	}
	if _, err := db.TextAt(ctx, "doc", 61); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("TextAt(61) = %v, want storage.ErrInvalid", err)
	}
	if _, err := db.TextAt(ctx, "nope", 0); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("TextAt(missing) = %v, want storage.ErrNotFound", err)
	}
}

func TestClientSeq(t *testing.T) {
	db, _ := openTemp(t, Options{})
	recs := []storage.Record{
		{Rev: 1, Op: insertOp(0, 0, "a"), Client: "x", Seq: 5},
		{Rev: 2, Op: insertOp(1, 0, "b"), Client: "y", Seq: 1},
		{Rev: 3, Op: insertOp(2, 0, "c"), Client: "x", Seq: 9},
		{Rev: 4, Op: insertOp(3, 0, "d")}, // no client: an HTTP edit
	}
	for _, r := range recs {
		if err := db.Append(ctx, "doc", []storage.Record{r}); err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	tests := []struct {
		id, client string
		seq, rev   uint64
	}{
		{"doc", "x", 9, 3},
		{"doc", "y", 1, 2},
		{"doc", "z", 0, 0},
		{"other", "x", 0, 0},
	}
	for _, tt := range tests {
		seq, rev, err := db.ClientSeq(ctx, tt.id, tt.client)
		if err != nil || seq != tt.seq || rev != tt.rev {
			t.Errorf("ClientSeq(%s, %s) = %d, %d, %v; want %d, %d", tt.id, tt.client, seq, rev, err, tt.seq, tt.rev)
		}
	}
}

func TestListAndDelete(t *testing.T) {
	db, _ := openTemp(t, Options{})
	for _, id := range []string{"c", "a", "e", "b", "d"} {
		appendInserts(t, db, id, "x", 0, 2)
	}
	tests := []struct {
		after string
		limit int
		want  string
	}{
		{"", 10, "a b c d e"},
		{"", 2, "a b"},
		{"b", 2, "c d"},
		{"bb", 10, "c d e"},
		{"e", 10, ""},
	}
	for _, tt := range tests {
		metas, err := db.List(ctx, tt.after, tt.limit)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		var ids []string
		for _, m := range metas {
			ids = append(ids, m.ID)
			if m.Rev != 2 || m.Length != tokensLen(m.ID, 2) || m.Created.IsZero() {
				t.Errorf("meta %+v", m)
			}
		}
		if got := strings.Join(ids, " "); got != tt.want {
			t.Errorf("List(%q, %d) = %q, want %q", tt.after, tt.limit, got, tt.want)
		}
	}
	if _, err := db.List(ctx, "", 0); !errors.Is(err, storage.ErrInvalid) {
		t.Errorf("List limit 0 = %v, want storage.ErrInvalid", err)
	}

	if err := db.Delete(ctx, "c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := db.Delete(ctx, "c"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second Delete = %v, want storage.ErrNotFound", err)
	}
	if _, err := db.Load(ctx, "c"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Load after Delete = %v, want storage.ErrNotFound", err)
	}
	if seq, _, _ := db.ClientSeq(ctx, "c", "x"); seq != 0 {
		t.Errorf("client seq survived Delete: %d", seq)
	}
	if metas, _ := db.List(ctx, "", 10); len(metas) != 4 {
		t.Errorf("List after Delete has %d documents, want 4", len(metas))
	}
	// A document recreated under the same id starts afresh.
	appendInserts(t, db, "c", "x", 0, 1)
	if d, err := db.Load(ctx, "c"); err != nil || d.Rev != 1 || d.Text != tokensText("c", 1) {
		t.Errorf("recreated Load = %+v, %v", d, err)
	}
}

func TestClosed(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c", 0, 1)
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]func() error{
		"Close": db.Close,
		"Append": func() error {
			return db.Append(ctx, "doc", []storage.Record{{Rev: 2, Op: insertOp(tokensLen("doc", 1), 0, "x")}})
		},
		"Load":   func() error { _, err := db.Load(ctx, "doc"); return err },
		"Ops":    func() error { _, err := db.Ops(ctx, "doc", 0, 1); return err },
		"TextAt": func() error { _, err := db.TextAt(ctx, "doc", 1); return err },
		"ClientSeq": func() error {
			_, _, err := db.ClientSeq(ctx, "doc", "c")
			return err
		},
		"List":   func() error { _, err := db.List(ctx, "", 1); return err },
		"Delete": func() error { return db.Delete(ctx, "doc") },
		"Check":  db.Check,
		"Backup": func() error { _, err := db.Backup(&strings.Builder{}); return err },
		"Prune":  func() error { _, err := db.Prune(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, storage.ErrClosed) {
			t.Errorf("%s after Close = %v, want storage.ErrClosed", name, err)
		}
	}
}

// TestCloseWhileAppending closes the store under writers: each Append
// either commits (and is then on disk) or reports ErrClosed.
func TestCloseWhileAppending(t *testing.T) {
	db, _ := openTemp(t, Options{})
	const writers = 8
	committed := make([]int, writers)
	var wg sync.WaitGroup
	started := make(chan struct{}, writers)
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("w%d", w)
			for rev := 1; ; rev++ {
				n := tokensLen(id, rev-1)
				err := db.Append(ctx, id, []storage.Record{{Rev: uint64(rev), Op: insertOp(n, n, token(id, rev))}})
				if errors.Is(err, storage.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				committed[w] = rev
				if rev == 1 {
					started <- struct{}{}
				}
			}
		})
	}
	for range writers {
		<-started
	}
	db.Close()
	wg.Wait()
	db2, err := Open(db.Path(), Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	for w, rev := range committed {
		id := fmt.Sprintf("w%d", w)
		d, err := db2.Load(ctx, id)
		if err != nil || d.Rev != uint64(rev) || d.Text != tokensText(id, rev) {
			t.Errorf("%s: Load rev %d, %v; want rev %d (acknowledged)", id, d.Rev, err, rev)
		}
	}
}

func TestRestart(t *testing.T) {
	db, _ := openTemp(t, Options{SnapshotEvery: 10})
	want := map[string]int{"a": 5, "b": 23, "c": 1}
	for id, n := range want {
		appendInserts(t, db, id, "cl-"+id, 0, n)
	}
	before, _ := db.Load(ctx, "b")
	db = reopen(t, db, Options{SnapshotEvery: 10})
	for id, n := range want {
		d, err := db.Load(ctx, id)
		if err != nil || d.Text != tokensText(id, n) || d.Rev != uint64(n) || d.Length != tokensLen(id, n) {
			t.Errorf("Load(%s) = %+v, %v; want %q rev %d", id, d, err, tokensText(id, n), n)
		}
		if seq, rev, err := db.ClientSeq(ctx, id, "cl-"+id); err != nil || seq != uint64(n) || rev != uint64(n) {
			t.Errorf("ClientSeq(%s) = %d, %d, %v; want %d, %d", id, seq, rev, err, n, n)
		}
	}
	after, _ := db.Load(ctx, "b")
	if !after.Created.Equal(before.Created) || !after.Updated.Equal(before.Updated) {
		t.Errorf("times changed over restart: %v %v -> %v %v", before.Created, before.Updated, after.Created, after.Updated)
	}
	// Writing goes on where it stopped.
	appendInserts(t, db, "b", "cl-b", 23, 2)
	if d, _ := db.Load(ctx, "b"); d.Text != tokensText("b", 25) {
		t.Errorf("after more writes text = %q", d.Text)
	}
}

func TestCheck(t *testing.T) {
	db, _ := openTemp(t, Options{})
	appendInserts(t, db, "doc", "c", 0, 5)
	if err := db.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
