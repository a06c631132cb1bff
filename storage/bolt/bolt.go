// Package storage keeps collaborative documents durably in one bbolt file:
// each document's op log, periodic snapshots of its text, its metadata and,
// per editing client, the last sequence number committed, so that an op
// resubmitted after a reconnect or a restart is recognised even after old
// history has been pruned.
//
// # Durability contract
//
// Append returns only after the bbolt transaction holding its records has
// committed (bbolt fsyncs the file on every commit; NoSync is never used).
// An acknowledgement sent after Append returns therefore survives a process
// crash, kill -9 or a power cut short of a lost or lying disk. Appends that
// arrive together, for one document or many, share one transaction (group
// commit), so a busy server pays one commit for many ops; after a commit of
// several writers the next waits up to Options.CommitInterval for as many
// to queue again, which a lone writer never does. A write that does not
// continue its document's log fails alone with ErrConflict and the rest of
// its group commits. The crash tests kill a writer process with SIGKILL
// mid-write and mid-checkpoint and prove that every acknowledged op
// survives exactly once and that the file recovers consistent; they cannot
// prove that data reached the platter, since the kernel still flushes its
// page cache after the process dies. That part rests on bbolt's fdatasync.
//
// # Write-ahead log
//
// A group commit writes every record of the group, whatever its document,
// into one append-only bucket "log" under a global, increasing sequence
// number, so it dirties the log's last leaf or two (plus the pages above
// them) however many documents it touches; writing each record into its
// document's key range instead costs about one leaf per document and
// commit, which capped durable throughput across many active documents.
// Writes are validated (revision continuity, base length, growing client
// sequence numbers) against each document's head kept in memory while it
// has records in the log, loaded from the file on first touch.
//
// A checkpoint moves the whole log into the per-document layout below, so
// each document's leaf is rewritten once for many ops. It runs in the
// background when the log holds Options.CheckpointEvery records, before
// snapshots, on Close and, for the records of a killed process, in Open
// before anything is served. It commits in steps, and commits go on
// between them: one transaction per slice of 128 documents writes their
// records into their layout, then one deletes the moved records from the
// log. A record both moved and still logged is known for what it is: its
// document's stored revision already covers it, so readers and Open take
// it once, and Open deletes it. A crash at any step loses and doubles
// nothing. Until a record is moved readers merge each document's stored
// records with its records in the log, by revision. Delete removes a
// document's log records, moved or not, in the same transaction as the
// rest of it.
//
// The free-page list is written at each commit (bbolt's default), so Open
// reads it instead of walking the whole file, which takes seconds on a
// large file (minutes out of the page cache); the list costs each group
// commit about one more page write, not another fdatasync.
//
// # On-disk layout
//
// Top-level bucket "info" holds key "format" = 3 (the file layout; values
// carry a format byte of their own; a format-2 file, the same without the
// log, is upgraded on Open). Bucket "log" holds the records not yet
// checkpointed; five more top-level buckets hold every document, under
// keys that start with the document id (ids never contain NUL, and bytes
// 0xFE and 0xFF never occur in UTF-8); rev and seq are big-endian uint64,
// so each document's ops are contiguous and in revision order:
//
//	log     seq                    -> document id string, rev uv, record
//	ids     id                     -> empty (the document list)
//	recs    id 0x00 rev            -> record of the op that produced rev
//	recs    id 0xFE client id      -> last committed sequence number and its rev
//	recs    id 0xFF                -> metadata
//	snaps   id 0x00 rev            -> full text at rev
//	authors id 0x00 rev            -> authorship of the text at rev (beside each snapshot)
//	versions id 0x00 rev           -> named version: its name, text and authorship
//
// A checkpoint rewrites a document's newest ops, its client records and its
// metadata; keeping them adjacent in one bucket puts them in one leaf page
// (two at most, unless other ids extend this one, as "notes-2" extends
// "notes"). Snapshots, large and rare, live apart so that they do not
// spread the ops over more pages. Bucket ids changes only when a document
// is created (at its first checkpoint) or deleted and lets List and Prune
// walk the documents without reading their ops. Buckets authors and
// versions came after layout 3 was first released; Open adds them to files
// without them. Authorship is saved with each snapshot and pruned with it;
// named versions are never pruned, so their texts stay readable below the
// cut.
//
// Values are compact binary: a format byte 0x01, then fields as unsigned
// varints (uv), signed varints (v, Unix nanoseconds, 0 for the zero time) or
// strings (uv byte length, then UTF-8 bytes):
//
//	meta:    gen uv, rev uv, length uv, created v, updated v, snapRev uv, cut uv,
//	         opBytes uv, snapBytes uv (the last two absent in older files)
//	record:  time v, seq uv, author string, client string, n uv,
//	         then n components: kind byte (1 retain, 2 insert, 3 delete),
//	         followed by count uv (retain, delete) or text string (insert)
//	snap:    length uv (code points), then the text's UTF-8 bytes to the end
//	authors: n uv, then n (client string, author string), then m uv, then
//	         m spans (length uv, index of its pair uv), in text order
//	version: created v, name string, author string, text string, then an
//	         authors value (with its format byte) to the end
//	client:  seq uv, rev uv
//
// A log value has no format byte of its own: the record it ends with has.
// gen distinguishes a document from an earlier one deleted under the same
// id (it comes from the ids bucket's sequence). Ops with revision <= cut
// have been pruned and a snapshot at cut exists (cut 0 means the full
// history is kept). Lengths and positions count Unicode code points. A
// value that cannot be decoded makes its document fail with ErrCorrupt;
// other documents are unaffected.
//
// opBytes is the stored bytes of the ops after snapRev, snapBytes those
// of the snapshot at snapRev with its authorship.
//
// The store takes snapshots itself, in a background goroutine that never
// holds up commits for long, when a checkpoint or a load finds that the
// ops after a document's newest snapshot call for one: at least
// Options.SnapshotEvery (1,000) of them taking at least 1/SnapshotRatio
// (1/4) of that snapshot's bytes, or SnapshotCap (64,000) of them
// whatever their bytes. Each snapshot but the newest thus takes at most
// SnapshotRatio times the bytes of the ops up to the next, except where
// the cap brought the next. Loading a document costs one snapshot read
// plus the stored ops after it, at most about SnapshotCap (about
// SnapshotEvery where the ops are large against the text), and the
// records still in the log, whatever the length of its history.
package bolt

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/collabd/collab/storage"
)

// Options tune a DB. The zero value is usable.
type Options struct {
	// SnapshotEvery is how many ops must follow a document's newest
	// snapshot before the store takes another. Default 1000.
	SnapshotEvery int
	// SnapshotRatio bounds the disk snapshots take by the disk of the ops
	// they follow: a snapshot is taken only once the ops after the newest
	// one take at least 1/SnapshotRatio of that one's bytes (its text and
	// authorship), so that every snapshot but the newest takes at most
	// SnapshotRatio times the bytes of the ops up to the next. Without it
	// a large text edited a keystroke at a time would be copied every
	// SnapshotEvery ops. Default 4; negative: no byte rule.
	SnapshotRatio int
	// SnapshotCap is how many ops after a document's newest snapshot
	// bring another whatever their bytes, so that a load never replays
	// many more. Default 64 × SnapshotEvery; at least SnapshotEvery.
	SnapshotCap int
	// KeepOps and KeepFor bound the history kept per document: ops beyond
	// the newest KeepOps and older than KeepFor are pruned (with both set,
	// an op goes only when both windows have passed it). Zero keeps all.
	// Pruning cuts only at a snapshot, so up to the ops between two
	// snapshots more may be kept (at most about SnapshotCap).
	KeepOps int
	KeepFor time.Duration
	// LockTimeout is how long Open waits for another process to release
	// the file. Default 1 s.
	LockTimeout time.Duration
	// CheckpointEvery is how many records may wait in the write-ahead log
	// before a checkpoint moves them into their documents. Default 8192.
	CheckpointEvery int
	// CheckpointBytes is how many bytes of records (their ops in memory
	// plus their encoding, see Stats.LogBytes) may wait in the log before
	// a checkpoint starts, whatever their count: the log's records are
	// held in memory until moved. At twice as many, commits wait for a
	// checkpoint, so the log never holds much more than that in memory
	// (or in the file at Open). Default 64 MiB.
	CheckpointBytes int
	// MaxBatch caps how many Append calls share one transaction. Default 1000.
	MaxBatch int
	// InitialMmapSize reserves address space so the file can grow without
	// remapping, which waits for open read transactions such as a backup.
	// Default 256 MiB.
	InitialMmapSize int
	// CommitInterval is the longest a group commit waits, after a commit
	// of several writers' writes, for as many writes to queue again,
	// counted from the start of that commit. On a fast disk a commit is
	// over in 0.3-0.5 ms but costs about 150 µs of CPU (its pages and two
	// fdatasyncs), so without the wait many writers at a moderate rate
	// commit in groups of two or three, and commits take much of the CPU.
	// A lone writer never waits, and writers that wait for each commit are
	// back before the interval ends. Default 2 ms; negative: no wait.
	CommitInterval time.Duration
}

func (o Options) withDefaults() Options {
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = 1000
	}
	if o.SnapshotRatio == 0 {
		o.SnapshotRatio = 4
	}
	if o.SnapshotCap <= 0 {
		o.SnapshotCap = 64 * o.SnapshotEvery
	}
	o.SnapshotCap = max(o.SnapshotCap, o.SnapshotEvery)
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 8192
	}
	if o.CheckpointBytes <= 0 {
		o.CheckpointBytes = 64 << 20
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1000
	}
	if o.InitialMmapSize <= 0 {
		o.InitialMmapSize = 256 << 20
	}
	if o.CommitInterval == 0 {
		o.CommitInterval = 2 * time.Millisecond
	}
	return o
}

var (
	bucketInfo  = []byte("info")
	bucketIDs   = []byte("ids")
	bucketRecs  = []byte("recs")
	bucketSnaps = []byte("snaps")
	bucketLog   = []byte("log")
	keyFormat   = []byte("format")
	// Added to layout 3 later; Open creates them in older files.
	bucketAuthors  = []byte("authors")
	bucketVersions = []byte("versions")
)

// DB is a document store in one bbolt file. All methods are safe for
// concurrent use.
type DB struct {
	bbolt *bbolt.DB
	path  string
	opts  Options

	qmu      sync.Mutex
	queue    []*write       // guarded by qmu: Appends waiting for commitLoop
	qclosed  bool           // guarded by qmu: Close has begun; nothing more is queued
	qwant    int            // guarded by qmu: queue length that wakes a pausing commitLoop (0: any)
	qwake    chan struct{}  // capacity 1: wakes commitLoop
	quit     chan struct{}  // closed by Close: commitLoop commits what is queued and ends
	bgQuit   chan struct{}  // closed by Close after commitLoop ended: stops bgLoop
	commitWG sync.WaitGroup // commitLoop
	bgWG     sync.WaitGroup // bgLoop

	// wmu serialises the transactions that read or change the log's
	// in-memory index (commits, checkpoints, Delete) with the changes to
	// it, so that a commit validates against the state on disk plus pend.
	wmu sync.Mutex
	// memMu guards pend and the counters below for readers; writers
	// change them holding wmu too.
	memMu    sync.RWMutex
	pend     map[string]*pending // doc id -> records in the log; guarded by memMu
	pendRecs int                 // records in pend; guarded by memMu
	pendSize int                 // recordSize of the records in pend; guarded by memMu
	logKeys  int                 // keys in bucket log; guarded by memMu
	logNext  uint64              // next log key; guarded by wmu
	ckWake   chan struct{}       // capacity 1: wakes bgLoop to checkpoint
	ckMu     sync.Mutex          // one checkpoint at a time: they let go of wmu between transactions
	// afterSlice, when set (by tests), runs after each checkpoint slice.
	afterSlice func()
	// pause is waitWake, or what tests make of it; beforeCommit, when set
	// (by tests), runs before each group commit with its size.
	pause        func(time.Duration) bool
	beforeCommit func(n int)
	deletes      atomic.Uint64 // odd while a Delete runs, +2 per Delete: a seqlock for readers

	closeMu sync.Mutex // serialises Close
	closed  atomic.Bool

	snapMu   sync.Mutex
	snapDue  map[string]uint64 // doc id -> gen awaiting a snapshot; guarded by snapMu
	snapWake chan struct{}     // capacity 1: wakes snapLoop

	stats stats
}

// Open opens or creates the database file at path. If another process
// holds it, Open fails after Options.LockTimeout with an error wrapping
// ErrLocked.
func Open(path string, opts Options) (*DB, error) {
	opts = opts.withDefaults()
	b, err := openBolt(path, opts.LockTimeout, false, opts.InitialMmapSize)
	if err != nil {
		return nil, err
	}
	if err := initBuckets(b); err != nil {
		b.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db := &DB{
		bbolt:    b,
		path:     path,
		opts:     opts,
		qwake:    make(chan struct{}, 1),
		quit:     make(chan struct{}),
		bgQuit:   make(chan struct{}),
		snapDue:  make(map[string]uint64),
		snapWake: make(chan struct{}, 1),
		pend:     make(map[string]*pending),
		ckWake:   make(chan struct{}, 1),
	}
	db.pause = db.waitWake
	// Recovery: the records of the last run still in the log go into
	// their documents before anything is served.
	err = db.loadLog()
	if err == nil {
		err = db.checkpoint()
	}
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	db.commitWG.Add(1)
	go db.commitLoop()
	db.bgWG.Add(1)
	go db.bgLoop()
	return db, nil
}

func openBolt(path string, timeout time.Duration, readOnly bool, mmap int) (*bbolt.DB, error) {
	b, err := bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:         timeout,
		ReadOnly:        readOnly,
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: mmap,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", storage.ErrLocked, path)
	}
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", path, err)
	}
	return b, nil
}

func initBuckets(b *bbolt.DB) error {
	return b.Update(func(tx *bbolt.Tx) error {
		info, err := tx.CreateBucketIfNotExists(bucketInfo)
		if err != nil {
			return err
		}
		switch v := info.Get(keyFormat); {
		case len(v) == 1 && v[0] == 2:
			// Layout 2 is layout 3 without the log: upgrade in place.
			fallthrough
		case v == nil:
			if err := info.Put(keyFormat, []byte{fileFormat}); err != nil {
				return err
			}
		case len(v) != 1 || v[0] != fileFormat:
			return fmt.Errorf("%w: unknown file format %x", storage.ErrCorrupt, v)
		}
		for _, name := range [][]byte{bucketIDs, bucketRecs, bucketSnaps, bucketLog, bucketAuthors, bucketVersions} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
}

// Path is the file the DB was opened from.
func (db *DB) Path() string { return db.path }

// Close waits for pending commits and the snapshot goroutine, then closes
// the file. Calls after Close return ErrClosed.
func (db *DB) Close() error {
	db.closeMu.Lock()
	defer db.closeMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	db.closed.Store(true)
	db.qmu.Lock()
	db.qclosed = true
	db.qmu.Unlock()
	close(db.quit)
	db.commitWG.Wait()
	close(db.bgQuit)
	db.bgWG.Wait()
	if err := db.bbolt.Close(); err != nil {
		return fmt.Errorf("storage: close: %w", err)
	}
	return nil
}

// view and update run fn in a transaction, reporting ErrClosed after Close.
func (db *DB) view(fn func(tx *bbolt.Tx) error) error {
	if db.closed.Load() {
		return storage.ErrClosed
	}
	return closedErr(db.bbolt.View(fn))
}

func (db *DB) update(fn func(tx *bbolt.Tx) error) error {
	if db.closed.Load() {
		return storage.ErrClosed
	}
	return closedErr(db.bbolt.Update(fn))
}

func closedErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return storage.ErrClosed
	}
	return err
}

// Check runs bbolt's consistency check over the whole file and returns
// every problem found, joined. It runs in a write transaction that it rolls
// back: bbolt's check reads the freelist, which only the writer may touch,
// so commits wait while it runs.
func (db *DB) Check() error {
	if db.closed.Load() {
		return storage.ErrClosed
	}
	tx, err := db.bbolt.Begin(true)
	if err != nil {
		return closedErr(err)
	}
	defer tx.Rollback()
	var errs []error
	for err := range tx.Check() {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("storage: consistency check: %w", errors.Join(errs...))
	}
	return nil
}

// Backup writes a consistent copy of the database file to w while the
// store keeps serving reads and writes, and returns the bytes written. The
// copy holds every op whose Append returned before Backup was called.
func (db *DB) Backup(w io.Writer) (int64, error) {
	var n int64
	err := db.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("storage: backup: %w", err)
	}
	return n, nil
}

// Compact copies the database at src into a new file dst, leaving out the
// free pages of deleted documents and pruned history: bbolt files never
// shrink otherwise. src must not be open in any process; dst must not
// exist.
func Compact(dst, src string) (err error) {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("storage: compact: %s already exists", dst)
	}
	s, err := openBolt(src, time.Second, true, 0)
	if err != nil {
		return err
	}
	defer s.Close()
	d, err := openBolt(dst, time.Second, false, 0)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := d.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("storage: compact: %w", cerr)
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	if err := bbolt.Compact(d, s, 64<<20); err != nil {
		return fmt.Errorf("storage: compact %s: %w", src, err)
	}
	return nil
}

var (
	_ storage.Store         = (*DB)(nil)
	_ storage.AsyncAppender = (*DB)(nil)
	_ storage.OpsReader     = (*DB)(nil)
	_ storage.HistoryStore  = (*DB)(nil)
	_ storage.Backuper      = (*DB)(nil)
	_ storage.Collector     = (*DB)(nil)
)
