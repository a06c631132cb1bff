package collab

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

// sessionDoc stores document "s": ada's 3 ops and bo's 2 close together,
// ada's one an hour later, then two HTTP edits by Tok two hours after the
// start, each op inserting ins.
func sessionDoc(t *testing.T, st storage.Store, ins string) {
	t0 := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	type op struct {
		client, name string
		at           time.Duration
	}
	ops := []op{
		{"ada", "Ada", 0}, {"ada", "Ada", 10 * time.Second}, {"ada", "Ada", 20 * time.Second},
		{"bo", "Bo", 30 * time.Second}, {"bo", "Bo", 40 * time.Second},
		{"ada", "Ada", time.Hour},
		{"", "Tok", 2 * time.Hour}, {"", "Tok", 2*time.Hour + time.Minute},
	}
	n := 0
	for i, o := range ops {
		rec := storage.Record{Rev: uint64(i + 1), Op: insertAt(n, n, ins), Client: o.client, Author: o.name, Time: t0.Add(o.at)}
		if o.client != "" {
			rec.Seq = uint64(i + 1)
		}
		if err := st.Append(t.Context(), "s", []storage.Record{rec}); err != nil {
			t.Fatal(err)
		}
		n += len([]rune(ins))
	}
}

// sessionsOf GETs the sessions page at query and gives it as
// "from-to:name/ops,name/ops" per session, with next and pruned.
func sessionsOf(t *testing.T, url string) string {
	t.Helper()
	var l wire.SessionList
	getJSON(t, url, "", &l)
	var parts []string
	for _, s := range l.Sessions {
		var as []string
		for _, a := range s.Authors {
			as = append(as, fmt.Sprintf("%s/%d", a.Name, a.Ops))
			if a.Name != "Tok" && a.Client != wire.PublicID(strings.ToLower(a.Name)) {
				t.Errorf("author %+v: want the public id", a)
			}
		}
		if s.Ops != int(s.To-s.From+1) || s.Editors != len(s.Authors) || s.End.Before(s.Start) {
			t.Errorf("session %+v: ops, editors or times do not add up", s)
		}
		parts = append(parts, fmt.Sprintf("%d-%d:%s", s.From, s.To, strings.Join(as, ",")))
	}
	return fmt.Sprintf("%s next=%d pruned=%v", strings.Join(parts, " "), l.Next, l.Pruned)
}

// TestSessions: the history grouped into sessions by pause, newest first,
// with their authors; paging by before= and limit=, the pause chosen,
// pruned history, the page's byte budget, and bad parameters.
func TestSessions(t *testing.T) {
	st := memory.New()
	sessionDoc(t, st, "x")
	_, ts := startServer(t, st, Options{})
	api := ts.URL + "/api/docs/s/sessions"
	for _, tc := range []struct{ query, want string }{
		{"", "7-8:Tok/2 6-6:Ada/1 1-5:Ada/3,Bo/2 next=0 pruned=false"},
		{"?limit=2", "7-8:Tok/2 6-6:Ada/1 next=6 pruned=false"},
		{"?before=6", "1-5:Ada/3,Bo/2 next=0 pruned=false"},
		{"?before=5&limit=1", "1-4:Ada/3,Bo/1 next=0 pruned=false"},
		{"?before=99&limit=1", "7-8:Tok/2 next=7 pruned=false"},
		{"?pause=10&before=6", "1-5:Ada/3,Bo/2 next=0 pruned=false"},
		{"?pause=9&before=6", "5-5:Bo/1 4-4:Bo/1 3-3:Ada/1 2-2:Ada/1 1-1:Ada/1 next=0 pruned=false"},
		{"?before=1", " next=0 pruned=false"},
	} {
		if got := sessionsOf(t, api+tc.query); got != tc.want {
			t.Errorf("sessions%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	for _, bad := range []string{"?limit=0", "?limit=101", "?pause=0", "?pause=86401", "?before=-1", "?limit=x"} {
		res, body := do(t, "GET", api+bad, "")
		wantStatus(t, res, body, http.StatusBadRequest, wire.CodeBadMessage)
	}
	res, body := do(t, "GET", ts.URL+"/api/docs/none/sessions", "")
	wantStatus(t, res, body, http.StatusNotFound, wire.CodeNotFound)

	if err := st.Prune("s", 3); err != nil {
		t.Fatal(err)
	}
	if got, want := sessionsOf(t, api), "7-8:Tok/2 6-6:Ada/1 4-5:Bo/2 next=0 pruned=true"; got != want {
		t.Errorf("after pruning: %q, want %q", got, want)
	}
	if got, want := sessionsOf(t, api+"?before=3"), " next=0 pruned=true"; got != want {
		t.Errorf("before the cut: %q, want %q", got, want)
	}
}

// TestSessionsByBytes: a page reads at most MaxCatchUpBytes of ops (the
// first whatever its size); a session longer than that comes in parts.
func TestSessionsByBytes(t *testing.T) {
	st := memory.New()
	sessionDoc(t, st, strings.Repeat("é", 1000))
	_, ts := startServer(t, st, Options{MaxCatchUpBytes: 5000})
	api := ts.URL + "/api/docs/s/sessions"
	for _, tc := range []struct{ query, want string }{
		{"", "7-8:Tok/2 next=7 pruned=false"},
		{"?before=7", "6-6:Ada/1 5-5:Bo/1 next=5 pruned=false"},
		{"?before=5", "3-4:Ada/1,Bo/1 next=3 pruned=false"},
		{"?before=1", " next=0 pruned=false"},
	} {
		if got := sessionsOf(t, api+tc.query); got != tc.want {
			t.Errorf("sessions%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	_, small := startServer(t, st, Options{MaxCatchUpBytes: 10})
	if got, want := sessionsOf(t, small.URL+"/api/docs/s/sessions"), "8-8:Tok/1 next=8 pruned=false"; got != want {
		t.Errorf("a record larger than the budget: %q, want %q", got, want)
	}
}

// TestOnClusterSessions: the same sessions from a cluster store, and after
// count-based pruning there.
func TestOnClusterSessions(t *testing.T) {
	st := newClusterStoreWith(t, cluster.Options{KeepOps: 3, SnapshotEvery: 1 << 40})
	sessionDoc(t, st, "x")
	_, ts := startServer(t, st, Options{})
	api := ts.URL + "/api/docs/s/sessions"
	if got, want := sessionsOf(t, api), "7-8:Tok/2 6-6:Ada/1 1-5:Ada/3,Bo/2 next=0 pruned=false"; got != want {
		t.Errorf("sessions = %q, want %q", got, want)
	}
	if _, err := st.PruneHistory(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The message holding the cut revision 5 stays, and its record.
	if got, want := sessionsOf(t, api), "7-8:Tok/2 6-6:Ada/1 5-5:Bo/1 next=0 pruned=true"; got != want {
		t.Errorf("after pruning = %q, want %q", got, want)
	}
}

// TestSessionsAuthorsAndScan: a session lists at most 10 authors, the most
// ops first, ties by name, and counts them all; a page reads at most
// 10,000 records, so a longer session comes in parts.
func TestSessionsAuthorsAndScan(t *testing.T) {
	st := memory.New()
	t0 := time.Now().Add(-time.Hour)
	var recs []storage.Record
	add := func(client, name string) {
		n := len(recs)
		recs = append(recs, storage.Record{Rev: uint64(n + 1), Op: insertAt(n, n, "x"), Client: client, Seq: uint64(n + 1), Author: name, Time: t0})
	}
	for i := 11; i >= 0; i-- {
		add(fmt.Sprintf("c%02d", i), fmt.Sprintf("N%02d", i))
	}
	add("c05", "N05")
	for len(recs) < maxSessionScan+1 {
		add("", "Tok")
	}
	if err := st.Append(t.Context(), "s", recs); err != nil {
		t.Fatal(err)
	}
	_, ts := startServer(t, st, Options{})
	api := ts.URL + "/api/docs/s/sessions"
	var l wire.SessionList
	getJSON(t, api, "", &l)
	if len(l.Sessions) != 1 || l.Sessions[0].From != 2 || l.Sessions[0].To != maxSessionScan+1 || l.Next != 2 {
		t.Fatalf("first page: %+v, next %d; want one session of the newest %d records", l.Sessions, l.Next, maxSessionScan)
	}
	getJSON(t, api+"?before=14&limit=1", "", &l)
	s := l.Sessions[0]
	var names []string
	for _, a := range s.Authors {
		names = append(names, fmt.Sprintf("%s/%d", a.Name, a.Ops))
	}
	if got, want := strings.Join(names, " "), "N05/2 N00/1 N01/1 N02/1 N03/1 N04/1 N06/1 N07/1 N08/1 N09/1"; got != want || s.Editors != 12 || s.From != 1 || s.To != 13 {
		t.Fatalf("authors %q, editors %d, from %d to %d; want %q, 12, 1 to 13", got, s.Editors, s.From, s.To, want)
	}
}

// TestSessionsNeedRead: with a secret, sessions need a token granting the
// document.
func TestSessionsNeedRead(t *testing.T) {
	st := memory.New()
	sessionDoc(t, st, "x")
	_, ts := startServer(t, st, Options{AuthSecret: authSecret})
	url := ts.URL + "/api/docs/s/sessions"
	res, body := doToken(t, "GET", url, "", "")
	wantStatus(t, res, body, http.StatusUnauthorized, wire.CodeUnauthorized)
	res, body = doToken(t, "GET", url, mint(t, authSecret, "other", PermAdmin, time.Hour), "")
	wantStatus(t, res, body, http.StatusForbidden, wire.CodeForbidden)
	getJSON(t, url, mint(t, authSecret, "s", PermRead, time.Hour), &wire.SessionList{})
}
