package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/collab/webhook"
	"github.com/collabd/collab/storage"
)

// webhookConfig are the flags of the webhook sender.
type webhookConfig struct {
	url, secret string
	window      time.Duration
}

func webhookFlags(fs *flag.FlagSet, c *webhookConfig) {
	fs.StringVar(&c.url, "webhook-url", "", "URL to POST signed events to (doc.changed, doc.deleted, version.created; see docs/protocol.md); empty: none")
	fs.StringVar(&c.secret, "webhook-secret", "", "secret the events are signed with (HMAC-SHA256, header Collab-Signature; at least 16 bytes)")
	fs.DurationVar(&c.window, "webhook-window", time.Second, "a document's changes over this window go in one doc.changed")
}

// checkWebhook refuses webhook flags that cannot work, before anything
// is opened.
func checkWebhook(c webhookConfig) error {
	if c.url == "" {
		if c.secret != "" {
			return errors.New("-webhook-secret without -webhook-url")
		}
		return nil
	}
	if u, err := url.Parse(c.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-webhook-url: %q is not an http:// or https:// URL", c.url)
	}
	if len(c.secret) < minSecret {
		return fmt.Errorf("-webhook-secret: at least %d bytes needed with -webhook-url: receivers check each event's signature with it", minSecret)
	}
	return nil
}

// webhookSender is what serve keeps of the webhook sender.
type webhookSender interface {
	Close()
	Collector() prometheus.Collector
}

// startWebhook starts the sender of -webhook-url, if set, over the
// store's documents and cursors; nil if none. changes, when not nil, is
// for collab.Options.Changes. In cluster mode the node that holds the
// cluster's lease sends, told of every node's commits by the store
// (clusterhook.go).
func startWebhook(ctx context.Context, c webhookConfig, store storage.Store, log *slog.Logger) (s webhookSender, changes func(collab.Change), err error) {
	if c.url == "" {
		return nil, nil, nil
	}
	opts := webhook.Options{URL: c.url, Secret: []byte(c.secret), Window: c.window, Logger: log}
	if cs, ok := store.(*cluster.Store); ok {
		h, err := startClusterWebhook(cs, opts, log)
		return h, nil, err
	}
	cursors, ok := store.(webhook.Cursors)
	if !ok {
		return nil, nil, errors.New("-webhook-url: this store keeps no delivery cursors")
	}
	ws, err := webhook.New(store, cursors, opts)
	if err != nil {
		return nil, nil, err
	}
	if err := ws.Start(ctx); err != nil {
		return nil, nil, fmt.Errorf("webhook: %w", err)
	}
	return ws, toWebhook(ws), nil
}

// toWebhook hands what the server's change feed reports to the sender.
func toWebhook(s *webhook.Sender) func(collab.Change) {
	return func(ch collab.Change) {
		switch {
		case ch.Missed:
			s.Missed(ch.Doc)
		case ch.Deleted:
			s.Deleted(ch.Doc)
		case ch.Version != nil:
			s.VersionCreated(ch.Doc, *ch.Version)
		default:
			s.Changed(ch.Doc, ch.To)
		}
	}
}
