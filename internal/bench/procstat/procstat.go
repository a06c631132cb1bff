// Package procstat reads a Linux process's CPU time and memory from /proc,
// so the load generator can report what a server cost while it ran.
package procstat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrFormat reports a /proc file that does not parse.
var ErrFormat = errors.New("procstat: unexpected /proc format")

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTick = 100

// Usage is one reading of a process.
type Usage struct {
	CPU   time.Duration // user + system time since the process started
	RSS   int64         // resident set size, bytes
	Peak  int64         // peak resident set size (VmHWM), bytes
	FDs   int           // open file descriptors, -1 if unknown
	Taken time.Time
}

// Read returns the current usage of process pid.
func Read(pid int) (Usage, error) {
	u := Usage{Taken: time.Now(), FDs: -1}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("procstat: %w", err)
	}
	if u.CPU, err = parseStat(stat); err != nil {
		return u, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("procstat: %w", err)
	}
	if u.RSS, u.Peak, err = parseStatus(status); err != nil {
		return u, err
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		u.FDs = len(ents)
	}
	return u, nil
}

// parseStat returns utime+stime from the contents of /proc/<pid>/stat. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted after its last ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("%w: no command name in stat", ErrFormat)
	}
	f := strings.Fields(string(b[i+1:]))
	// After ')': state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%w: stat has %d fields", ErrFormat, len(f)+2)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%w: utime %q stime %q", ErrFormat, f[11], f[12])
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// parseStatus returns VmRSS and VmHWM, in bytes, from /proc/<pid>/status.
func parseStatus(b []byte) (rss, peak int64, err error) {
	found := 0
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("%w: %s line %q", ErrFormat, k, strings.TrimSpace(line))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%w: %s line %q", ErrFormat, k, strings.TrimSpace(line))
		}
		if k == "VmRSS" {
			rss = n * 1024
		} else {
			peak = n * 1024
		}
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("%w: VmRSS or VmHWM missing", ErrFormat)
	}
	return rss, peak, nil
}

// Summary is what a Sampler saw over a run.
type Summary struct {
	CPUPercent float64 `json:"cpu_percent"` // average, 100 = one core busy
	RSSMaxMB   float64 `json:"rss_max_mb"`  // largest RSS sampled
	PeakMB     float64 `json:"peak_rss_mb"` // VmHWM at the end
	FDsMax     int     `json:"fds_max"`
	Samples    int     `json:"samples"`
}

// Sampler reads a process every interval until its context ends.
type Sampler struct {
	pid int

	mu      sync.Mutex // guards the fields below
	first   Usage
	last    Usage
	rssMax  int64
	fdsMax  int
	samples int
	err     error
}

// NewSampler returns a sampler of pid; call Run to start it.
func NewSampler(pid int) *Sampler { return &Sampler{pid: pid} }

// Run samples every interval until ctx ends, and once more then.
func (s *Sampler) Run(ctx context.Context, interval time.Duration) {
	s.sample()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.sample()
			return
		case <-t.C:
			s.sample()
		}
	}
}

// sample takes one reading now.
func (s *Sampler) sample() {
	u, err := Read(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.err = err
		return
	}
	if s.samples == 0 {
		s.first = u
	}
	s.last = u
	s.rssMax = max(s.rssMax, u.RSS)
	s.fdsMax = max(s.fdsMax, u.FDs)
	s.samples++
}

// Reset makes the next reading the start of the measured interval.
func (s *Sampler) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples, s.rssMax, s.fdsMax = 0, 0, 0
}

// Summary returns the averages and maxima since the first reading, and the
// last error, if reading failed.
func (s *Sampler) Summary() (Summary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sum := Summary{
		RSSMaxMB: mb(s.rssMax),
		PeakMB:   mb(s.last.Peak),
		FDsMax:   s.fdsMax,
		Samples:  s.samples,
	}
	if el := s.last.Taken.Sub(s.first.Taken); el > 0 {
		sum.CPUPercent = float64(s.last.CPU-s.first.CPU) / float64(el) * 100
	}
	return sum, s.err
}

// Current returns the last reading.
func (s *Sampler) Current() Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
