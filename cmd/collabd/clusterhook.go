package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab/webhook"
)

// leaseWebhook is the cluster-wide lease of the node that sends the
// webhooks: one node at a time, so that each event goes out once per
// cluster.
const leaseWebhook = "webhook"

// clusterWebhook sends a cluster's webhooks from whichever node holds the
// lease: a webhook.Sender over the cluster store, its cursors in the
// store's cursor bucket, told of every node's commits by WatchChanges.
// A node that takes the lease starts a new sender, whose start compares
// the cursors with the store: what the previous holder had not delivered
// when it died is delivered.
type clusterWebhook struct {
	store *cluster.Store
	opts  webhook.Options
	log   *slog.Logger
	stop  context.CancelFunc
	done  chan struct{} // closed when lead returned
	moved chan struct{} // cap 1: leads changed

	mu     sync.Mutex
	sender *webhook.Sender // guarded by mu: the running sender, or an idle one
	leads  bool            // guarded by mu: this node's sender is started
}

// startClusterWebhook starts competing for the lease in the background.
func startClusterWebhook(store *cluster.Store, opts webhook.Options, log *slog.Logger) (*clusterWebhook, error) {
	idle, err := webhook.New(store, store, opts)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	h := &clusterWebhook{store: store, opts: opts, log: log, stop: stop, done: make(chan struct{}), moved: make(chan struct{}, 1), sender: idle}
	go func() {
		defer close(h.done)
		if err := store.Lead(ctx, leaseWebhook, h.send); err != nil {
			log.Error("webhook: cannot compete for the cluster's sender lease", "err", err)
		}
	}()
	return h, nil
}

// send delivers the webhooks until ctx ends (the lease is lost or the
// node stops) or the watch of the changes breaks, after which the lease is
// released and taken again: the new sender's start finds what was missed.
func (h *clusterWebhook) send(ctx context.Context) {
	s, err := webhook.New(h.store, h.store, h.opts)
	if err != nil {
		h.log.Error("webhook", "err", err)
		return
	}
	h.use(s)
	defer h.use(idle(h.store, h.opts))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan struct{})
	watched := make(chan error, 1)
	go func() {
		watched <- h.store.WatchChanges(ctx, func() { close(started) }, func(c cluster.Change) {
			switch {
			case c.Deleted:
				s.Deleted(c.Doc)
			case c.Version:
				s.Missed(c.Doc) // the sender reads the versions it has not announced
			default:
				s.Changed(c.Doc, c.Rev)
			}
		})
	}()
	select {
	case <-started:
	case err := <-watched:
		h.log.Warn("webhook: watch the cluster's changes", "err", err)
		return
	}
	defer func() { <-watched }()
	defer cancel()
	if err := s.Start(ctx); err != nil {
		h.log.Warn("webhook: start", "err", err)
		select { // before the lease is given up and perhaps taken again at once
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
		return
	}
	defer s.Close()
	h.setLeads(true)
	defer h.setLeads(false)
	h.log.Info("webhook: this node sends the cluster's webhooks", "node", h.store.Node())
	select {
	case <-ctx.Done():
	case err := <-watched:
		h.log.Warn("webhook: watch of the cluster's changes broke; starting over", "err", err)
		watched <- err
	}
}

func (h *clusterWebhook) use(s *webhook.Sender) {
	h.mu.Lock()
	h.sender = s
	h.mu.Unlock()
}

func (h *clusterWebhook) setLeads(v bool) {
	h.mu.Lock()
	h.leads = v
	h.mu.Unlock()
	select {
	case h.moved <- struct{}{}:
	default:
	}
}

// leading reports whether this node sends the cluster's webhooks now.
func (h *clusterWebhook) leading() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.leads
}

// idle is a sender that is never started: what the metrics show on a node
// without the lease. opts were checked by the first New.
func idle(store *cluster.Store, opts webhook.Options) *webhook.Sender {
	s, _ := webhook.New(store, store, opts)
	return s
}

// Close stops sending (releasing the lease) and waits.
func (h *clusterWebhook) Close() {
	h.stop()
	<-h.done
}

// Collector reports the metrics of this node's sender: zero pending on a
// node without the lease.
func (h *clusterWebhook) Collector() prometheus.Collector { return leaseCollector{h} }

type leaseCollector struct{ h *clusterWebhook }

func (c leaseCollector) current() prometheus.Collector {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	return c.h.sender.Collector()
}

func (c leaseCollector) Describe(ch chan<- *prometheus.Desc) { c.current().Describe(ch) }
func (c leaseCollector) Collect(ch chan<- prometheus.Metric) { c.current().Collect(ch) }
