package procstat

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// A command name with a space and a parenthesis, as the kernel allows.
	stat := "4242 (my (srv) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 130 0 0 20 0 9 0 100 1000000 300 18446744073709551615"
	got, err := parseStat([]byte(stat))
	if err != nil {
		t.Fatalf("parseStat: %v", err)
	}
	if want := 3800 * time.Millisecond; got != want {
		t.Errorf("cpu = %v, want %v (380 ticks)", got, want)
	}
	if _, err := parseStat([]byte("4242 (x) S 1 2")); !errors.Is(err, ErrFormat) {
		t.Errorf("short stat: error = %v, want ErrFormat", err)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tcollabd\nVmHWM:\t  20480 kB\nVmRSS:\t  10240 kB\nThreads:\t9\n"
	rss, peak, err := parseStatus([]byte(status))
	if err != nil {
		t.Fatalf("parseStatus: %v", err)
	}
	if rss != 10<<20 || peak != 20<<20 {
		t.Errorf("rss, peak = %d, %d; want %d, %d", rss, peak, 10<<20, 20<<20)
	}
	if _, _, err := parseStatus([]byte("Name:\tx\n")); !errors.Is(err, ErrFormat) {
		t.Errorf("missing fields: error = %v, want ErrFormat", err)
	}
}

func TestReadSelf(t *testing.T) {
	u, err := Read(os.Getpid())
	if err != nil {
		t.Fatalf("Read(self): %v", err)
	}
	if u.RSS <= 0 || u.Peak < u.RSS || u.FDs <= 0 {
		t.Errorf("Read(self) = %+v, want positive RSS, Peak >= RSS, some fds", u)
	}
}

func TestSamplerSummary(t *testing.T) {
	s := NewSampler(os.Getpid())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, time.Hour) }()
	cancel()
	<-done
	sum, err := s.Summary()
	if err != nil {
		t.Fatalf("Summary: %v", err)
	}
	if sum.Samples != 2 || sum.RSSMaxMB <= 0 {
		t.Errorf("Summary = %+v, want 2 samples (start and end) and a positive RSS", sum)
	}
}
