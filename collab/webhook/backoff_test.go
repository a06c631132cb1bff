package webhook

import (
	"testing"
	"time"
)

// TestBackoff: the wait before retry n doubles from the minimum up to the
// maximum, drawn between half of that and all of it.
func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 7: time.Minute, 60: time.Minute} {
		for range 50 {
			if d := backoff(time.Second, time.Minute, n); d < want/2 || d > want {
				t.Fatalf("retry %d after %s, want %s to %s", n, d, want/2, want)
			}
		}
	}
}
