package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/internal/bench/procstat"
	"github.com/collabd/collab/internal/rawclient"
	"github.com/gorilla/websocket"
)

// coldReport is the outcome of a cold-start run.
type coldReport struct {
	Mode      string        `json:"mode"` // "cold-start"
	DB        string        `json:"db"`
	FileMB    float64       `json:"file_mb"`
	Spec      coldSpec      `json:"spec"`
	Generated bool          `json:"generated"` // false: an earlier run's file was reused
	GenS      float64       `json:"generated_in_s"`
	PageCache string        `json:"page_cache"` // "dropped" before each start, or "kept"
	Runs      []coldRun     `json:"runs"`
	Failures  []string      `json:"failures,omitempty"`
	Machine   machine       `json:"machine"`
	manifest  *coldManifest // what the joins must return
}

// coldRun is one start of collabd.
type coldRun struct {
	HealthzMS float64    `json:"start_to_healthz_ms"` // from starting the process to /healthz answering 200
	Joins     []coldJoin `json:"joins"`
	StopMS    float64    `json:"stop_ms"` // from SIGTERM to exit
	RSSMB     float64    `json:"server_rss_mb"`
}

// coldJoin is one join: the connection (dial, upgrade, hello, welcome),
// then from the join frame written to the joined frame read.
type coldJoin struct {
	Doc     string  `json:"doc"`
	Ops     int     `json:"ops"`
	First   bool    `json:"first"` // the document's first join since the start
	DialMS  float64 `json:"connect_ms"`
	JoinMS  float64 `json:"join_ms"`
	Length  int     `json:"code_points"`
	TextOK  bool    `json:"text_ok"` // the text equals the generated one
	JoinErr string  `json:"error,omitempty"`
}

// runColdStart generates (or reuses) the database, then starts collabd on
// it -cold-runs times and times its start and the first joins.
func runColdStart(ctx context.Context, o *options, stdout, progress io.Writer) error {
	if o.cold.collabd == "" {
		return errors.New("-cold-start needs the collabd binary: -collabd PATH (go build -o /tmp/collabd ./cmd/collabd)")
	}
	spec := coldSpec{Docs: o.cold.docs, Ops: o.cold.ops, Big: o.cold.big, BigOps: o.cold.bigOps, Seed: o.seed}
	if err := spec.validate(); err != nil {
		return err
	}
	dir := o.dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "collab-cold-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "cold.db")
	rep := &coldReport{Mode: "cold-start", DB: path, Spec: spec, PageCache: "kept", Machine: thisMachine()}
	if o.cold.dropCache {
		rep.PageCache = "dropped"
	}
	m, ok, err := loadManifest(path)
	switch {
	case err != nil:
		return err
	case ok && m.Spec != spec:
		return fmt.Errorf("%s holds %+v, not %+v: give another -data directory", path, m.Spec, spec)
	case !ok:
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s exists without its manifest %s.json: give another -data directory", path, path)
		}
		fmt.Fprintf(progress, "generating %s: %d documents, %d ops (%d documents of %d ops)\n", path, spec.Docs, spec.Ops, spec.Big, spec.BigOps)
		if m, err = generateCold(ctx, path, spec, progress); err != nil {
			return err
		}
		rep.Generated = true
	}
	rep.manifest, rep.GenS = m, round3(m.GenTime.Seconds())
	if fi, err := os.Stat(path); err == nil {
		rep.FileMB = round1(float64(fi.Size()) / (1 << 20))
	}
	for i := range max(1, o.cold.runs) {
		if o.cold.dropCache {
			if err := dropPageCache(path); err != nil {
				return fmt.Errorf("drop the page cache: %w", err)
			}
		}
		run, err := coldStartOnce(ctx, o.cold.collabd, path, m)
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
		fmt.Fprintf(progress, "start %d: /healthz after %.1f ms\n", i+1, run.HealthzMS)
		rep.Runs = append(rep.Runs, run)
		for _, j := range run.Joins {
			if !j.TextOK {
				rep.Failures = append(rep.Failures, fmt.Sprintf("start %d: join of %s: %s", i+1, j.Doc, j.failure()))
			}
		}
	}
	if err := writeColdReport(stdout, rep, o.json); err != nil {
		return err
	}
	if len(rep.Failures) > 0 {
		return fmt.Errorf("run failed: %s", rep.Failures[0])
	}
	return nil
}

func (j coldJoin) failure() string {
	if j.JoinErr != "" {
		return j.JoinErr
	}
	return fmt.Sprintf("the text (%d code points) differs from the one generated", j.Length)
}

// coldStartOnce starts collabd on path, times /healthz, joins every big
// document once and the small one, then the first big one again (a loaded
// document, for comparison), and stops collabd.
func coldStartOnce(ctx context.Context, bin, path string, m *coldManifest) (coldRun, error) {
	var run coldRun
	addr, err := freeLoopbackAddr()
	if err != nil {
		return run, err
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "-addr", addr, "-data", path, "-log-level", "warn", "-conn-rate", "0", "-max-conns-per-ip", "0")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		t := time.Now()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		run.StopMS = round3(ms(time.Since(t)))
	}
	defer stop()

	if err := waitHealthy(ctx, "http://"+addr+"/healthz", exited); err != nil {
		if !errors.Is(err, errExited) {
			cmd.Process.Kill()
			<-exited
		}
		stopped = true
		return run, fmt.Errorf("%w\ncollabd's output:\n%s", err, logs.Bytes())
	}
	run.HealthzMS = round3(ms(time.Since(start)))

	ws := "ws://" + addr + "/ws"
	type want struct {
		id    string
		ops   int
		text  textDigest
		first bool
	}
	var joins []want
	for i, id := range m.BigIDs {
		joins = append(joins, want{id, m.Spec.BigOps, m.BigTexts[i], true})
	}
	if m.SmallID != "" {
		joins = append(joins, want{m.SmallID, m.Spec.opsOf(m.Spec.Big), m.Small, true})
	}
	if len(m.BigIDs) > 0 {
		joins = append(joins, want{m.BigIDs[0], m.Spec.BigOps, m.BigTexts[0], false})
	}
	for k, w := range joins {
		j := timedJoin(ctx, ws, w.id, fmt.Sprintf("cold%d", k))
		j.Ops, j.First = w.ops, w.first
		j.TextOK = j.JoinErr == "" && digest(j.text) == w.text
		j.Length = runeCount(j.text)
		run.Joins = append(run.Joins, j.coldJoin)
	}
	if u, err := procstat.Read(cmd.Process.Pid); err == nil {
		run.RSSMB = round1(float64(u.RSS) / (1 << 20))
	}
	stop()
	return run, nil
}

type joinResult struct {
	coldJoin
	text string
}

// timedJoin connects to the server and joins doc, timing the join from the
// frame written to the joined frame read.
func timedJoin(ctx context.Context, wsURL, doc, client string) joinResult {
	r := joinResult{coldJoin: coldJoin{Doc: doc}}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	t0 := time.Now()
	d := &websocket.Dialer{ReadBufferSize: 4096, WriteBufferSize: 4096}
	ws, _, err := d.DialContext(ctx, wsURL, nil)
	if err != nil {
		r.JoinErr = err.Error()
		return r
	}
	defer ws.Close()
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
	}
	rc := &rawclient.Conn{WS: ws}
	if _, err := rc.Hello(wire.Hello{Version: wire.Version, Client: client}); err != nil {
		r.JoinErr = err.Error()
		return r
	}
	t1 := time.Now()
	r.DialMS = round3(ms(t1.Sub(t0)))
	j, err := rc.Join(doc, nil)
	if err != nil {
		r.JoinErr = err.Error()
		return r
	}
	r.JoinMS = round3(ms(time.Since(t1)))
	if j.Text == nil {
		r.JoinErr = "joined without the text"
		return r
	}
	r.text = *j.Text
	return r
}

var errExited = errors.New("collabd exited before answering /healthz")

// waitHealthy polls url every millisecond until it answers 200, the
// process exits or 10 minutes pass.
func waitHealthy(ctx context.Context, url string, exited <-chan error) error {
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("%w: %v", errExited, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("collabd did not answer /healthz within 10 minutes")
		}
	}
}

// freeLoopbackAddr returns a loopback address with a port free now.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func writeColdReport(w io.Writer, r *coldReport, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	s := r.Spec
	how := fmt.Sprintf("generated in %.1f s", r.GenS)
	if !r.Generated {
		how = fmt.Sprintf("reused (generated in %.1f s)", r.GenS)
	}
	fmt.Fprintf(tw, "database\t%s, %.0f MB, %s\n", r.DB, r.FileMB, how)
	fmt.Fprintf(tw, "contents\t%d documents, %d ops; %d documents of %d ops\n", s.Docs, s.Ops, s.Big, s.BigOps)
	fmt.Fprintf(tw, "page cache\t%s before each start\n", r.PageCache)
	for i, run := range r.Runs {
		fmt.Fprintf(tw, "start %d\tprocess start to /healthz %.1f ms\tserver rss %.0f MB after the joins\tstop %.0f ms\n", i+1, run.HealthzMS, run.RSSMB, run.StopMS)
		for _, j := range run.Joins {
			which := "first join"
			if !j.First {
				which = "again"
			}
			ok := "text exact"
			if !j.TextOK {
				ok = "FAILED: " + j.failure()
			}
			fmt.Fprintf(tw, "  %s (%d ops)\t%s %.2f ms\tconnect %.2f ms\t%d code points, %s\n", j.Doc, j.Ops, which, j.JoinMS, j.DialMS, j.Length, ok)
		}
	}
	for _, f := range r.Failures {
		fmt.Fprintf(tw, "FAILED\t%s\n", f)
	}
	m := r.Machine
	fmt.Fprintf(tw, "machine\t%d CPUs, %s, %s, %s\n", m.CPUs, m.CPUModel, m.Go, m.Date)
	return tw.Flush()
}
