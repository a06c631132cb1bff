package memory_test

import (
	"context"
	"fmt"
	"log"

	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
	"github.com/collabd/collab/storage/memory"
)

func Example() {
	st := memory.New()
	ctx := context.Background()

	var b1, b2 ot.Builder
	recs := []storage.Record{
		{Rev: 1, Op: b1.Insert("hello").Op(), Client: "tab-1", Seq: 1},
		{Rev: 2, Op: b2.Retain(5).Insert(", world").Op(), Client: "tab-1", Seq: 2},
	}
	if err := st.Append(ctx, "notes", recs); err != nil {
		log.Fatal(err)
	}
	doc, _ := st.Load(ctx, "notes")
	seq, rev, _ := st.ClientSeq(ctx, "notes", "tab-1")
	fmt.Printf("%q at rev %d; tab-1 last seq %d (rev %d)\n", doc.Text, doc.Rev, seq, rev)
	// Output: "hello, world" at rev 2; tab-1 last seq 2 (rev 2)
}
