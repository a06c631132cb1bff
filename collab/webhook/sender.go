// Package webhook posts signed events about the documents to an
// application's URL: doc.changed (coalesced per document over a window),
// doc.deleted and version.created. Delivery is at least once and in order
// per document, from progress committed in the store: what was committed
// before a crash or during a receiver's outage is sent when it can be.
// Receivers check each request with Verify and drop events whose id they
// have seen. See docs/protocol.md (Webhooks) and docs/security.md.
package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collabd/collab/storage"
)

// Source is where the sender reads the documents: a storage.Store.
type Source interface {
	Load(ctx context.Context, id string) (storage.Doc, error)
	Ops(ctx context.Context, id string, from, to uint64) ([]storage.Record, error)
	List(ctx context.Context, after string, limit int) ([]storage.Meta, error)
}

// Versioner is implemented by a Source that keeps named versions.
type Versioner interface {
	Versions(ctx context.Context, id string) ([]storage.Version, error)
}

// Cursors is where the sender commits its progress, durably: when
// PutCursors returns, its values survive a crash (bolt.DB).
type Cursors interface {
	Cursors(ctx context.Context, consumer string) (map[string][]byte, error)
	PutCursors(ctx context.Context, consumer string, set map[string][]byte) error
}

// Options configure a Sender. URL and Secret are required.
type Options struct {
	URL    string
	Secret []byte
	// Window is how long a document's changes gather into one
	// doc.changed, from its first undelivered change; default 1s.
	Window time.Duration
	// A failed delivery is retried after MinBackoff, doubling up to
	// MaxBackoff (defaults 1s and 1m), per document.
	MinBackoff, MaxBackoff time.Duration
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
	// Parallel is how many documents' events are sent at once; default 4.
	Parallel int
	// Client sends the requests; default one with Timeout.
	Client *http.Client
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Window, time.Second)
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, time.Minute)
	def(&o.Timeout, 10*time.Second)
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Sender delivers the events. Tell it of changes (Changed, Deleted,
// VersionCreated, Missed: what a collab server's change feed,
// collab.Options.Changes, reports); what it is not told, or told and then
// crashed, it finds by comparing its cursors with the store at Start.
type Sender struct {
	opts Options
	src  Source
	cur  Cursors
	log  *slog.Logger
	wake chan struct{} // cap 1: a document became due
	stop context.CancelFunc
	done chan struct{} // closed when run returned

	delivered, failures prometheus.Counter
	pendingDesc         *prometheus.Desc
	oldestDesc          *prometheus.Desc

	mu     sync.Mutex
	docs   map[string]*docState // guarded by mu: every document with a cursor or news
	active map[string]*docState // guarded by mu: those with a due time
}

// docState is what the sender knows of one document. Notifications change
// the news fields; run alone changes cur, holding mu.
type docState struct {
	id  string
	cur cursor // as committed in Cursors

	// news, not yet in events:
	head     uint64            // newest revision told of
	deletes  int               // deletions told of
	checks   int               // times told to compare with the store
	versions []storage.Version // versions told of

	due      time.Time // when run should look at it; zero: nothing to do (set with setDue)
	taken    bool      // a worker is at it
	attempts int       // failed deliveries in a row
	since    time.Time // when its oldest undelivered change happened; zero: none
}

// busy reports whether the document has anything undelivered.
func (st *docState) busy() bool {
	return len(st.cur.Pending) > 0 || st.head > st.cur.Rev || st.deletes > 0 || st.checks > 0 || len(st.versions) > 0
}

// New returns a Sender of events about src's documents, keeping its
// progress in cur. Start it.
func New(src Source, cur Cursors, opts Options) (*Sender, error) {
	if opts.URL == "" || len(opts.Secret) == 0 {
		return nil, errors.New("webhook: a URL and a secret are required")
	}
	opts = opts.withDefaults()
	return &Sender{
		opts:   opts,
		src:    src,
		cur:    cur,
		log:    opts.Logger,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		docs:   make(map[string]*docState),
		active: make(map[string]*docState),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_webhook_delivered_total", Help: "Webhook events delivered (2xx)."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "collab_webhook_delivery_failures_total", Help: "Webhook requests that failed (error or non-2xx); each is retried."}),
		pendingDesc: prometheus.NewDesc("collab_webhook_events_pending",
			"Webhook events not yet delivered: made, or changes of a document not yet made into one.", nil, nil),
		oldestDesc: prometheus.NewDesc("collab_webhook_oldest_undelivered_seconds",
			"Age of the oldest change not yet delivered by webhook; 0 if none.", nil, nil),
	}, nil
}

// Start compares the cursors with the store (on the first start, takes
// the documents' current state as delivered), then delivers in the
// background until Close.
func (s *Sender) Start(ctx context.Context) error {
	if err := s.scan(ctx); err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.run(runCtx)
	return nil
}

// Close stops delivering and waits for the request in progress to be
// cancelled. What is undelivered is delivered after the next Start.
func (s *Sender) Close() {
	if s.stop == nil {
		return
	}
	s.stop()
	<-s.done
}

// state returns id's state, creating it. Holding mu.
func (s *Sender) state(id string) *docState {
	st := s.docs[id]
	if st == nil {
		st = &docState{id: id}
		s.docs[id] = st
	}
	return st
}

// setDue makes st due at t (zero: idle). Holding mu.
func (s *Sender) setDue(st *docState, t time.Time) {
	st.due = t
	if t.IsZero() {
		delete(s.active, st.id)
	} else {
		s.active[st.id] = st
	}
}

// Changed tells the sender that document id reached revision rev: a
// doc.changed goes out once the window has passed.
func (s *Sender) Changed(id string, rev uint64) {
	s.news(id, false, func(st *docState) { st.head = max(st.head, rev) })
}

// Deleted tells the sender that document id was deleted.
func (s *Sender) Deleted(id string) {
	s.news(id, true, func(st *docState) { st.deletes++; st.head = 0 })
}

// VersionCreated tells the sender that a revision of document id was named.
func (s *Sender) VersionCreated(id string, v storage.Version) {
	s.news(id, true, func(st *docState) { st.versions = append(st.versions, v) })
}

// Missed tells the sender that news of document id was lost: it compares
// its cursor with the store.
func (s *Sender) Missed(id string) {
	s.news(id, true, func(st *docState) { st.checks++ })
}

// news applies a notification to id's state and makes it due: after the
// window, or at once (flushing the changes gathered so far before it)
// when now is set; a document waiting to retry keeps waiting.
func (s *Sender) news(id string, now bool, apply func(*docState)) {
	t := time.Now()
	s.mu.Lock()
	st := s.state(id)
	apply(st)
	if st.since.IsZero() {
		st.since = t
	}
	due := t.Add(s.opts.Window)
	if now {
		due = t
	}
	if st.attempts == 0 && (st.due.IsZero() || due.Before(st.due)) {
		s.setDue(st, due)
	}
	s.mu.Unlock()
	s.poke()
}

func (s *Sender) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run hands each due document to a worker, up to Parallel at once: a
// document is with one worker at a time, so its events go in order.
func (s *Sender) run(ctx context.Context) {
	defer close(s.done)
	var workers sync.WaitGroup
	defer workers.Wait()
	slots := make(chan struct{}, s.opts.Parallel)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		id, wait := s.take()
		if id != "" {
			workers.Add(1)
			go func() {
				defer workers.Done()
				s.step(ctx, id)
				s.finish(id)
				<-slots
				s.poke()
			}()
			continue
		}
		<-slots
		if wait <= 0 {
			wait = time.Hour
		}
		timer.Reset(wait)
		select {
		case <-s.wake:
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// take returns the document due first that no worker has, marked as
// taken, if it is due now; else how long until the first is due (0:
// none is).
func (s *Sender) take() (string, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first *docState
	for _, st := range s.active {
		if !st.taken && (first == nil || st.due.Before(first.due)) {
			first = st
		}
	}
	if first == nil {
		return "", 0
	}
	if wait := time.Until(first.due); wait > 0 {
		return "", wait
	}
	first.taken = true
	return first.id, 0
}

// finish gives the document back after a worker's step.
func (s *Sender) finish(id string) {
	s.mu.Lock()
	s.docs[id].taken = false
	s.mu.Unlock()
}

// retry makes id due again after a failure.
func (s *Sender) retry(id string, err error) {
	s.mu.Lock()
	st := s.docs[id]
	st.attempts++
	n := st.attempts
	d := backoff(s.opts.MinBackoff, s.opts.MaxBackoff, n)
	s.setDue(st, time.Now().Add(d))
	s.mu.Unlock()
	s.log.Warn("webhook: delivery failed, will retry", "doc", id, "attempt", n, "in", d.Round(time.Millisecond), "err", err)
}

// backoff is the wait before retry n: doubling from min up to max, and
// between half of that and all of it at random, so that the documents
// failing together spread their retries.
func backoff(min, max time.Duration, n int) time.Duration {
	d := max
	if n < 32 && min<<(n-1) < max {
		d = min << (n - 1)
	}
	return d/2 + jitter(d/2)
}

// Collector returns the sender's metrics, to register with a Prometheus
// registry (collab.Server.RegisterMetrics).
func (s *Sender) Collector() prometheus.Collector { return collector{s} }

type collector struct{ s *Sender }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	c.s.delivered.Describe(ch)
	c.s.failures.Describe(ch)
	ch <- c.s.pendingDesc
	ch <- c.s.oldestDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.delivered.Collect(ch)
	s.failures.Collect(ch)
	pending, oldest := 0, time.Time{}
	s.mu.Lock()
	for _, st := range s.active { // a document with anything undelivered is due
		pending += len(st.cur.Pending)
		if st.head > st.cur.Rev || st.deletes > 0 || st.checks > 0 || len(st.versions) > 0 {
			pending++
		}
		if !st.since.IsZero() && (oldest.IsZero() || st.since.Before(oldest)) {
			oldest = st.since
		}
	}
	s.mu.Unlock()
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(s.pendingDesc, prometheus.GaugeValue, float64(pending))
	ch <- prometheus.MustNewConstMetric(s.oldestDesc, prometheus.GaugeValue, age)
}
