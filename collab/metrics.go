package collab

import (
	"net/http"

	"github.com/collabd/collab/storage"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics live in a registry of their own, so several Servers in one
// process (and tests) do not collide.
type metrics struct {
	reg           *prometheus.Registry
	connections   prometheus.Gauge
	loadedDocs    prometheus.Gauge
	evictions     prometheus.Counter
	opsApplied    prometheus.Counter
	ackLatency    prometheus.Histogram
	commitLatency prometheus.Histogram
	slowClients   prometheus.Counter
	joinsDelayed  prometheus.Counter
	errors        *prometheus.CounterVec
	closes        *prometheus.CounterVec
	limits        *prometheus.CounterVec
	authFailures  *prometheus.CounterVec
	transformWork prometheus.Counter
	windowBytes   prometheus.Gauge
	httpClosed    *prometheus.CounterVec
}

func newMetrics() *metrics {
	buckets := []float64{.0005, .001, .002, .005, .01, .02, .05, .1, .25, .5, 1, 2.5}
	m := &metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_connections", Help: "Open WebSocket connections."}),
		loadedDocs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_loaded_documents", Help: "Documents loaded in memory."}),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_evictions_total", Help: "Idle documents unloaded early to make room for another (Options.MaxLoaded)."}),
		opsApplied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_ops_applied_total", Help: "Ops committed and applied."}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "collab_submit_to_ack_seconds", Help: "Time from receiving a submit to sending its ack.", Buckets: buckets}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "collab_commit_seconds", Help: "Duration of storage.Store.Append calls.", Buckets: buckets}),
		slowClients: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_slow_disconnects_total", Help: "Connections closed because their queue filled."}),
		joinsDelayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_joins_delayed_total", Help: "Joins answered only once the joining client's pending ops were committed."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collab_errors_total", Help: "Error messages sent, by code."}, []string{"code"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collab_closes_total", Help: "Connections closed by the server, by WebSocket close code."}, []string{"code"}),
		limits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collab_limit_hits_total", Help: "Requests refused by an abuse limit, by limit."}, []string{"limit"}),
		transformWork: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_transform_work_total", Help: "Components transformed over by submits (Options.MaxTransform bounds it)."}),
		windowBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "collab_window_bytes", Help: "Bytes of recent ops kept in memory by the loaded documents (Options.WindowBytes each)."}),
		httpClosed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collab_http_closed_total", Help: "HTTP connections closed before their first request (state new: the header timeout, or the client) or between requests (state idle: the idle timeout, or the client), seen by Server.ConnState."}, []string{"state"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "collab_auth_failures_total", Help: "Requests refused for their token, by code (unauthorized, forbidden, read_only)."}, []string{"code"}),
	}
	m.reg.MustRegister(m.connections, m.loadedDocs, m.evictions, m.opsApplied, m.ackLatency,
		m.commitLatency, m.slowClients, m.joinsDelayed, m.errors, m.closes, m.limits, m.authFailures, m.transformWork, m.windowBytes, m.httpClosed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// registerStoreMetrics serves the figures of a store that has its own
// (storage.Collector: bolt's write-ahead log, cluster's commit retries and
// consumer lag) at /metrics with the server's.
func (s *Server) registerStoreMetrics() {
	if c, ok := s.store.(storage.Collector); ok {
		if err := s.metrics.reg.Register(c); err != nil {
			s.log.Warn("store metrics not served", "err", err)
		}
	}
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// RegisterMetrics serves c's metrics (a webhook sender's, say) at /metrics
// with the server's own.
func (s *Server) RegisterMetrics(c prometheus.Collector) error { return s.metrics.reg.Register(c) }
