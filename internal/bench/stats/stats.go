// Package stats holds latency samples and summarizes them as exact
// percentiles, for the load generator's reports and plots.
//
// A Recorder is owned by one goroutine (no locking); recorders are merged
// into a Series once the run is over. Percentiles are computed from every
// sample with the nearest-rank method, so they are exact, not estimated.
package stats

import (
	"math"
	"slices"
	"time"
)

// Sample is one latency measurement: At is when the measured event ended,
// as an offset from the start of the run; Latency is how long it took.
type Sample struct {
	At      time.Duration
	Latency time.Duration
}

// Recorder collects samples. The zero Recorder is ready to use. It is not
// safe for concurrent use: give each goroutine its own and merge them.
type Recorder struct {
	samples []Sample
}

// Add records one sample.
func (r *Recorder) Add(at, latency time.Duration) {
	r.samples = append(r.samples, Sample{At: at, Latency: latency})
}

// Len is the number of samples recorded.
func (r *Recorder) Len() int { return len(r.samples) }

// Series is a merged, immutable set of samples.
type Series struct {
	byLatency []time.Duration // sorted ascending
	samples   []Sample        // sorted by At
}

// Merge combines recorders into one Series. The recorders must not be
// used concurrently while Merge runs.
func Merge(rs ...*Recorder) *Series {
	n := 0
	for _, r := range rs {
		n += len(r.samples)
	}
	s := &Series{samples: make([]Sample, 0, n), byLatency: make([]time.Duration, 0, n)}
	for _, r := range rs {
		s.samples = append(s.samples, r.samples...)
	}
	slices.SortFunc(s.samples, func(a, b Sample) int { return cmpDuration(a.At, b.At) })
	for _, x := range s.samples {
		s.byLatency = append(s.byLatency, x.Latency)
	}
	slices.Sort(s.byLatency)
	return s
}

func cmpDuration(a, b time.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Len is the number of samples.
func (s *Series) Len() int { return len(s.byLatency) }

// Samples returns the samples in time order. The caller must not modify them.
func (s *Series) Samples() []Sample { return s.samples }

// Percentile returns the p-th percentile (0 < p <= 100) by nearest rank:
// the smallest sample such that at least p% of the samples are <= it.
// It returns 0 for an empty series.
func (s *Series) Percentile(p float64) time.Duration {
	return percentile(s.byLatency, p)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Max returns the largest sample, or 0.
func (s *Series) Max() time.Duration {
	if len(s.byLatency) == 0 {
		return 0
	}
	return s.byLatency[len(s.byLatency)-1]
}

// Summary is a series' headline figures, in milliseconds, as reported.
type Summary struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// Summarize returns s's count, p50, p95, p99 and max.
func (s *Series) Summarize() Summary {
	return Summary{
		Count: s.Len(),
		P50:   ms(s.Percentile(50)),
		P95:   ms(s.Percentile(95)),
		P99:   ms(s.Percentile(99)),
		Max:   ms(s.Max()),
	}
}

func ms(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*1000) / 1000
}

// Window is the percentiles of the samples that ended within one interval.
type Window struct {
	Start time.Duration // offset of the interval's start
	Count int
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Windows splits the series into consecutive intervals of width w, from 0
// to the last sample, and summarizes each. Empty intervals have Count 0.
func (s *Series) Windows(w time.Duration) []Window {
	if len(s.samples) == 0 || w <= 0 {
		return nil
	}
	last := s.samples[len(s.samples)-1].At
	out := make([]Window, 0, int(last/w)+1)
	i := 0
	var buf []time.Duration
	for start := time.Duration(0); start <= last; start += w {
		buf = buf[:0]
		for ; i < len(s.samples) && s.samples[i].At < start+w; i++ {
			buf = append(buf, s.samples[i].Latency)
		}
		slices.Sort(buf)
		win := Window{Start: start, Count: len(buf)}
		if len(buf) > 0 {
			win.P50 = percentile(buf, 50)
			win.P99 = percentile(buf, 99)
			win.Max = buf[len(buf)-1]
		}
		out = append(out, win)
	}
	return out
}
