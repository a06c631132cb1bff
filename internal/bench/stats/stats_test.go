package stats

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var r Recorder
	// 1..100 ms, added out of order.
	for i := 100; i >= 1; i-- {
		r.Add(time.Duration(i)*time.Second, time.Duration(i)*time.Millisecond)
	}
	s := Merge(&r)
	tests := []struct {
		p    float64
		want time.Duration
	}{
		{50, 50 * time.Millisecond},
		{95, 95 * time.Millisecond},
		{99, 99 * time.Millisecond},
		{99.9, 100 * time.Millisecond},
		{100, 100 * time.Millisecond},
		{0.1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := s.Percentile(tt.p); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := s.Max(); got != 100*time.Millisecond {
		t.Errorf("Max = %v, want 100ms", got)
	}
}

func TestPercentileSmallSeries(t *testing.T) {
	tests := []struct {
		name string
		lat  []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 99, 0},
		{"one", []time.Duration{7}, 50, 7},
		{"two p50 is lower", []time.Duration{9, 3}, 50, 3},
		{"two p99 is upper", []time.Duration{9, 3}, 99, 9},
		{"outlier shows at p99 of 10", []time.Duration{1, 1, 1, 1, 1, 1, 1, 1, 1, 500}, 99, 500},
		{"outlier hidden at p90 of 10", []time.Duration{1, 1, 1, 1, 1, 1, 1, 1, 1, 500}, 90, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Recorder
			for _, l := range tt.lat {
				r.Add(0, l)
			}
			if got := Merge(&r).Percentile(tt.p); got != tt.want {
				t.Errorf("Percentile(%v) of %v = %v, want %v", tt.p, tt.lat, got, tt.want)
			}
		})
	}
}

func TestMergeCombinesRecorders(t *testing.T) {
	var a, b Recorder
	a.Add(3*time.Second, 30*time.Millisecond)
	b.Add(1*time.Second, 10*time.Millisecond)
	b.Add(2*time.Second, 20*time.Millisecond)
	s := Merge(&a, &b)
	if s.Len() != 3 {
		t.Fatalf("Len = %d, want 3", s.Len())
	}
	got := s.Samples()
	for i, want := range []time.Duration{10, 20, 30} {
		if got[i].Latency != want*time.Millisecond {
			t.Errorf("Samples()[%d].Latency = %v, want %v (time order)", i, got[i].Latency, want*time.Millisecond)
		}
	}
	sum := s.Summarize()
	want := Summary{Count: 3, P50: 20, P95: 30, P99: 30, Max: 30}
	if sum != want {
		t.Errorf("Summarize = %+v, want %+v", sum, want)
	}
}

func TestSummaryRoundsToMicroseconds(t *testing.T) {
	var r Recorder
	r.Add(0, 1234567*time.Nanosecond)
	if got := Merge(&r).Summarize().P50; got != 1.235 {
		t.Errorf("P50 = %v ms, want 1.235", got)
	}
}

func TestWindows(t *testing.T) {
	var r Recorder
	r.Add(100*time.Millisecond, 1*time.Millisecond)
	r.Add(900*time.Millisecond, 3*time.Millisecond)
	r.Add(2500*time.Millisecond, 8*time.Millisecond)
	ws := Merge(&r).Windows(time.Second)
	if len(ws) != 3 {
		t.Fatalf("got %d windows, want 3: %+v", len(ws), ws)
	}
	if ws[0].Count != 2 || ws[0].P50 != time.Millisecond || ws[0].P99 != 3*time.Millisecond {
		t.Errorf("window 0 = %+v, want count 2, p50 1ms, p99 3ms", ws[0])
	}
	if ws[1].Count != 0 {
		t.Errorf("window 1 = %+v, want empty", ws[1])
	}
	if ws[2].Start != 2*time.Second || ws[2].Count != 1 || ws[2].Max != 8*time.Millisecond {
		t.Errorf("window 2 = %+v, want start 2s, count 1, max 8ms", ws[2])
	}
}
