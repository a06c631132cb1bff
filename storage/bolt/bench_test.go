package bolt

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	bbolt "go.etcd.io/bbolt"
)

// BenchmarkAppendConcurrent: 100 editors, each on its own document, append
// single-op records and wait for each commit, as a busy server does.
// With stored=100000 the 100 active documents sit among 100,000 others,
// so their metadata and client records are spread over many pages.
func BenchmarkAppendConcurrent(b *testing.B) {
	for _, stored := range []int{0, 100_000} {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			db, _ := openTemp(b, Options{})
			storeIdle(b, db, stored)
			appendConcurrent(b, db)
		})
	}
}

// storeIdle creates n one-op documents whose ids sort between those of the
// benchmark's documents (doc007-000123 before doc007-zz), as random ids
// would.
func storeIdle(b *testing.B, db *DB, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				id := fmt.Sprintf("doc%03d-%06d", i%100, i)
				if err := db.Append(ctx, id, []storage.Record{{Rev: 1, Op: insertOp(0, 0, "idle"), Client: "c", Seq: 1}}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func appendConcurrent(b *testing.B, db *DB) {
	const docs = 100
	var next atomic.Int64
	var wg sync.WaitGroup
	s0, spill0 := db.Stats(), boltSpill(db)
	b.ResetTimer()
	start := time.Now()
	for d := range docs {
		wg.Go(func() {
			id := fmt.Sprintf("doc%03d-zz", d)
			n := 0
			for rev := 1; next.Add(1) <= int64(b.N); rev++ {
				rec := storage.Record{Rev: uint64(rev), Op: insertOp(n, n, "ab"), Client: "c", Seq: uint64(rev)}
				if err := db.Append(ctx, id, []storage.Record{rec}); err != nil {
					b.Error(err)
					return
				}
				n += 2
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	s := db.Stats().sub(s0)
	spilled := boltSpill(db) - spill0
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(s.Writes)/float64(max(s.Commits, 1)), "ops/commit")
	b.ReportMetric(float64(spilled)/float64(max(s.Commits, 1)), "pages/commit")
}

// BenchmarkAppendSerial: one editor waiting for each commit.
func BenchmarkAppendSerial(b *testing.B) {
	db, _ := openTemp(b, Options{})
	lat := make([]time.Duration, 0, b.N)
	n := 0
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		rec := storage.Record{Rev: uint64(i + 1), Op: insertOp(n, n, "ab"), Client: "c", Seq: uint64(i + 1)}
		t0 := time.Now()
		if err := db.Append(ctx, "doc", []storage.Record{rec}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		n += 2
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLoad loads a document with long history, at the worst point:
// SnapshotEvery-1 ops after its newest snapshot.
func BenchmarkLoad(b *testing.B) {
	for _, history := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("history=%d", history), func(b *testing.B) {
			// Snapshots by hand, so the newest is at history exactly and
			// SnapshotEvery-1 ops follow it: the worst case for Load.
			opts := Options{SnapshotEvery: 1000}
			db, _ := openTemp(b, Options{SnapshotEvery: 1 << 30})
			length := 0
			for rev := 0; rev < history; rev += 1000 {
				length = extendHistory(b, db, "doc", rev, 1000, length)
				db.snapshotAll(map[string]uint64{"doc": 1}, true)
			}
			length = extendHistory(b, db, "doc", history, opts.SnapshotEvery-1, length)
			db = reopen(b, db, opts)
			revs, m := snapRevs(b, db, "doc")
			loadLoop(b, db, "doc", length)
			b.ReportMetric(float64(m.Rev-revs[len(revs)-1]), "ops-replayed")
			b.ReportMetric(float64(length), "chars")
		})
	}
}

// BenchmarkLoadAtCap loads the largest document a server accepts by
// default (16 MiB) at the worst point the snapshot rule allows: edited a
// keystroke at a time, its ops are too small for a snapshot by bytes, so
// SnapshotCap-1 of them follow its newest snapshot. For comparison: right
// after a snapshot, and SnapshotEvery-1 ops after it.
func BenchmarkLoadAtCap(b *testing.B) {
	opts := Options{SnapshotEvery: 1000}.withDefaults()
	for _, after := range []int{0, opts.SnapshotEvery - 1, opts.SnapshotCap - 1} {
		b.Run(fmt.Sprintf("after=%d", after), func(b *testing.B) {
			db, _ := openTemp(b, Options{SnapshotEvery: 1 << 30})
			text := strings.Repeat("wörd ", 16<<20/6)
			length := utf8.RuneCountInString(text)
			first := storage.Record{Rev: 1, Op: insertOp(0, 0, text), Client: "c", Author: "c", Seq: 1}
			if err := db.Append(ctx, "doc", []storage.Record{first}); err != nil {
				b.Fatal(err)
			}
			db.snapshotAll(map[string]uint64{"doc": 1}, true)
			if after > 0 {
				length = extendHistory(b, db, "doc", 1, after, length)
			}
			db = reopen(b, db, opts)
			_, m := snapRevs(b, db, "doc")
			if opts.snapshotDue(m) {
				b.Fatalf("a snapshot is due at %d ops after the newest", m.Rev-m.snapRev)
			}
			loadLoop(b, db, "doc", length)
			b.ReportMetric(float64(m.Rev-m.snapRev), "ops-replayed")
			b.ReportMetric(float64(m.snapBytes), "snapshot-bytes")
			b.ReportMetric(float64(m.opBytes), "op-bytes")
		})
	}
}

// extendHistory appends count editing ops (typing at a moving cursor,
// with some deletions) after rev in batches of 1000; it returns the length.
func extendHistory(b *testing.B, db *DB, id string, rev, count, length int) int {
	return extendHistoryBy(b, db, id, []string{"c"}, rev, count, length)
}

// extendHistoryBy is extendHistory with the editing passing between
// clients, each moving the cursor when it takes over.
func extendHistoryBy(b *testing.B, db *DB, id string, clients []string, rev, count, length int) int {
	rng := rand.New(rand.NewPCG(uint64(rev), 7))
	cursor := length / 2
	client := clients[0]
	var batch []storage.Record
	for i := 1; i <= count; i++ {
		if rng.IntN(50) == 0 {
			cursor = rng.IntN(length + 1)
			client = clients[rng.IntN(len(clients))]
		}
		var op ot.Op
		if rng.IntN(8) == 0 && cursor > 0 {
			op = deleteOp(length, cursor-1, 1)
			cursor--
			length--
		} else {
			op = insertOp(length, cursor, words[rng.IntN(len(words))])
			cursor += op.TargetLen() - length
			length = op.TargetLen()
		}
		batch = append(batch, storage.Record{Rev: uint64(rev + i), Op: op, Client: client, Author: client, Seq: uint64(rev + i)})
		if len(batch) == 1000 || i == count {
			if err := db.Append(ctx, id, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	return length
}

var words = []string{"w", "wö", "wör", "wörd ", "😀"}

// BenchmarkBoltBaseline is bare bbolt on the same disk, for reading the
// figures above: one small put per transaction, and 100.
func BenchmarkBoltBaseline(b *testing.B) {
	for _, per := range []int{1, 100} {
		b.Run(fmt.Sprintf("puts-per-tx=%d", per), func(b *testing.B) {
			db, err := bbolt.Open(filepath.Join(b.TempDir(), "bare.db"), 0o600, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			key := 0
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i += per {
				err := db.Update(func(tx *bbolt.Tx) error {
					bk, err := tx.CreateBucketIfNotExists([]byte("b"))
					for j := 0; j < per && err == nil; j++ {
						key++
						err = bk.Put(binary.BigEndian.AppendUint64(nil, uint64(key)), make([]byte, 40))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "puts/s")
		})
	}
}

// boltSpill is how many pages bbolt has written for nodes since Open.
func boltSpill(db *DB) int64 {
	s := db.bbolt.Stats()
	return s.TxStats.GetSpill()
}

// BenchmarkLoadFromLog loads a document whose newest ops are still in the
// write-ahead log, as many as a checkpoint lets wait by default: Load
// applies them from memory after reading the stored part.
func BenchmarkLoadFromLog(b *testing.B) {
	opts := Options{SnapshotEvery: 1000, CheckpointEvery: 1 << 30}
	db, _ := openTemp(b, opts)
	length := extendHistory(b, db, "doc", 0, 1000, 0)
	db.snapshotAll(map[string]uint64{"doc": 1}, true)
	const inLog = 8192
	length = extendHistory(b, db, "doc", 1000, inLog, length)
	db.memMu.RLock()
	pending := db.pendRecs
	db.memMu.RUnlock()
	if pending != inLog {
		b.Fatalf("%d records in the log, want %d", pending, inLog)
	}
	loadLoop(b, db, "doc", length)
	b.ReportMetric(inLog, "ops-in-log")
	b.ReportMetric(float64(length), "chars")
}

// loadLoop times b.N loads of document id, which must have length code points.
func loadLoop(b *testing.B, db *DB, id string, length int) {
	b.Helper()
	b.ResetTimer()
	for range b.N {
		d, err := db.Load(ctx, id)
		if err != nil || d.Length != length {
			b.Fatalf("Load: len %d, %v", d.Length, err)
		}
	}
	b.StopTimer()
}

// BenchmarkCheckpointStall: while a checkpoint moves 8,000 logged records
// of 2,000 documents into their layout, one writer appends to another
// document as fast as its commits return. ns/op is the checkpoint;
// max-stall-ms is the writer's longest Append, the most a commit waited
// for the checkpoint.
func BenchmarkCheckpointStall(b *testing.B) {
	const docs, perDoc = 2000, 4
	db, _ := openTemp(b, Options{CheckpointEvery: 1 << 30, SnapshotEvery: 1 << 30})
	var worst, total time.Duration
	probeRev := 0 // the probe document's revision, its length too
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		fillLog(b, db, docs, perDoc, i)
		stop := make(chan struct{})
		var stall time.Duration
		var wg sync.WaitGroup
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				n := probeRev
				probeRev++
				start := time.Now()
				rec := storage.Record{Rev: uint64(probeRev), Op: insertOp(n, n, "p"), Client: "p", Seq: uint64(probeRev)}
				if err := db.Append(ctx, "probe", []storage.Record{rec}); err != nil {
					b.Error(err)
					return
				}
				stall = max(stall, time.Since(start))
			}
		})
		b.StartTimer()
		start := time.Now()
		if err := db.checkpoint(); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
		b.StopTimer()
		close(stop)
		wg.Wait()
		worst = max(worst, stall)
		b.StartTimer()
	}
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-stall-ms")
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "checkpoint-ms")
}

// fillLog appends perDoc records to each of docs documents (round round),
// with many writers so that group commits fill the log quickly.
func fillLog(b *testing.B, db *DB, docs, perDoc, round int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			for d := next.Add(1) - 1; d < int64(docs); d = next.Add(1) - 1 {
				id := fmt.Sprintf("doc%05d", d)
				recs := make([]storage.Record, perDoc)
				for j := range recs {
					rev := round*perDoc + j + 1
					recs[j] = storage.Record{Rev: uint64(rev), Op: insertOp(rev-1, rev-1, "x"), Client: "c", Seq: uint64(rev)}
				}
				if err := db.Append(ctx, id, recs); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
