package bolt

import "github.com/prometheus/client_golang/prometheus"

var (
	logBytesDesc = prometheus.NewDesc("collab_store_log_bytes",
		"Bytes of the records in the store's write-ahead log, held in memory until a checkpoint.", nil, nil)
	logWaitsDesc = prometheus.NewDesc("collab_store_log_waits_total",
		"Group commits that waited for a checkpoint: the log held twice its checkpoint bytes.", nil, nil)
	snapshotBytesDesc = prometheus.NewDesc("collab_store_snapshot_bytes_total",
		"Bytes of the document snapshots written (text and authorship), kept with the history until pruned.", nil, nil)
)

// Describe implements prometheus.Collector (storage.Collector), so that a
// server serves the write-ahead log's figures with its own.
func (db *DB) Describe(ch chan<- *prometheus.Desc) {
	ch <- logBytesDesc
	ch <- logWaitsDesc
	ch <- snapshotBytesDesc
}

// Collect implements prometheus.Collector: Stats().LogBytes, LogWaits and
// SnapshotBytes.
func (db *DB) Collect(ch chan<- prometheus.Metric) {
	s := db.Stats()
	ch <- prometheus.MustNewConstMetric(logBytesDesc, prometheus.GaugeValue, float64(s.LogBytes))
	ch <- prometheus.MustNewConstMetric(logWaitsDesc, prometheus.CounterValue, float64(s.LogWaits))
	ch <- prometheus.MustNewConstMetric(snapshotBytesDesc, prometheus.CounterValue, float64(s.SnapshotBytes))
}
