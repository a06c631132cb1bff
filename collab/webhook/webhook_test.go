package webhook_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	. "github.com/collabd/collab/collab/webhook"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/webhooktest"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

var secret = []byte("whsec-test-0123456789")

// TestSignVerify: a signature verifies with its secret within the
// tolerance; another body, secret or an old or future timestamp, or a
// malformed header, is refused with its error; one valid v1 among several
// (a secret being rotated) is enough.
func TestSignVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"doc.changed"}`)
	at := time.Unix(1_800_000_000, 0)
	h := Sign(secret, body, at)
	if !strings.HasPrefix(h, "t=1800000000,v1=") || len(h) != len("t=1800000000,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	for _, c := range []struct {
		name   string
		secret []byte
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"valid", secret, h, body, at.Add(time.Minute), nil},
		{"other body", secret, h, []byte(`{"id":"evt_2"}`), at, ErrBadSignature},
		{"other secret", []byte("another"), h, body, at, ErrBadSignature},
		{"too old", secret, h, body, at.Add(DefaultTolerance + time.Second), ErrTooOld},
		{"from the future", secret, h, body, at.Add(-DefaultTolerance - time.Second), ErrTooOld},
		{"no header", secret, "", body, at, ErrNoSignature},
		{"no signature", secret, "t=1800000000", body, at, ErrNoSignature},
		{"bad time", secret, "t=soon," + h[len("t=1800000000,"):], body, at, ErrNoSignature},
		{"rotated", secret, Sign([]byte("old"), body, at) + "," + h[len("t=1800000000,"):], body, at, nil},
	} {
		if err := Verify(c.secret, c.header, c.body, 0, c.now); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func openDB(t *testing.T, path string) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// write commits n ops to doc, by client (an editor) or by nobody (an
// HTTP edit), and returns the new head.
func write(t *testing.T, db *bolt.DB, doc, client string, n int) uint64 {
	t.Helper()
	ctx := context.Background()
	d, err := db.Load(ctx, doc)
	if errors.Is(err, storage.ErrNotFound) {
		err = nil
	}
	if err != nil {
		t.Fatal(err)
	}
	length, rev := d.Length, d.Rev
	recs := make([]storage.Record, n)
	for i := range recs {
		var b ot.Builder
		seq, _, _ := db.ClientSeq(ctx, doc, client)
		recs[i] = storage.Record{Rev: rev + uint64(i) + 1, Op: b.Retain(length + i).Insert("x").Op(), Author: "name of " + client}
		if client != "" {
			recs[i].Client, recs[i].Seq = client, seq+uint64(i)+1
		}
	}
	if err := db.Append(ctx, doc, recs); err != nil {
		t.Fatal(err)
	}
	return rev + uint64(n)
}

func startSender(t *testing.T, db *bolt.DB, url string) *Sender {
	t.Helper()
	return startSenderWindow(t, db, url, 20*time.Millisecond)
}

func startSenderWindow(t *testing.T, db *bolt.DB, url string, window time.Duration) *Sender {
	t.Helper()
	s, err := New(db, db, Options{URL: url, Secret: secret, Window: window,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutage: a receiver that is down for a while gets, once it is back,
// every revision of every document in doc.changed events whose ranges
// follow each other exactly, with the authors of each range; the
// failures and the backlog show in the metrics meanwhile.
func TestOutage(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	s := startSender(t, db, rcv.URL)
	defer s.Close()

	heads := map[string]uint64{}
	edit := func(doc, client string, n int) {
		heads[doc] = write(t, db, doc, client, n)
		s.Changed(doc, heads[doc])
	}
	edit("a", "client-1", 3)
	edit("b", "", 2)
	rcv.Await("the first events", func(st webhooktest.State) bool { return st.Covered("a") == 3 && st.Covered("b") == 2 })

	rcv.SetMode(webhooktest.Down)
	edit("a", "client-2", 4)
	rcv.Await("a refused delivery", func(st webhooktest.State) bool { return st.Refused > 0 })
	edit("b", "client-1", 5)
	edit("a", "client-1", 1)
	if got := metric(t, s, "collab_webhook_delivery_failures_total"); got < 1 {
		t.Fatalf("failures = %v during the outage", got)
	}
	if pending := metric(t, s, "collab_webhook_events_pending"); pending < 1 {
		t.Fatalf("events pending = %v during the outage", pending)
	}
	if age := metric(t, s, "collab_webhook_oldest_undelivered_seconds"); age <= 0 {
		t.Fatalf("oldest undelivered age = %v during the outage", age)
	}
	rcv.SetMode(webhooktest.Up)
	st := rcv.Await("everything", func(st webhooktest.State) bool { return st.Covered("a") == heads["a"] && st.Covered("b") == heads["b"] })
	waitFor(t, "no backlog", func() bool {
		return metric(t, s, "collab_webhook_events_pending") == 0 && metric(t, s, "collab_webhook_oldest_undelivered_seconds") == 0
	})
	// Coalesced: the event made before the outage, retried, and one for
	// what came during it.
	var outage []Event
	for _, e := range st.Docs()["a"] {
		if e.FromRev >= 3 {
			outage = append(outage, e)
		}
	}
	if len(outage) > 2 || outage[0].Authors[0] != (Author{ID: wire.PublicID("client-2"), Name: "name of client-2"}) {
		t.Errorf("the outage's changes of a: %+v, want at most two events, the first by client-2", outage)
	}
	for _, e := range st.Docs()["b"] {
		if e.FromRev == 0 && (len(e.Authors) != 1 || e.Authors[0] != (Author{Name: "name of "})) {
			t.Errorf("b's HTTP edits by %+v, want no id", e.Authors)
		}
	}
}

// metric reads one of the sender's metrics.
func metric(t *testing.T, s *Sender, name string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestLostAnswer: an event whose answer was lost is sent again, the same
// bytes under the same id, and the receiver that drops the copy sees the
// ranges exactly covered.
func TestLostAnswer(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	rcv.LoseAnswers(2)
	s := startSender(t, db, rcv.URL)
	defer s.Close()
	for range 3 {
		s.Changed("a", write(t, db, "a", "client-1", 2))
	}
	// Each lost answer means one copy, identical (serve checks).
	rcv.Await("rev 6 and the 2 copies", func(st webhooktest.State) bool { return st.Covered("a") == 6 && st.Copies == 2 })
}

// TestRestart: what was committed while no sender ran, or before a
// sender stopped without delivering it, is delivered by the next one:
// changes (continuing the ranges), a deletion, a document deleted and
// created anew, a version named. Documents that existed before the very
// first start are not announced.
func TestRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db := openDB(t, path)
	write(t, db, "old", "client-1", 4) // before any sender
	rcv := webhooktest.New(t, secret)
	s := startSender(t, db, rcv.URL)
	s.Changed("a", write(t, db, "a", "client-1", 2))
	s.Changed("gone", write(t, db, "gone", "client-1", 2))
	s.Changed("again", write(t, db, "again", "client-1", 5))
	rcv.Await("the first events", func(st webhooktest.State) bool {
		return st.Covered("a") == 2 && st.Covered("gone") == 2 && st.Covered("again") == 5
	})
	rcv.SetMode(webhooktest.Down)
	s.Changed("a", write(t, db, "a", "client-1", 1))
	rcv.Await("a refused delivery", func(st webhooktest.State) bool { return st.Refused > 0 })
	s.Close()

	// While no sender runs.
	write(t, db, "a", "client-2", 2)
	ctx := context.Background()
	if err := db.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(ctx, "again"); err != nil {
		t.Fatal(err)
	}
	write(t, db, "again", "client-3", 1)
	if err := db.PutVersion(ctx, "a", storage.Version{Rev: 4, Name: "v1", Created: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	write(t, db, "new", "", 1)
	db.Close()

	db = openDB(t, path)
	defer db.Close()
	rcv.SetMode(webhooktest.Up)
	s = startSender(t, db, rcv.URL)
	defer s.Close()
	st := rcv.Await("everything", func(st webhooktest.State) bool {
		return st.Covered("a") == 5 && st.Covered("again") == 1 && st.Covered("new") == 1 &&
			len(st.Docs()["gone"]) == 2 && len(st.Docs()["a"]) == 4
	})
	docs := st.Docs()
	if len(docs["old"]) != 0 {
		t.Errorf("events of a document older than the first start: %+v", docs["old"])
	}
	if e := docs["gone"][1]; e.Type != TypeDeleted {
		t.Errorf("gone: %+v, want doc.deleted", e)
	}
	types := func(es []Event) (out []string) {
		for _, e := range es {
			out = append(out, e.Type)
		}
		return out
	}
	if got := strings.Join(types(docs["again"]), " "); got != "doc.changed doc.deleted doc.changed" {
		t.Errorf("again: %s, want changed, deleted, changed (created anew)", got)
	}
	if got := strings.Join(types(docs["a"]), " "); got != "doc.changed doc.changed doc.changed version.created" {
		t.Errorf("a: %s", got)
	}
	if v := docs["a"][3].Version; v == nil || v.Rev != 4 || v.Name != "v1" {
		t.Errorf("version event %+v", docs["a"][3])
	}
}

// waitFor polls cond, for figures that change after what the receiver
// sees (the sender commits its cursor after the answer).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCoalesced: a document's changes gather into one doc.changed over
// the window; a deletion or a version named does not wait for the window
// but sends the changes gathered so far first.
func TestCoalesced(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	s := startSenderWindow(t, db, rcv.URL, time.Hour)
	defer s.Close()
	for _, client := range []string{"client-1", "client-2", "client-1"} {
		s.Changed("a", write(t, db, "a", client, 2))
	}
	v := storage.Version{Rev: 6, Name: "final", Author: "Ada", Created: time.Now().UTC()}
	if err := db.PutVersion(context.Background(), "a", v); err != nil {
		t.Fatal(err)
	}
	s.VersionCreated("a", v)
	st := rcv.Await("the version", func(st webhooktest.State) bool { return len(st.Docs()["a"]) == 2 })
	changed, named := st.Docs()["a"][0], st.Docs()["a"][1]
	if changed.Type != TypeChanged || changed.FromRev != 0 || changed.ToRev != 6 || len(changed.Authors) != 2 {
		t.Errorf("first %+v, want one doc.changed 0..6 by two authors", changed)
	}
	if named.Type != TypeVersionCreated || *named.Version != (Version{Rev: 6, Name: "final", Author: "Ada", Created: v.Created}) {
		t.Errorf("then %+v, want the version", named)
	}
	s.Changed("b", write(t, db, "b", "client-1", 1))
	vb := storage.Version{Rev: 1, Name: "first", Created: time.Now().UTC()}
	if err := db.PutVersion(context.Background(), "b", vb); err != nil {
		t.Fatal(err)
	}
	s.VersionCreated("b", vb)
	rcv.Await("b's version", func(st webhooktest.State) bool { return len(st.Docs()["b"]) == 2 })
	s.Changed("b", write(t, db, "b", "client-1", 2))
	if err := db.Delete(context.Background(), "b"); err != nil {
		t.Fatal(err)
	}
	s.Deleted("b")
	st = rcv.Await("b's deletion", func(st webhooktest.State) bool { return len(st.Docs()["b"]) == 3 })
	b := st.Docs()["b"]
	if b[0].ToRev != 1 || b[1].Type != TypeVersionCreated || b[2].Type != TypeDeleted {
		t.Errorf("b: %+v, want 0..1, the version, the deletion: the changes after went with it", b)
	}
}

// TestNoAnswer: a request the receiver does not answer within the
// timeout is retried, the same event again.
func TestNoAnswer(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	rcv.SetMode(webhooktest.Hang)
	s, err := New(db, db, Options{URL: rcv.URL, Secret: secret, Window: time.Millisecond, Timeout: 50 * time.Millisecond,
		MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Changed("a", write(t, db, "a", "client-1", 1))
	rcv.Await("a second attempt", func(st webhooktest.State) bool { return st.Hung >= 2 && st.Copies >= 1 })
	rcv.SetMode(webhooktest.Up)
	s.Changed("a", write(t, db, "a", "client-1", 1))
	rcv.Await("rev 2", func(st webhooktest.State) bool { return st.Covered("a") == 2 })
}

// TestParallel: a receiver that does not answer one document's event
// still gets the others' (up to Parallel at once).
func TestParallel(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	rcv.SetMode(webhooktest.Hang)
	s, err := New(db, db, Options{URL: rcv.URL, Secret: secret, Window: time.Millisecond, Parallel: 2, Timeout: 5 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Changed("a", write(t, db, "a", "client-1", 1))
	s.Changed("b", write(t, db, "b", "client-1", 1))
	rcv.Await("both documents' events unanswered at once", func(st webhooktest.State) bool { return st.Hung == 2 })
}

// TestMissed: told only that it missed news of a document (the change
// feed fell behind), the sender reads the store: the changes it was not
// told of, and a deletion followed by a new document of the same id.
func TestMissed(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	s := startSender(t, db, rcv.URL)
	defer s.Close()
	write(t, db, "a", "client-1", 3)
	s.Missed("a")
	rcv.Await("a's changes", func(st webhooktest.State) bool { return st.Covered("a") == 3 })
	if err := db.Delete(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	write(t, db, "a", "client-2", 1)
	s.Missed("a")
	st := rcv.Await("a's deletion and new text", func(st webhooktest.State) bool { return len(st.Docs()["a"]) == 3 })
	if a := st.Docs()["a"]; a[1].Type != TypeDeleted || a[2].FromRev != 0 || a[2].ToRev != 1 {
		t.Errorf("a: %+v, want changed 0..3, deleted, changed 0..1", a)
	}
}

// TestDeletedUnseen: a document deleted before any event was made of it
// gets none, neither its changes nor doc.deleted.
func TestDeletedUnseen(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "c.db"))
	defer db.Close()
	rcv := webhooktest.New(t, secret)
	// One worker takes the documents in the order they are due: c's
	// deletion before d's version.
	s, err := New(db, db, Options{URL: rcv.URL, Secret: secret, Window: time.Hour, Parallel: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Changed("c", write(t, db, "c", "client-1", 2))
	if err := db.Delete(context.Background(), "c"); err != nil {
		t.Fatal(err)
	}
	s.Deleted("c")
	s.Changed("d", write(t, db, "d", "client-1", 1))
	v := storage.Version{Rev: 1, Name: "v", Created: time.Now().UTC()}
	if err := db.PutVersion(context.Background(), "d", v); err != nil {
		t.Fatal(err)
	}
	s.VersionCreated("d", v)
	st := rcv.Await("d's events", func(st webhooktest.State) bool { return len(st.Docs()["d"]) == 2 })
	if c := st.Docs()["c"]; len(c) != 0 {
		t.Errorf("events of a document deleted unseen: %+v", c)
	}
}
