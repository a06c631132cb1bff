package collab

import (
	"testing"

	"github.com/collabd/collab/cluster"
)

// TestOnClusterKeepOps: with count-based retention in cluster mode, a
// client whose acknowledgement was lost and whose op is now before the cut
// resumes with a reset and has its resubmission acknowledged with the
// original revision, not applied again; a client resuming after the cut
// gets the ops; reads before the cut answer rev_too_old.
func TestOnClusterKeepOps(t *testing.T) {
	const doc = "k"
	st := newClusterStoreWith(t, cluster.Options{KeepOps: 3, SnapshotEvery: 1 << 40})
	_, ts := startServer(t, st, Options{})
	ada := connect(t, ts, "ada")
	ada.join(doc, nil)
	ada.submit(doc, 0, 1, insertAt(0, 0, "a"))
	ada.ack(1)
	bo := connect(t, ts, "bo")
	bo.join(doc, ptr(uint64(1)))
	for i := 1; i <= 6; i++ {
		bo.submit(doc, uint64(i), uint64(i), insertAt(i, i, "b"))
		bo.ack(uint64(i))
	}
	if n, err := st.PruneHistory(t.Context()); err != nil || n != 1 {
		t.Fatalf("PruneHistory = %d, %v", n, err)
	}
	// Pruned up to revision 4: 5, 6 and 7 stay.
	_, ts2 := startServer(t, st, Options{})
	ada2 := connect(t, ts2, "ada")
	j := ada2.join(doc, ptr(uint64(0)))
	if !j.Reset || j.Text == nil || *j.Text != "abbbbbb" || j.Seq != 1 {
		t.Fatalf("resume from before the cut: %+v, want reset with text and seq 1", j)
	}
	ada2.submit(doc, 0, 1, insertAt(0, 0, "a"))
	if a := ada2.ack(1); a.Rev != 1 {
		t.Fatalf("resubmission after the cut acknowledged at %d, want 1", a.Rev)
	}
	r := connect(t, ts2, "reader")
	if j := r.join(doc, ptr(uint64(4))); j.Reset || len(j.Ops) != 3 {
		t.Fatalf("resume from the cut: %+v, want the 3 ops after it", j)
	}
	if text, rev := storeText(t, st, doc); text != "abbbbbb" || rev != 7 {
		t.Fatalf("stored %q@%d, want abbbbbb@7", text, rev)
	}
	res, body := do(t, "GET", ts2.URL+"/api/docs/k/text?rev=3", "")
	wantStatus(t, res, body, 410, "rev_too_old")
	res, body = do(t, "GET", ts2.URL+"/api/docs/k/text?rev=4", "")
	wantStatus(t, res, body, 200, "")
}
