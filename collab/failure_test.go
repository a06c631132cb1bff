package collab

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

// flakyStore fails Append while fail is set.
type flakyStore struct {
	Store
	fail atomic.Bool
}

func (f *flakyStore) Append(ctx context.Context, id string, recs []storage.Record) error {
	if f.fail.Load() {
		return errors.New("disk on fire")
	}
	return f.Store.Append(ctx, id, recs)
}

// TestCommitFailure: an op whose commit fails is refused (unavailable),
// neither acknowledged nor broadcast; memory does not run ahead of disk and
// the same submit succeeds once the store recovers.
func TestCommitFailure(t *testing.T) {
	st := &flakyStore{Store: NewMemStore()}
	_, ts := startServer(t, st, Options{})
	a := connect(t, ts, "a")
	a.join("doc", nil)
	b := connect(t, ts, "b")
	b.join("doc", nil)
	a.submit("doc", 0, 1, insertAt(0, 0, "one "))
	a.ack(1)
	b.expect(wire.TypeOp, nil)

	st.fail.Store(true)
	a.submit("doc", 1, 2, insertAt(4, 4, "two "))
	if e := a.expectError(wire.CodeUnavailable); e.Seq != 2 || e.Doc != "doc" {
		t.Fatalf("error = %+v, want seq 2 on doc", e)
	}
	if text, rev := storeText(t, st, "doc"); text != "one " || rev != 1 {
		t.Fatalf("stored %q@%d", text, rev)
	}
	st.fail.Store(false)
	a.submit("doc", 1, 2, insertAt(4, 4, "two "))
	if ack := a.ack(2); ack.Rev != 2 {
		t.Fatalf("ack rev %d, want 2: the failed op must not have taken revision 2", ack.Rev)
	}
	var op wire.Op
	b.expect(wire.TypeOp, &op)
	if op.Rev != 2 || op.Seq != 2 {
		t.Fatalf("b got %+v, want only the committed op", op)
	}
	if text, _ := storeText(t, st, "doc"); text != "one two " {
		t.Fatalf("stored %q", text)
	}
}
