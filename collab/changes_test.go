package collab

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage/bolt"
)

// changeLog collects what Options.Changes is given.
type changeLog struct {
	ch chan Change
}

func newChangeLog(n int) *changeLog { return &changeLog{ch: make(chan Change, n)} }

func (l *changeLog) next(t *testing.T) Change {
	t.Helper()
	select {
	case c := <-l.ch:
		return c
	case <-t.Context().Done():
		t.Fatal("test ended waiting for a change")
	}
	return Change{}
}

// TestChangeFeed: the feed reports every commit of the server, editors'
// and HTTP edits alike, with ranges that follow each other exactly, the
// ops as committed, and their authors by public id and name; then a named
// version and the deletion.
func TestChangeFeed(t *testing.T) {
	st := openDB(t, filepath.Join(t.TempDir(), "docs.db"), bolt.Options{})
	log := newChangeLog(100)
	_, ts := startServer(t, st, Options{Changes: func(c Change) { log.ch <- c }})
	a := connect(t, ts, "client-a")
	a.join("memo", nil)
	for i := range 5 {
		a.submit("memo", uint64(i), uint64(i+1), insertAt(i, i, "x"))
		a.ack(uint64(i + 1))
	}
	res, body := do(t, "PUT", ts.URL+"/api/docs/memo", "whole new text")
	wantStatus(t, res, body, 200, "")
	res, body = do(t, "POST", ts.URL+"/api/docs/memo/versions", `{"name":"draft","rev":3}`)
	wantStatus(t, res, body, 200, "")

	var rev uint64
	for rev < 6 {
		c := log.next(t)
		if c.Doc != "memo" || c.Missed || c.Deleted || c.Version != nil || c.From != rev || c.To <= c.From || len(c.Ops) != int(c.To-c.From) {
			t.Fatalf("after rev %d got %+v", rev, c)
		}
		want, err := st.Ops(context.Background(), "memo", c.From, c.To)
		if err != nil {
			t.Fatal(err)
		}
		for i, op := range c.Ops {
			w := want[i]
			pub := wire.PublicID(w.Client)
			if w.Client == "" {
				pub = ""
			}
			if op.Rev != w.Rev || !op.Time.Equal(w.Time) || op.Op.String() != w.Op.String() || op.Author != (Author{ID: pub, Name: w.Author}) {
				t.Fatalf("op %+v, stored %+v", op, w)
			}
			if op.Rev <= 5 && op.Author.ID != wire.PublicID("client-a") {
				t.Fatalf("rev %d by %+v, want client-a's public id", op.Rev, op.Author)
			}
		}
		rev = c.To
	}
	if c := log.next(t); c.Version == nil || c.Version.Name != "draft" || c.Version.Rev != 3 || c.To != 3 {
		t.Fatalf("got %+v, want the version named", c)
	}
	res, body = do(t, "DELETE", ts.URL+"/api/docs/memo", "")
	wantStatus(t, res, body, 204, "")
	if c := log.next(t); !c.Deleted || c.Doc != "memo" || c.From != 6 {
		t.Fatalf("got %+v, want the deletion at rev 6", c)
	}
}

// TestChangeFeedFallsBehind: a consumer that does not return holds up no
// edit; the changes it could not take are dropped for one Missed change
// per document, which comes after everything delivered before it and says
// from which revision to read the store, so that what it was given and
// what it reads cover every revision exactly once.
func TestChangeFeedFallsBehind(t *testing.T) {
	st := newTestStore(t)
	log := newChangeLog(1000)
	gate := make(chan struct{})
	first := true
	consume := func(c Change) {
		if first {
			first = false
			<-gate // stuck until every edit below is acknowledged
		}
		log.ch <- c
	}
	_, ts := startServer(t, st, Options{Changes: consume, ChangeQueue: 3})
	docs := []string{"d0", "d1"}
	const puts = 20
	for i := range puts {
		for _, id := range docs {
			res, body := do(t, "PUT", ts.URL+"/api/docs/"+id, "text "+strconv.Itoa(i))
			wantStatus(t, res, body, 200, "")
		}
	}
	close(gate)

	covered := map[string]uint64{}
	missed := 0
	for covered[docs[0]] < puts || covered[docs[1]] < puts {
		c := log.next(t)
		if c.From != covered[c.Doc] {
			t.Fatalf("%s: change %+v after rev %d: a gap or an overlap", c.Doc, c, covered[c.Doc])
		}
		if !c.Missed {
			covered[c.Doc] = c.To
			continue
		}
		missed++
		if c.To < c.From+1 || c.Ops != nil {
			t.Fatalf("Missed change %+v", c)
		}
		recs, err := st.Ops(context.Background(), c.Doc, c.From, ^uint64(0))
		if err != nil || len(recs) == 0 || recs[0].Rev != c.From+1 {
			t.Fatalf("resuming %s from %d: %d records, %v", c.Doc, c.From, len(recs), err)
		}
		covered[c.Doc] = recs[len(recs)-1].Rev
	}
	if missed == 0 {
		t.Fatal("no Missed change: the queue of 3 held 40 commits")
	}
	select {
	case c := <-log.ch:
		t.Fatalf("change %+v after a Missed change that covered everything", c)
	default:
	}
}
