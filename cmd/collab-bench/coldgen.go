package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

// coldSpec is the database a cold start opens: docs documents holding ops
// ops in all, of which big documents hold bigOps each and the others share
// the rest evenly.
type coldSpec struct {
	Docs   int    `json:"docs"`
	Ops    int    `json:"ops"`
	Big    int    `json:"big"`
	BigOps int    `json:"big_ops"`
	Seed   uint64 `json:"seed"`
}

// coldManifest describes a generated database, saved beside it so that a
// later run can reuse the file and still check what a join returns.
type coldManifest struct {
	Spec     coldSpec      `json:"spec"`
	BigIDs   []string      `json:"big_ids"`
	BigTexts []textDigest  `json:"big_texts"` // the big documents' final texts
	SmallID  string        `json:"small_id"`
	Small    textDigest    `json:"small_text"`
	GenTime  time.Duration `json:"generated_in_ns"`
	Bytes    int64         `json:"file_bytes"`
}

type textDigest struct {
	Len    int    `json:"code_points"`
	SHA256 string `json:"sha256"`
}

func digest(s string) textDigest {
	h := sha256.Sum256([]byte(s))
	return textDigest{Len: runeCount(s), SHA256: hex.EncodeToString(h[:])}
}

func (s coldSpec) validate() error {
	switch {
	case s.Docs < 1 || s.Big < 0 || s.Big > s.Docs || s.BigOps < 1:
		return fmt.Errorf("cold start: want -cold-docs >= 1, 0 <= -cold-big <= -cold-docs, -cold-big-ops >= 1")
	case s.Ops < s.Big*s.BigOps+(s.Docs-s.Big):
		return fmt.Errorf("cold start: %d ops do not fill %d big documents of %d ops and one op for each other document", s.Ops, s.Big, s.BigOps)
	}
	return nil
}

// opsOf returns how many ops document i holds.
func (s coldSpec) opsOf(i int) int {
	if i < s.Big {
		return s.BigOps
	}
	small, rest := s.Docs-s.Big, s.Ops-s.Big*s.BigOps
	n := rest / small
	if i-s.Big < rest%small {
		n++
	}
	return n
}

func coldDocID(i int) string { return fmt.Sprintf("cold-%06d", i) }

// appendChunk is how many records one Append carries: big enough that a
// group commit holds tens of thousands of ops, small enough that a big
// document's records are not all in memory at once.
const appendChunk = 4096

// generateCold writes the database at path through the storage package:
// every document's history typed by the random editor (typing, emoji,
// backspaces, selections, pastes), one client per document, appended by
// many goroutines at once so that each group commit carries many
// documents' records. It returns the manifest.
func generateCold(ctx context.Context, path string, spec coldSpec, progress io.Writer) (*coldManifest, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	db, err := bolt.Open(path, bolt.Options{MaxBatch: 4096})
	if err != nil {
		return nil, err
	}
	m := &coldManifest{Spec: spec, BigIDs: make([]string, spec.Big), BigTexts: make([]textDigest, spec.Big)}
	var (
		next, done atomic.Int64
		ops        atomic.Int64
		wg         sync.WaitGroup
		errOnce    sync.Once
		firstErr   error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopProgress:
				return
			case <-t.C:
				fmt.Fprintf(progress, "[%4.0fs] generated %d/%d documents, %d/%d ops\n",
					time.Since(start).Seconds(), done.Load(), spec.Docs, ops.Load(), spec.Ops)
			}
		}
	})
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= spec.Docs || ctx.Err() != nil {
					return
				}
				text, err := writeColdDoc(ctx, db, spec, i, &ops)
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("document %d: %w", i, err); cancel() })
					return
				}
				switch {
				case i < spec.Big:
					m.BigIDs[i], m.BigTexts[i] = coldDocID(i), digest(text)
				case i == spec.Big:
					m.SmallID, m.Small = coldDocID(i), digest(text)
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	close(stopProgress)
	pwg.Wait()
	if cerr := db.Close(); firstErr == nil {
		firstErr = cerr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	m.GenTime = time.Since(start)
	if fi, err := os.Stat(path); err == nil {
		m.Bytes = fi.Size()
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(path+".json", b, 0o644); err != nil {
		return nil, err
	}
	return m, nil
}

// writeColdDoc appends document i's history and returns its final text.
func writeColdDoc(ctx context.Context, db *bolt.DB, spec coldSpec, i int, ops *atomic.Int64) (string, error) {
	id, n := coldDocID(i), spec.opsOf(i)
	maxLen := 2000
	if i < spec.Big {
		maxLen = 20_000
	}
	gen := newEditGen(spec.Seed, uint64(i), maxLen)
	text := ot.NewBuffer("")
	client := fmt.Sprintf("c%06d", i)
	recs := make([]storage.Record, 0, min(n, appendChunk))
	for rev := 1; rev <= n; rev++ {
		l := text.Len()
		pos, del, ins := gen.next(l)
		op, err := buildOp(l, pos, del, ins)
		if err != nil {
			return "", err
		}
		if err := text.Apply(op); err != nil {
			return "", err
		}
		recs = append(recs, storage.Record{Rev: uint64(rev), Op: op, Author: "bench", Client: client, Seq: uint64(rev)})
		if len(recs) == cap(recs) || rev == n {
			if err := db.Append(ctx, id, recs); err != nil {
				return "", err
			}
			ops.Add(int64(len(recs)))
			recs = recs[:0]
		}
	}
	return text.String(), nil
}

// loadManifest reads the manifest of a database generated earlier; false
// if there is none.
func loadManifest(path string) (*coldManifest, bool, error) {
	b, err := os.ReadFile(path + ".json")
	if os.IsNotExist(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	var m coldManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, false, fmt.Errorf("%s.json: %w", path, err)
	}
	return &m, true, nil
}
