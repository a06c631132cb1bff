package bolt

import (
	"context"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/collabd/collab/storage"
)

// diskOf reads, after a checkpoint, the bytes document id's snapshots
// (with their authorship) and ops take in the file, by revision.
func diskOf(t testing.TB, db *DB, id string) (snaps, ops map[uint64]int) {
	t.Helper()
	if err := db.checkpoint(); err != nil {
		t.Fatal(err)
	}
	snaps, ops = map[uint64]int{}, map[uint64]int{}
	err := db.view(func(tx *bbolt.Tx) error {
		d := docIn(tx, id)
		c := d.snaps.Cursor()
		for k, v := c.Seek(d.prefix); k != nil; k, v = c.Next() {
			rev, ok := d.rev(k)
			if !ok {
				break
			}
			snaps[rev] = len(v) + len(d.authors.Get(k))
		}
		c = d.ops.Cursor()
		for k, v := c.Seek(d.prefix); k != nil; k, v = c.Next() {
			rev, ok := d.rev(k)
			if !ok {
				break
			}
			ops[rev] = len(v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snaps, ops
}

// TestSnapshotBytesBoundedByOps: on a large text edited a keystroke at a
// time, a snapshot follows the one before only once the ops between them
// take at least 1/SnapshotRatio of that one's bytes, so that snapshots
// other than the newest take at most SnapshotRatio times the disk of the
// ops. Before the rule a snapshot came every SnapshotEvery ops whatever
// their size: here 100 copies of the 40 KB text for 1,000 keystrokes.
func TestSnapshotBytesBoundedByOps(t *testing.T) {
	const every, ratio, keys = 10, 4, 1000
	// Checkpoints, which request snapshots, as often as a busy server's.
	opts := Options{SnapshotEvery: every, CheckpointEvery: every, SnapshotCap: 1 << 20}
	db, want := keystrokeDoc(t, opts, keys)
	snaps, ops := diskOf(t, db, "doc")
	checkSnapshotRule(t, snaps, ops, ratio, opts.SnapshotCap)
	// The first after the 40 KB insert, then one per ~10 KB of keystrokes
	// (~330): 3, or 2 if the background snapshots lag far behind.
	if len(snaps) < 2 || len(snaps) > 5 {
		t.Errorf("%d snapshots after %d keystrokes, want 2 to 5: %v", len(snaps), keys, snaps)
	}
	checkMeasured(t, db, "doc")
	checkLoad(t, db, want, 1+keys)
}

// TestSnapshotCap: ops too small for the byte rule still bring a
// snapshot every SnapshotCap of them, so a load replays at most about
// that many.
func TestSnapshotCap(t *testing.T) {
	const every, capOps, keys = 10, 50, 300
	opts := Options{SnapshotEvery: every, CheckpointEvery: every, SnapshotCap: capOps}
	db, want := keystrokeDoc(t, opts, keys)
	snaps, ops := diskOf(t, db, "doc")
	checkSnapshotRule(t, snaps, ops, 4, capOps)
	prev := uint64(0)
	for rev := uint64(1); rev <= 1+keys; rev++ {
		if _, ok := snaps[rev]; ok {
			prev = rev
		}
		// A checkpoint requests a snapshot when it finds SnapshotCap ops:
		// up to CheckpointEvery more come meanwhile.
		if rev-prev > capOps+every {
			t.Fatalf("revision %d is %d ops after the snapshot at %d, want at most %d: snapshots %v", rev, rev-prev, prev, capOps+every, snaps)
		}
	}
	if _, m := snapRevs(t, db, "doc"); m.Rev-m.snapRev >= capOps {
		t.Errorf("head %d, newest snapshot %d after Close: want fewer than %d ops to replay", m.Rev, m.snapRev, capOps)
	}
	checkLoad(t, db, want, 1+keys)
}

// keystrokeDoc writes document "doc": 40,000 code points in one op, then
// keys one-character inserts in its middle, and reopens the store (Close
// takes the snapshots still requested). It returns the text.
func keystrokeDoc(t *testing.T, opts Options, keys int) (*DB, string) {
	t.Helper()
	db, _ := openTemp(t, opts)
	text := strings.Repeat("x", 40_000)
	first := storage.Record{Rev: 1, Op: insertOp(0, 0, text), Author: "ann", Client: "c", Seq: 1}
	if err := db.Append(context.Background(), "doc", []storage.Record{first}); err != nil {
		t.Fatal(err)
	}
	for i := range keys {
		rev := uint64(i) + 2
		n := len(text)
		rec := storage.Record{Rev: rev, Op: insertOp(n, n/2, "k"), Author: "ann", Client: "c", Seq: rev}
		if err := db.Append(context.Background(), "doc", []storage.Record{rec}); err != nil {
			t.Fatalf("Append rev %d: %v", rev, err)
		}
		text = text[:n/2] + "k" + text[n/2:]
	}
	return reopen(t, db, opts), text
}

func checkLoad(t *testing.T, db *DB, want string, rev uint64) {
	t.Helper()
	d, err := db.Load(context.Background(), "doc")
	if err != nil || d.Rev != rev || d.Text != want {
		t.Fatalf("Load = rev %d, %d bytes, %v; want rev %d, %d bytes", d.Rev, len(d.Text), err, rev, len(want))
	}
}

// checkSnapshotRule checks that each snapshot but the first follows the
// one before by at least 1/ratio of its bytes in ops, or by capOps ops.
func checkSnapshotRule(t *testing.T, snaps, ops map[uint64]int, ratio, capOps int) {
	t.Helper()
	prev, prevSize := uint64(0), 0
	for rev := uint64(1); rev <= uint64(len(ops)); rev++ {
		size, ok := snaps[rev]
		if !ok {
			continue
		}
		opBytes := 0
		for r := prev + 1; r <= rev; r++ {
			opBytes += ops[r]
		}
		if ratio*opBytes < prevSize && rev-prev < uint64(capOps) {
			t.Errorf("snapshot at %d (%d bytes) follows the one at %d (%d bytes) after %d ops of %d bytes: want at least %d bytes or %d ops",
				rev, size, prev, prevSize, rev-prev, opBytes, prevSize/ratio, capOps)
		}
		prev, prevSize = rev, size
	}
}

// checkMeasured checks that document id's metadata counts the bytes of
// its newest snapshot and of the ops after it as the file holds them.
func checkMeasured(t *testing.T, db *DB, id string) {
	t.Helper()
	snaps, ops := diskOf(t, db, id)
	_, m := snapRevs(t, db, id)
	opBytes := 0
	for rev := m.snapRev + 1; rev <= m.Rev; rev++ {
		opBytes += ops[rev]
	}
	if !m.sized || m.opBytes != uint64(opBytes) || m.snapBytes != uint64(snaps[m.snapRev]) {
		t.Errorf("metadata sized %v, %d op bytes, %d snapshot bytes; the file holds %d and %d",
			m.sized, m.opBytes, m.snapBytes, opBytes, snaps[m.snapRev])
	}
}

// TestSnapshotBytesOfOlderMetadata: metadata written before the store
// counted bytes (without its last two fields) still loads; the next
// checkpoint measures the document from the file and counts on from there.
func TestSnapshotBytesOfOlderMetadata(t *testing.T) {
	opts := Options{SnapshotEvery: 10, CheckpointEvery: 10, SnapshotCap: 1 << 20}
	db, want := keystrokeDoc(t, opts, 25)
	checkMeasured(t, db, "doc")
	db.Close()
	rawDoc(t, db.Path(), "doc", func(d doc) error {
		m, err := decodeMeta("doc", d.meta.Get(d.metaKey()))
		if err != nil {
			return err
		}
		m.sized = false
		return d.putMeta(m)
	})
	db, err := Open(db.Path(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, m := snapRevs(t, db, "doc"); m.sized {
		t.Fatal("older metadata decoded as measured")
	}
	checkLoad(t, db, want, 26)
	n := len(want)
	rec := storage.Record{Rev: 27, Op: insertOp(n, 0, "k"), Author: "ann", Client: "c", Seq: 27}
	if err := db.Append(context.Background(), "doc", []storage.Record{rec}); err != nil {
		t.Fatal(err)
	}
	checkMeasured(t, db, "doc")
	checkLoad(t, db, "k"+want, 27)
}

// TestSnapshotDefaults: the byte rule's ratio is 4 and the cap 64 ×
// SnapshotEvery unless set, and never below SnapshotEvery.
func TestSnapshotDefaults(t *testing.T) {
	for _, tt := range []struct {
		in                Options
		every, ratio, cap int
	}{
		{Options{}, 1000, 4, 64_000},
		{Options{SnapshotEvery: 10}, 10, 4, 640},
		{Options{SnapshotEvery: 10, SnapshotRatio: -1, SnapshotCap: 5}, 10, -1, 10},
	} {
		o := tt.in.withDefaults()
		if o.SnapshotEvery != tt.every || o.SnapshotRatio != tt.ratio || o.SnapshotCap != tt.cap {
			t.Errorf("%+v: every %d, ratio %d, cap %d; want %d, %d, %d", tt.in, o.SnapshotEvery, o.SnapshotRatio, o.SnapshotCap, tt.every, tt.ratio, tt.cap)
		}
	}
}

// TestSnapshotDue: the rule on metadata alone, including a negative
// ratio (count only) and metadata not measured yet (count only).
func TestSnapshotDue(t *testing.T) {
	o := Options{SnapshotEvery: 10, SnapshotCap: 100}.withDefaults()
	off := Options{SnapshotEvery: 10, SnapshotCap: 100, SnapshotRatio: -1}.withDefaults()
	meta := func(ops, opBytes, snapBytes uint64, sized bool) docMeta {
		return docMeta{Meta: storage.Meta{Rev: 1000 + ops}, snapRev: 1000, opBytes: opBytes, snapBytes: snapBytes, sized: sized}
	}
	for _, tt := range []struct {
		o    Options
		m    docMeta
		want bool
	}{
		{o, meta(9, 1000, 100, true), false},  // too few ops
		{o, meta(10, 25, 100, true), true},    // a quarter
		{o, meta(10, 24, 100, true), false},   // under a quarter
		{o, meta(99, 24, 100, true), false},   // under the cap
		{o, meta(100, 24, 100, true), true},   // the cap
		{o, meta(10, 0, 100, false), true},    // not measured: count only
		{off, meta(10, 0, 1<<30, true), true}, // no byte rule
	} {
		if got := tt.o.snapshotDue(tt.m); got != tt.want {
			t.Errorf("ratio %d, %d ops of %d bytes after %d (sized %v): due %v, want %v",
				tt.o.SnapshotRatio, tt.m.Rev-tt.m.snapRev, tt.m.opBytes, tt.m.snapBytes, tt.m.sized, got, tt.want)
		}
	}
}
