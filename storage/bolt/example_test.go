package bolt_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/bolt"
)

func Example() {
	dir, _ := os.MkdirTemp("", "bolt-example")
	defer os.RemoveAll(dir)
	db, err := bolt.Open(filepath.Join(dir, "collab.db"), bolt.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()

	var b1, b2 ot.Builder
	recs := []storage.Record{
		{Rev: 1, Op: b1.Insert("hello").Op(), Client: "tab-1", Seq: 1},
		{Rev: 2, Op: b2.Retain(5).Insert(", world").Op(), Client: "tab-1", Seq: 2},
	}
	// Append returns once the records are committed to disk.
	if err := db.Append(ctx, "notes", recs); err != nil {
		log.Fatal(err)
	}
	doc, _ := db.Load(ctx, "notes")
	seq, rev, _ := db.ClientSeq(ctx, "notes", "tab-1")
	fmt.Printf("%q at rev %d; tab-1 last seq %d (rev %d)\n", doc.Text, doc.Rev, seq, rev)
	// Output: "hello, world" at rev 2; tab-1 last seq 2 (rev 2)
}
