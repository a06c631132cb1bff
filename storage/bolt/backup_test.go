package bolt

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/collabd/collab/storage"
)

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestCompact deletes most documents; compaction gives a smaller file that
// holds the rest.
func TestCompact(t *testing.T) {
	db, path := openTemp(t, Options{SnapshotEvery: 50})
	big := strings.Repeat("lorem ipsum ", 100)
	for d := range 20 {
		id := fmt.Sprintf("d%02d", d)
		recs := make([]storage.Record, 200)
		n := 0
		for i := range recs {
			recs[i] = storage.Record{Rev: uint64(i + 1), Op: insertOp(n, n, big)}
			n += len(big)
		}
		if err := db.Append(ctx, id, recs); err != nil {
			t.Fatal(err)
		}
	}
	appendInserts(t, db, "keep", "c", 0, 30)
	for d := range 20 {
		if d == 7 {
			continue
		}
		if err := db.Delete(ctx, fmt.Sprintf("d%02d", d)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	dst := filepath.Join(t.TempDir(), "compact.db")
	if err := Compact(dst, path); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	before, after := fileSize(t, path), fileSize(t, dst)
	t.Logf("compacted %d -> %d bytes", before, after)
	if after*4 > before {
		t.Errorf("compacted file is %d bytes, from %d: want under a quarter", after, before)
	}
	db2, err := Open(dst, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Check(); err != nil {
		t.Error(err)
	}
	if d, err := db2.Load(ctx, "keep"); err != nil || d.Text != tokensText("keep", 30) {
		t.Errorf("Load(keep) = %q, %v", d.Text, err)
	}
	if seq, _, _ := db2.ClientSeq(ctx, "keep", "c"); seq != 30 {
		t.Errorf("ClientSeq(keep) = %d, want 30", seq)
	}
	if d, err := db2.Load(ctx, "d07"); err != nil || d.Rev != 200 || d.Length != 200*len(big) {
		t.Errorf("Load(d07) rev %d len %d, %v", d.Rev, d.Length, err)
	}
	if metas, _ := db2.List(ctx, "", 100); len(metas) != 2 {
		t.Errorf("compacted file lists %d documents, want 2", len(metas))
	}
	// A new document after compaction is a new incarnation, never an old one.
	appendInserts(t, db2, "d03", "c", 0, 1)
	_, m := snapRevs(t, db2, "d03")
	_, mk := snapRevs(t, db2, "keep")
	if m.gen <= mk.gen {
		t.Errorf("new document gen %d, not after %d", m.gen, mk.gen)
	}

	if err := Compact(dst, path); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("Compact onto an existing file = %v, want refusal", err)
	}
}

// TestBackupWhileWriting copies the store while writers go on: the copy
// opens, passes the consistency check and holds every op acknowledged
// before the backup began, each exactly once.
func TestBackupWhileWriting(t *testing.T) {
	db, _ := openTemp(t, Options{SnapshotEvery: 20})
	const writers = 6
	var acked [writers]atomic.Int64
	stop := make(chan struct{})
	warm := make(chan struct{}, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			id := fmt.Sprintf("w%d", w)
			n := 0
			for rev := 1; ; rev++ {
				select {
				case <-stop:
					return
				default:
				}
				tok := token(id, rev)
				if err := db.Append(ctx, id, []storage.Record{{Rev: uint64(rev), Op: insertOp(n, n, tok), Client: "c", Seq: uint64(rev)}}); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				n += len(tok)
				acked[w].Store(int64(rev))
				if rev == 30 {
					warm <- struct{}{}
				}
			}
		})
	}
	for range writers {
		<-warm
	}
	var before [writers]int64
	for w := range before {
		before[w] = acked[w].Load()
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Backup(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != fileSize(t, backup) {
		t.Errorf("Backup reported %d bytes, file has %d", n, fileSize(t, backup))
	}

	b, err := Open(backup, Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer b.Close()
	if err := b.Check(); err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		id := fmt.Sprintf("w%d", w)
		d, err := b.Load(ctx, id)
		if err != nil || d.Rev < uint64(before[w]) || d.Text != tokensText(id, int(d.Rev)) {
			t.Errorf("backup %s: rev %d, %v; want at least %d acknowledged before the backup, text %q", id, d.Rev, err, before[w], d.Text)
		}
		if seq, _, _ := b.ClientSeq(ctx, id, "c"); seq != d.Rev {
			t.Errorf("backup %s: ClientSeq %d, want %d", id, seq, d.Rev)
		}
	}
	if _, err := db.Load(ctx, "w0"); err != nil {
		t.Errorf("store after backup: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("store after backup: %v", err)
	}
}
