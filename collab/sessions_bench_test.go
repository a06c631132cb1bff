package collab

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

// BenchmarkSessionsPage measures one page of GET …/sessions on a bbolt
// document of 100,000 ops by four editors taking turns, a session of 50
// ops each with a ten-minute pause between sessions (2,000 sessions): the
// newest page, one from the middle, and the oldest, 20 sessions each.
func BenchmarkSessionsPage(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "docs.db"), bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const n = 100000
	t0 := time.Now().Add(-n * time.Minute)
	at := t0
	for i := 0; i < n; i += 1000 {
		recs := make([]storage.Record, 1000)
		for j := range recs {
			r := i + j
			if r%50 == 0 {
				at = at.Add(10 * time.Minute)
			}
			at = at.Add(time.Second)
			who := (r / 50) % 4
			recs[j] = storage.Record{Rev: uint64(r + 1), Op: insertAt(r, r/2, "x"),
				Client: fmt.Sprintf("c%d", who), Seq: uint64(r + 1), Author: fmt.Sprintf("Ed %d", who), Time: at}
		}
		if err := db.Append(b.Context(), "d", recs); err != nil {
			b.Fatal(err)
		}
	}
	for _, before := range []uint64{n + 1, n / 2, 1001} {
		b.Run(fmt.Sprintf("before=%d", before), func(b *testing.B) {
			for range b.N {
				g := sessionGrouper{pause: defaultPause, limit: defaultSessions}
				if _, _, err := scanBack(b.Context(), db, "d", before, 4<<20, g.add); err != nil {
					b.Fatal(err)
				}
				if got := len(g.finish()); got != defaultSessions {
					b.Fatalf("%d sessions, want %d", got, defaultSessions)
				}
			}
		})
	}
}
