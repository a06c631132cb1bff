package collab

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/storage/memory"
)

// TestWriteRate: a connection that submits more bytes of ops than its
// bucket holds is refused rate_limited for that submit; nothing changes,
// the connection stays, and the limit is counted. An op larger than the
// burst passes on a full bucket.
func TestWriteRate(t *testing.T) {
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{WriteRate: 1, WriteBurst: 64 << 10})
	c := connect(t, ts, "paster")
	c.join("doc", nil)
	chunk := strings.Repeat("x", 40<<10)
	c.submit("doc", 0, 1, insertAt(0, 0, chunk))
	c.ack(1)
	c.submit("doc", 1, 2, insertAt(len(chunk), 0, chunk))
	if e := c.expectError(wire.CodeRateLimited); e.Seq != 2 || e.Doc != "doc" {
		t.Fatalf("error %+v, want doc and seq 2", e)
	}
	if _, rev := storeText(t, st, "doc"); rev != 1 {
		t.Fatalf("rev %d after a refused submit, want 1", rev)
	}
	c.submit("doc", 1, 2, insertAt(len(chunk), 0, "small"))
	c.ack(2)
	fresh := connect(t, ts, "big-paster")
	fresh.join("other", nil)
	fresh.submit("other", 0, 1, insertAt(0, 0, strings.Repeat("y", 100<<10)))
	fresh.ack(1)
	if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitWriteRate); got != 1 {
		t.Fatalf("write_rate hits = %v, want 1", got)
	}
}

// TestDocGrowthQuota: a document takes at most DocGrowth bytes of ops per
// window from all its writers, WebSocket and HTTP; other documents have
// their own quota, and an op larger than the whole quota passes once, on
// a full bucket.
func TestDocGrowthQuota(t *testing.T) {
	st := newTestStore(t)
	srv, ts := startServer(t, st, Options{DocGrowth: 100 << 10, DocGrowthWindow: time.Hour, WriteRate: 1e12})
	a := connect(t, ts, "a")
	b := connect(t, ts, "b")
	a.join("doc", nil)
	b.join("doc", nil)
	chunk := strings.Repeat("x", 40<<10)
	a.submit("doc", 0, 1, insertAt(0, 0, chunk))
	a.ack(1)
	a.submit("doc", 1, 2, insertAt(len(chunk), 0, chunk))
	a.ack(2)
	b.expect(wire.TypeOp, nil)
	b.expect(wire.TypeOp, nil)
	b.submit("doc", 2, 1, insertAt(2*len(chunk), 0, chunk))
	if e := b.expectError(wire.CodeQuotaExceeded); e.Seq != 1 {
		t.Fatalf("error %+v, want seq 1", e)
	}
	res, body := do(t, "PUT", ts.URL+"/api/docs/doc", strings.Repeat(chunk, 2)+strings.Repeat("y", 40<<10))
	wantStatus(t, res, body, 429, wire.CodeQuotaExceeded)
	if _, rev := storeText(t, st, "doc"); rev != 2 {
		t.Fatalf("rev %d, want 2: the refused ops changed nothing", rev)
	}

	a.join("other", nil)
	a.submit("other", 0, 1, insertAt(0, 0, chunk))
	a.ack(1)
	huge := strings.Repeat("z", 150<<10)
	a.join("huge", nil)
	a.submit("huge", 0, 1, insertAt(0, 0, huge))
	a.ack(1)
	a.submit("huge", 1, 2, insertAt(len(huge), 0, "!"))
	a.expectError(wire.CodeQuotaExceeded)
	if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitDocGrowth); got != 3 {
		t.Fatalf("doc_growth hits = %v, want 3", got)
	}
}

// TestByteLimitsOff: a negative WriteRate or DocGrowth turns that limit
// off (collabd's -write-rate 0, -doc-growth 0).
func TestByteLimitsOff(t *testing.T) {
	srv, ts := startServer(t, newTestStore(t), Options{WriteRate: -1, WriteBurst: 1, DocGrowth: -1, DocGrowthWindow: time.Hour})
	if srv.growth != nil {
		t.Fatal("DocGrowth -1: the document quota is on")
	}
	c := connect(t, ts, "unlimited")
	c.join("doc", nil)
	chunk := strings.Repeat("x", 100<<10)
	for i := range 3 {
		c.submit("doc", uint64(i), uint64(i+1), insertAt(i*len(chunk), 0, chunk))
		c.ack(uint64(i + 1))
	}
}

// largeHistory appends n ops of size bytes each to doc, each inserting
// its text at the end, and returns the text.
func largeHistory(t *testing.T, st storage.Store, doc string, n, size int) string {
	t.Helper()
	var text strings.Builder
	for rev := 1; rev <= n; rev++ {
		chunk := strings.Repeat(string(rune('a'+rev%26)), size)
		op := insertAt(text.Len(), text.Len(), chunk)
		if err := st.Append(context.Background(), doc, []storage.Record{{Rev: uint64(rev), Op: op}}); err != nil {
			t.Fatal(err)
		}
		text.WriteString(chunk)
	}
	return text.String()
}

// TestOpsPagedByBytes: GET /ops pages the history by bytes as well as by
// count, with next to continue; a record larger than the budget comes
// alone. Over the store's own byte-bounded read and over a store without.
func TestOpsPagedByBytes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) storage.Store
	}{
		{"storage", func(t *testing.T) storage.Store {
			return openDB(t, filepath.Join(t.TempDir(), "collab.db"), bolt.Options{})
		}},
		{"memstore", func(t *testing.T) storage.Store { return memory.New() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.store(t)
			const budget = 100 << 10
			text := largeHistory(t, st, "doc", 10, 30<<10)
			big := strings.Repeat("B", 200<<10)
			if err := st.Append(context.Background(), "doc", []storage.Record{{Rev: 11, Op: insertAt(len(text), len(text), big)}}); err != nil {
				t.Fatal(err)
			}
			srv, ts := startServer(t, st, Options{MaxCatchUpBytes: budget})
			var revs, pages []uint64
			from := uint64(0)
			for page := 0; ; page++ {
				if page > 20 {
					t.Fatalf("no end after %d pages", page)
				}
				res, body := do(t, "GET", fmt.Sprintf("%s/api/docs/doc/ops?from=%d", ts.URL, from), "")
				wantStatus(t, res, body, 200, "")
				var ol wire.OpList
				if err := json.Unmarshal(body, &ol); err != nil {
					t.Fatalf("page from %d: %v", from, err)
				}
				if len(ol.Ops) > 1 && len(body) > budget+4096 {
					t.Errorf("page from %d is %d bytes with %d ops, budget %d", from, len(body), len(ol.Ops), budget)
				}
				for _, o := range ol.Ops {
					revs = append(revs, o.Rev)
				}
				pages = append(pages, uint64(len(ol.Ops)))
				if ol.Next == 0 {
					break
				}
				from = ol.Next
			}
			want := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
			if fmt.Sprint(revs) != fmt.Sprint(want) {
				t.Fatalf("revs %v over pages of %v ops, want %v", revs, pages, want)
			}
			if fmt.Sprint(pages) != "[3 3 3 1 1]" {
				t.Errorf("pages of %v ops, want [3 3 3 1 1]", pages)
			}
			if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitHistory); got != 4 {
				t.Errorf("history_bytes hits = %v, want 4", got)
			}
		})
	}
}

// TestCatchUpByBytes: a resuming client gets the ops it missed when they
// fit MaxCatchUpBytes, else the text with reset.
func TestCatchUpByBytes(t *testing.T) {
	st := openDB(t, filepath.Join(t.TempDir(), "collab.db"), bolt.Options{})
	text := largeHistory(t, st, "doc", 10, 30<<10)
	srv, ts := startServer(t, st, Options{MaxCatchUpBytes: 100 << 10, WindowBytes: 1}) // nothing in the window: from the store
	c := connect(t, ts, "resumer")
	j := c.join("doc", ptr(uint64(0)))
	if !j.Reset || j.Text == nil || *j.Text != text || len(j.Ops) != 0 {
		t.Fatalf("join at 0 of 300 KiB of ops: reset %v, %d ops, want the text with reset", j.Reset, len(j.Ops))
	}
	c.send(wire.Leave{Type: wire.TypeLeave, Doc: "doc"})
	j = c.join("doc", ptr(uint64(8)))
	if j.Reset || j.Text != nil || len(j.Ops) != 2 || j.Ops[0].Rev != 9 {
		t.Fatalf("join at 8: reset %v, %d ops, want ops 9 and 10", j.Reset, len(j.Ops))
	}
	if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitHistory); got != 1 {
		t.Fatalf("history_bytes hits = %v, want 1", got)
	}
}

// TestTooFarBehind: a submit or caret further behind the head than the
// catch-up limit is refused rev_too_old, not transformed; one within it
// goes through.
func TestTooFarBehind(t *testing.T) {
	st := newTestStore(t)
	text := largeHistory(t, st, "doc", 20, 1)
	srv, ts := startServer(t, st, Options{MaxCatchUp: 10})
	c := connect(t, ts, "late")
	c.join("doc", nil)
	c.submit("doc", 5, 1, insertAt(5, 0, "old"))
	if e := c.expectError(wire.CodeRevTooOld); e.Seq != 1 {
		t.Fatalf("error %+v, want seq 1", e)
	}
	c.send(wire.Presence{Type: wire.TypePresence, Doc: "doc", Rev: 5, Anchor: 1, Head: 1})
	c.expectError(wire.CodeRevTooOld)
	c.submit("doc", 15, 1, insertAt(15, 0, "new"))
	c.ack(1)
	if got, _ := storeText(t, st, "doc"); got != "new"+text {
		t.Fatalf("text %q, want %q", got, "new"+text)
	}
	if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitCatchUp); got != 2 {
		t.Fatalf("catch_up hits = %v, want 2", got)
	}
}

// combHistory appends n ops to doc, each inserting "x" at every other of
// the first 2*width code points (about 2*width components), and returns
// the text's length.
func combHistory(t *testing.T, st storage.Store, doc string, n, width int) int {
	t.Helper()
	length := 0
	var b ot.Builder
	if err := st.Append(context.Background(), doc, []storage.Record{{Rev: 1, Op: b.Insert(strings.Repeat("-", 2*width)).Op()}}); err != nil {
		t.Fatal(err)
	}
	length = 2 * width
	for rev := 2; rev <= n; rev++ {
		var b ot.Builder
		for i := 0; i < width; i++ {
			b.Retain(1).Insert("x")
		}
		b.Retain(length - width)
		op := b.Op()
		if err := st.Append(context.Background(), doc, []storage.Record{{Rev: uint64(rev), Op: op}}); err != nil {
			t.Fatal(err)
		}
		length = op.TargetLen()
	}
	return length
}

// TestTransformWorkBounded: a submit that would transform over more
// components than MaxTransform is refused rev_too_old, and an attacker
// sending old-revision submits as fast as it may gets at most MaxTransform
// components of work per second out of the document, counted, not timed;
// another editor's submits still go through.
func TestTransformWorkBounded(t *testing.T) {
	const limit = 5_000
	st := newTestStore(t)
	combHistory(t, st, "doc", 100, 50) // ops of ~100 components
	srv, ts := startServer(t, st, Options{MaxTransform: limit})
	a := connect(t, ts, "attacker")
	a.join("doc", nil)
	lengthAt := func(rev uint64) int {
		text, err := st.TextAt(context.Background(), "doc", rev)
		if err != nil {
			t.Fatal(err)
		}
		return len(text)
	}
	a.submit("doc", 1, 1, insertAt(lengthAt(1), 0, "!")) // 99 ops × ~100 components
	a.expectError(wire.CodeRevTooOld)
	if got := testutilCounter(t, srv, "collab_transform_work_total"); got != 0 {
		t.Fatalf("transform work %v after a refused submit, want 0", got)
	}

	start := time.Now()
	const n = 200
	old := lengthAt(60) // 40 ops back: ~4,000 components each
	for seq := uint64(1); seq <= n; seq++ {
		a.submit("doc", 60, seq, insertAt(old, 0, "a"))
	}
	acked, refused := 0, 0
	for acked+refused < n {
		typ, data := a.next()
		switch typ {
		case wire.TypeAck:
			acked++
		case wire.TypeError:
			var e wire.Error
			json.Unmarshal(data, &e)
			if e.Code != wire.CodeRevTooOld {
				t.Fatalf("error %s, want rev_too_old", data)
			}
			refused++
		}
	}
	elapsed := time.Since(start)
	work := testutilCounter(t, srv, "collab_transform_work_total")
	bound := limit * (1 + elapsed.Seconds())
	t.Logf("%d old-revision submits in %v: %d acked, %d refused, %.0f components transformed (bound %.0f)", n, elapsed, acked, refused, work, bound)
	if work > bound {
		t.Errorf("%.0f components transformed in %v, want at most %.0f", work, elapsed, bound)
	}
	if acked == 0 {
		t.Errorf("no submit within the limit went through")
	}

	b := connect(t, ts, "editor")
	j := b.join("doc", nil)
	b.submit("doc", j.Rev, 1, insertAt(lengthAt(j.Rev), 0, "b"))
	b.ack(1)
}

// TestMemoryBoundedUnderLargeOps: one connection writing large ops to two
// documents as fast as they are acknowledged leaves a heap (after GC)
// within a bound computed from the limits: the store's log (twice
// CheckpointBytes, counted with the records' encoding), each document's
// window (WindowBytes), text and op in flight, and a few ops in transit.
func TestMemoryBoundedUnderLargeOps(t *testing.T) {
	const (
		checkpoint = 4 << 20
		window     = 1 << 20
		opBytes    = 256 << 10
		rounds     = 120 // 2 × 30 MiB
	)
	db := openDB(t, filepath.Join(t.TempDir(), "collab.db"), bolt.Options{CheckpointBytes: checkpoint})
	srv, ts := startServer(t, db, Options{WindowBytes: window, WriteRate: 1e12, DocGrowth: 1 << 40})
	c := connect(t, ts, "writer")
	docs := []string{"a", "b"}
	for _, d := range docs {
		c.join(d, nil)
	}
	base := heapAfterGC()
	bound := base + 2*checkpoint + uint64(len(docs))*(window+8*opBytes) + 8<<20
	var peak uint64
	length := 0
	for i := uint64(1); i <= rounds; i++ {
		text := strings.Repeat(string(rune('a'+i%26)), opBytes)
		var b ot.Builder
		op := b.Delete(length).Insert(text).Op()
		for _, d := range docs {
			c.submit(d, i-1, i, op)
		}
		for range docs {
			c.expect(wire.TypeAck, nil)
		}
		length = opBytes
		if i%20 == 0 {
			peak = max(peak, heapAfterGC())
		}
	}
	t.Logf("heap after GC: %.1f MiB before, at most %.1f MiB while writing %d MiB (bound %.1f MiB); store log %d bytes",
		mib(base), mib(peak), len(docs)*rounds*opBytes>>20, mib(bound), db.Stats().LogBytes)
	if peak > bound {
		t.Errorf("heap after GC reached %.1f MiB, want under %.1f MiB", mib(peak), mib(bound))
	}
	if got := metricValue(t, srv, "collab_window_bytes", "", ""); got <= 0 || got > float64(len(docs)*window) {
		t.Errorf("collab_window_bytes = %v, want up to %d", got, len(docs)*window)
	}
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestVersionsDrawOnDocGrowth: naming a version keeps a copy of its text,
// so it takes the text's bytes from the document's quota like an op: a
// write token cannot multiply the disk a document uses by naming
// versions. Refused, it is quota_exceeded and no version is kept.
func TestVersionsDrawOnDocGrowth(t *testing.T) {
	st := openDB(t, filepath.Join(t.TempDir(), "collab.db"), bolt.Options{})
	srv, ts := startServer(t, st, Options{DocGrowth: 100 << 10, DocGrowthWindow: time.Hour})
	api := ts.URL + "/api/docs/d"
	res, body := do(t, "PUT", api, strings.Repeat("x", 40<<10))
	wantStatus(t, res, body, 200, "")
	res, body = do(t, "POST", api+"/versions", `{"name":"first"}`)
	wantStatus(t, res, body, 200, "")
	res, body = do(t, "POST", api+"/versions", `{"name":"again","rev":1}`)
	wantStatus(t, res, body, 429, wire.CodeQuotaExceeded)
	vs, err := st.Versions(context.Background(), "d")
	if err != nil || len(vs) != 1 || vs[0].Name != "first" {
		t.Fatalf("versions %+v, %v; want only first", vs, err)
	}
	if got := metricValue(t, srv, "collab_limit_hits_total", "limit", limitDocGrowth); got != 1 {
		t.Fatalf("doc_growth hits = %v, want 1", got)
	}
}
