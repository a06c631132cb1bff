package bolt

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/storage"
)

// TestMetrics: a DB is a storage.Collector whose figures are its Stats,
// under the names docs/security.md gives.
func TestMetrics(t *testing.T) {
	db, _ := openTemp(t, Options{SnapshotEvery: 2})
	var _ storage.Collector = db
	appendInserts(t, db, "a", "c", 0, 2)
	if err := db.checkpoint(); err != nil {
		t.Fatal(err)
	}
	db.snapshotAll(map[string]uint64{"a": 1}, false)
	appendInserts(t, db, "a", "c", 2, 3)
	reg := prometheus.NewRegistry()
	reg.MustRegister(db)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]float64)
	for _, f := range families {
		m := f.GetMetric()[0]
		got[f.GetName()] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
	}
	s := db.Stats()
	if s.LogBytes == 0 || s.SnapshotBytes == 0 {
		t.Fatalf("Stats().LogBytes = %d after 3 appends, SnapshotBytes = %d after a snapshot: want both above 0", s.LogBytes, s.SnapshotBytes)
	}
	want := map[string]float64{"collab_store_log_bytes": float64(s.LogBytes), "collab_store_log_waits_total": float64(s.LogWaits),
		"collab_store_snapshot_bytes_total": float64(s.SnapshotBytes)}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
}
