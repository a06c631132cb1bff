package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/collabd/collab/collab"
	"github.com/collabd/collab/storage/bolt"
	"github.com/collabd/collab/web"
)

// listening, when set (by tests), learns the address the server listens on.
var listening func(addr string)

// run is collabd with its arguments and environment; it returns when ctx
// ends (after a graceful stop) or on an error. -h prints the usage and is
// no error.
func run(ctx context.Context, args, env []string) error {
	if err := command(ctx, args, env); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

// command runs the command args name (serve by default).
func command(ctx context.Context, args, env []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "compact":
			return runCompact(args[1:], env)
		case "backup":
			return runBackup(ctx, args[1:], env)
		case "token":
			return runToken(args[1:], env)
		case "serve":
			args = args[1:]
		}
	}
	return serve(ctx, args, env)
}

// parse parses args into fs after taking defaults from COLLAB_ variables.
func parse(fs *flag.FlagSet, args, env []string) error {
	vars := make(map[string]string)
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "COLLAB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := vars[name]; ok && err == nil {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, serr)
			}
		}
	})
	if err != nil {
		return err
	}
	fs.SetOutput(usageOutput)
	return fs.Parse(args)
}

type config struct {
	addr, data, origins, logLevel  string
	frameAncestors                 string
	hosts                          string
	secret, tlsCert, tlsKey        string
	debugAddr                      string
	readHeaderTimeout, idleTimeout time.Duration
	opts                           collab.Options
	store                          bolt.Options
	pruneEvery                     time.Duration
	cluster                        clusterConfig
	webhook                        webhookConfig
}

// minSecret is the shortest -auth-secret accepted: HS256 secrets must not
// be guessable offline from one captured token.
const minSecret = 16

func serveFlags(fs *flag.FlagSet) *config {
	c := &config{}
	fs.StringVar(&c.addr, "addr", "", "listen address (default "+openAddr+" without -auth-secret, "+closedAddr+" with one)")
	fs.StringVar(&c.data, "data", "collab.db", "database file")
	fs.StringVar(&c.origins, "allowed-origins", "", "comma-separated origins (scheme://host[:port]) of other sites allowed to connect")
	fs.StringVar(&c.frameAncestors, "frame-ancestors", "", "comma-separated sites (origins, https:, *, self, none) allowed to show /embed/{id} pages in a frame; default: self and the -allowed-origins")
	fs.StringVar(&c.hosts, "allowed-hosts", "", "comma-separated host names the server answers to besides localhost, loopback addresses and the listen address's own (\"*\": any); add the public name behind a proxy")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.debugAddr, "debug-addr", "", "listen address of Go's profiles (/debug/pprof/), e.g. 127.0.0.1:6060; keep it private (loopback or an internal network); empty: none")
	fs.StringVar(&c.secret, "auth-secret", "", "HS256 secret of access tokens (at least 16 bytes; see docs/security.md); empty: every document is open to anyone")
	fs.StringVar(&c.opts.AuthAudience, "auth-audience", "", "when set, tokens must carry this aud (audience) claim")
	fs.StringVar(&c.opts.AuthIssuer, "auth-issuer", "", "when set, tokens must carry this iss (issuer) claim")
	fs.BoolVar(&c.opts.TrustProxy, "trust-proxy", false, "believe X-Forwarded-Proto/Host/For from a reverse proxy (only behind one)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "certificate file (PEM): serve HTTPS and WSS")
	fs.StringVar(&c.tlsKey, "tls-key", "", "private key file (PEM) of -tls-cert")
	fs.Float64Var(&c.opts.ConnRate, "conn-rate", 10, "new WebSocket connections per second per IP (0: no limit)")
	fs.IntVar(&c.opts.ConnBurst, "conn-burst", 100, "burst of new WebSocket connections per IP")
	fs.DurationVar(&c.opts.HelloWait, "hello-timeout", 10*time.Second, "time a new WebSocket connection has to send hello")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send its request headers")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", time.Minute, "an HTTP keep-alive connection idle this long is closed (WebSockets have their own pings)")
	fs.DurationVar(&c.opts.RequestTimeout, "request-timeout", time.Minute, "time an API request has to send its body, and its answer to be read (backups aside)")
	fs.IntVar(&c.opts.MaxConnsPerIP, "max-conns-per-ip", 1000, "WebSocket connections plus API requests in progress per IP (0: no limit)")
	fs.Float64Var(&c.opts.APIRate, "api-rate", 20, "API requests per second per IP, each 64 KiB read or written counting as one more (0: no limit)")
	fs.IntVar(&c.opts.APIBurst, "api-burst", 100, "burst of API requests per IP")
	fs.Int64Var(&c.opts.MaxFrame, "max-frame", 1<<20, "largest WebSocket frame in bytes")
	fs.IntVar(&c.opts.MaxDocSize, "max-doc-size", 16<<20, "largest document in bytes")
	fs.Float64Var(&c.opts.Rate, "rate", 200, "messages per second per connection")
	fs.IntVar(&c.opts.Burst, "burst", 400, "message burst per connection")
	fs.IntVar(&c.opts.QueueLen, "queue-len", 256, "outbound messages queued per connection before it is dropped as too slow")
	fs.Uint64Var(&c.opts.MaxCatchUp, "max-catch-up", 1000, "most ops replayed to a resuming client before it gets the whole text")
	fs.IntVar(&c.opts.MaxCatchUpBytes, "max-catch-up-bytes", 4<<20, "most bytes of ops replayed to a resuming client (else the whole text) or in one page of /ops (else next)")
	fs.IntVar(&c.opts.WindowBytes, "window-bytes", 4<<20, "bytes of recent ops kept in memory per loaded document")
	fs.Float64Var(&c.opts.WriteRate, "write-rate", 1<<20, "bytes of ops per second one connection may submit (refused rate_limited beyond; 0: no limit)")
	fs.IntVar(&c.opts.WriteBurst, "write-burst", 4<<20, "burst of bytes of ops per connection")
	fs.IntVar(&c.opts.DocGrowth, "doc-growth", 256<<20, "bytes of ops one document accepts per -doc-growth-window (refused quota_exceeded beyond; 0: no limit)")
	fs.DurationVar(&c.opts.DocGrowthWindow, "doc-growth-window", time.Hour, "time window of -doc-growth")
	fs.IntVar(&c.opts.MaxTransform, "max-transform", 100_000, "most op components one submit is transformed over, and one editor per second (refused rev_too_old beyond)")
	fs.IntVar(&c.store.CheckpointBytes, "checkpoint-bytes", 64<<20, "bytes of write-ahead log held in memory before a checkpoint (commits wait at twice as many)")
	fs.IntVar(&c.opts.MaxEditors, "max-editors", 1000, "editors per document")
	fs.IntVar(&c.opts.MaxDocs, "max-docs", 64, "documents per connection")
	fs.IntVar(&c.opts.MaxLoaded, "max-loaded", 10000, "documents in memory at once; beyond it the one idle longest unloads early, and a join fails with too_many_loaded when none is idle")
	fs.DurationVar(&c.opts.Grace, "unload-after", 30*time.Second, "unload a document this long after its last editor leaves")
	fs.IntVar(&c.store.SnapshotEvery, "snapshot-every", 1000, "least ops between snapshots of a document")
	fs.IntVar(&c.store.SnapshotRatio, "snapshot-ratio", 4, "a snapshot waits until the ops after the newest take 1/N of its bytes, so snapshots take at most N times the disk of the ops; after 64 × -snapshot-every ops it comes anyway (0: every -snapshot-every ops)")
	fs.IntVar(&c.store.KeepOps, "keep-ops", 0, "ops of history kept per document (0: all)")
	fs.DurationVar(&c.store.KeepFor, "keep-for", 0, "age of history kept (0: forever)")
	fs.DurationVar(&c.store.CommitInterval, "commit-interval", 2*time.Millisecond, "least time between the starts of two group commits while many documents write (negative: none)")
	fs.DurationVar(&c.pruneEvery, "prune-every", time.Hour, "how often to apply -keep-for to idle documents (with -nats: to every document)")
	clusterFlags(fs, &c.cluster)
	webhookFlags(fs, &c.webhook)
	return c
}

func serve(ctx context.Context, args, env []string) error {
	fs := flag.NewFlagSet("collabd", flag.ContinueOnError)
	fs.Usage = serveUsage(fs)
	c := serveFlags(fs)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	c.opts.AllowedOrigins = splitList(c.origins)
	c.opts.Logger = log
	if c.addr == "" {
		c.addr = defaultAddr(c.secret)
	}
	zeroMeansNoLimit(&c.opts)
	if c.secret != "" && len(c.secret) < minSecret {
		return fmt.Errorf("-auth-secret: at least %d bytes needed", minSecret)
	}
	c.opts.AuthSecret = []byte(c.secret)
	if err := collab.CheckOrigins(c.opts.AllowedOrigins); err != nil {
		return fmt.Errorf("-allowed-origins: %w", err)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return errors.New("-tls-cert and -tls-key go together")
	}
	pages, err := web.NewHandler(web.Options{FrameAncestors: frameAncestors(c.frameAncestors, c.opts.AllowedOrigins)})
	if err != nil {
		return fmt.Errorf("-frame-ancestors (by default 'self' and the -allowed-origins): %w", err)
	}

	if err := checkWebhook(c.webhook); err != nil {
		return err
	}
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	be, err := openBackend(ctx, c, set, log)
	if err != nil {
		return err
	}
	defer be.close()
	hooks, changes, err := startWebhook(ctx, c.webhook, be.store, log)
	if err != nil {
		return err
	}
	if hooks != nil {
		defer hooks.Close() // before the store closes
		c.opts.Changes = changes
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	c.opts.AllowedHosts = append(ownHosts(c.addr, ln.Addr()), splitList(c.hosts)...)
	srv := collab.NewServer(be.store, c.opts)
	if hooks != nil {
		if err := srv.RegisterMetrics(hooks.Collector()); err != nil {
			return err
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/api/", srv)
	mux.Handle("/healthz", srv)
	mux.Handle("/metrics", srv) // with the cluster store's figures in cluster mode
	mux.Handle("/", srv.CheckHost(pages))
	var handler http.Handler = mux
	if c.tlsCert != "" {
		handler = strictTransport(mux)
	}
	hs := &http.Server{Handler: handler, ReadHeaderTimeout: c.readHeaderTimeout, IdleTimeout: c.idleTimeout, ConnState: srv.ConnState, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("collabd listening", append([]any{"url", openURL(ln.Addr(), c.tlsCert != ""), "auth", c.secret != ""}, be.desc...)...)
	if hint := exposeHint(c.secret, ln.Addr()); hint != "" {
		log.Info(hint)
	}
	if listening != nil {
		listening(ln.Addr().String())
	}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var err error
		if c.tlsCert != "" {
			err = hs.ServeTLS(ln, c.tlsCert, c.tlsKey)
		} else {
			err = hs.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	var debug *http.Server
	if c.debugAddr != "" {
		ds, dln, err := listenDebug(c.debugAddr)
		if err != nil {
			hs.Close()
			wg.Wait()
			return fmt.Errorf("-debug-addr: %w", err)
		}
		log.Info("profiles served", "url", openURL(dln.Addr(), false)+"debug/pprof/")
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds.Serve(dln)
		}()
		debug = ds
	}
	if c.store.KeepFor > 0 && be.prune != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			prune(ctx, be.prune, be.pruned, c.pruneEvery, log)
		}()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("collabd stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	hs.Shutdown(stopCtx) // stop accepting; WebSockets are the collab server's
	if debug != nil {
		debug.Close()
	}
	if serr := srv.Shutdown(stopCtx); serr != nil && err == nil {
		err = fmt.Errorf("shutdown: %w", serr)
	}
	wg.Wait()
	if hooks != nil {
		hooks.Close()
	}
	if cerr := be.close(); cerr != nil && err == nil {
		err = cerr
	}
	log.Info("collabd stopped")
	return err
}

// frameAncestors is the list of -frame-ancestors, or by default collabd's
// own pages and the sites allowed to connect: those that embed the editor.
func frameAncestors(flag string, allowedOrigins []string) []string {
	if list := strings.FieldsFunc(flag, func(r rune) bool { return r == ',' || r == ' ' }); len(list) > 0 {
		for i, s := range list {
			if s == "self" || s == "none" { // a shell drops the quotes of 'self'
				list[i] = "'" + s + "'"
			}
		}
		return list
	}
	list := []string{"'self'"}
	for _, o := range allowedOrigins {
		list = append(list, strings.TrimRight(o, "/"))
	}
	return list
}

// strictTransport tells browsers to use only HTTPS with this host for a
// year (HSTS), on every response of a server that serves TLS itself.
func strictTransport(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
		next.ServeHTTP(w, r)
	})
}

func prune(ctx context.Context, pruneOnce func(context.Context) (int, error), unit string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := pruneOnce(ctx); err != nil {
				log.Error("prune", "err", err)
			} else if n > 0 {
				log.Info("pruned history", unit, n)
			}
		}
	}
}

// openURL is the address to show: localhost for a wildcard listener or
// 127.0.0.1 (browsers and curl fall back from ::1 to it).
func openURL(a net.Addr, tls bool) string {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return scheme + a.String() + "/"
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() || ip.Equal(net.IPv4(127, 0, 0, 1)) {
		host = "localhost"
	}
	return scheme + net.JoinHostPort(host, port) + "/"
}

func runCompact(args, env []string) error {
	fs := flag.NewFlagSet("collabd compact", flag.ContinueOnError)
	data := fs.String("data", "collab.db", "database file to compact (no server may hold it)")
	out := fs.String("out", "", "new compacted file (must not exist)")
	inCluster := clusterModeFlag(fs)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if *inCluster != "" {
		return errors.New("compact: not available in cluster mode (-nats or COLLAB_NATS): the documents live in NATS JetStream, which manages its own files")
	}
	if *out == "" {
		return errors.New("compact: -out is required")
	}
	return bolt.Compact(*out, *data)
}

func runBackup(ctx context.Context, args, env []string) error {
	fs := flag.NewFlagSet("collabd backup", flag.ContinueOnError)
	url := fs.String("url", "", "base URL of a running collabd, e.g. http://localhost:8080 (hot backup)")
	data := fs.String("data", "", "database file no server holds (offline backup)")
	out := fs.String("out", "", "backup file to write (must not exist)")
	token := fs.String("token", "", "admin token for a server with -auth-secret (collabd token -perm admin -doc '*')")
	inCluster := clusterModeFlag(fs)
	if err := parse(fs, args, env); err != nil {
		return err
	}
	if *inCluster != "" {
		return errors.New("backup: not available in cluster mode (-nats or COLLAB_NATS): the documents live in NATS JetStream; back up its stream and bucket with the nats CLI (nats stream backup, nats kv)")
	}
	if *out == "" || (*url == "") == (*data == "") {
		return errors.New("backup: give -out and one of -url or -data")
	}
	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if *url != "" {
		err = backupURL(ctx, strings.TrimRight(*url, "/"), *token, f)
	} else {
		err = backupFile(*data, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(*out)
	}
	return err
}

func backupURL(ctx context.Context, base, token string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/admin/backup", nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		return fmt.Errorf("backup: %s: %s", res.Status, strings.TrimSpace(string(body)))
	}
	_, err = io.Copy(w, res.Body)
	return err
}

func backupFile(path string, w io.Writer) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		return fmt.Errorf("%w (is a server running? use -url)", err)
	}
	defer db.Close()
	_, err = db.Backup(w)
	return err
}

// stdout receives the token of "collabd token" (tests replace it).
var stdout io.Writer = os.Stdout

// runToken mints an access token, as an application's backend would.
func runToken(args, env []string) error {
	fs := flag.NewFlagSet("collabd token", flag.ContinueOnError)
	secret := fs.String("secret", "", "the server's -auth-secret (default $COLLAB_AUTH_SECRET)")
	audience := fs.String("audience", "", "the server's -auth-audience, if any (default $COLLAB_AUTH_AUDIENCE)")
	issuer := fs.String("issuer", "", "the server's -auth-issuer, if any (default $COLLAB_AUTH_ISSUER)")
	doc := fs.String("doc", "", "document id, or a prefix ending in * (\"*\": every document)")
	perm := fs.String("perm", "write", "read, write or admin")
	name := fs.String("name", "", "the user's display name")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	if err := parse(fs, args, nil); err != nil {
		return err
	}
	// The server's variables, so that a shell configured for the server
	// mints tokens it accepts.
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "COLLAB_AUTH_SECRET" && *secret == "":
			*secret = v
		case k == "COLLAB_AUTH_AUDIENCE" && *audience == "":
			*audience = v
		case k == "COLLAB_AUTH_ISSUER" && *issuer == "":
			*issuer = v
		}
	}
	if len(*secret) < minSecret {
		return fmt.Errorf("token: -secret or COLLAB_AUTH_SECRET of at least %d bytes needed", minSecret)
	}
	if *ttl <= 0 {
		return errors.New("token: -ttl must be positive")
	}
	reg := jwt.RegisteredClaims{
		Issuer:    *issuer,
		IssuedAt:  jwt.NewNumericDate(time.Now()),
		ExpiresAt: jwt.NewNumericDate(time.Now().Add(*ttl)),
	}
	if *audience != "" {
		reg.Audience = jwt.ClaimStrings{*audience}
	}
	tok, err := collab.MintToken([]byte(*secret), collab.Claims{Doc: *doc, Perm: collab.Perm(*perm), Name: *name, RegisteredClaims: reg})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
