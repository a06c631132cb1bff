package cluster

import "github.com/prometheus/client_golang/prometheus"

// metrics are the Store's figures. The Store is a prometheus.Collector:
// register it where the server's metrics are served.
type metrics struct {
	commits        prometheus.Counter
	conflicts      prometheus.Counter
	commitErrors   prometheus.Counter
	publishRetries prometheus.Counter
	commitSeconds  prometheus.Histogram
	feedDelay      prometheus.Histogram
	lag            prometheus.Gauge
	followed       prometheus.Gauge
	connected      prometheus.Gauge
	reconnects     prometheus.Counter
	snapshots      prometheus.Counter
	nodes          prometheus.Gauge
	all            []prometheus.Collector
}

func newMetrics() *metrics {
	buckets := []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}
	m := &metrics{
		commits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_commits_total", Help: "Commits written to the op stream."}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_commit_conflicts_total", Help: "Commits refused because another node committed to the document first; each is transformed again and retried."}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_commit_errors_total", Help: "Commits that failed for want of NATS (editors were told 'unavailable')."}),
		publishRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_publish_retries_total", Help: "Publishes sent again after a timeout or while the stream had no leader."}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "collab_cluster_commit_seconds", Help: "Time from publishing a commit to its acknowledgement by JetStream.", Buckets: buckets}),
		feedDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "collab_cluster_feed_delay_seconds", Help: "Time from a commit's storage in the stream to its delivery to this node's document.", Buckets: buckets}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_cluster_consumer_lag", Help: "Committed messages not yet delivered to this node's documents, summed over the documents it follows."}),
		followed: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_cluster_followed_documents", Help: "Documents whose commits this node consumes."}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_cluster_nats_connected", Help: "1 while the NATS connection is up."}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_nats_reconnects_total", Help: "Reconnections to NATS."}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_cluster_snapshots_total", Help: "Document snapshots written to the snapshot bucket."}),
		nodes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_cluster_peer_nodes", Help: "Other collab nodes this node hears from."}),
	}
	m.all = []prometheus.Collector{m.commits, m.conflicts, m.commitErrors, m.publishRetries,
		m.commitSeconds, m.feedDelay, m.lag, m.followed, m.connected, m.reconnects, m.snapshots, m.nodes}
	return m
}

// Describe implements prometheus.Collector.
func (s *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range s.metrics.all {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (s *Store) Collect(ch chan<- prometheus.Metric) {
	for _, c := range s.metrics.all {
		c.Collect(ch)
	}
}
