package collab

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// lossyNode is a shared-store node whose next Append writes its records
// but answers as if the store had been unreachable, as a cluster store
// does when NATS drops the connection before the acknowledgement.
type lossyNode struct {
	*sharedNode
	lose chan struct{} // a receive arms one lost answer
}

func (n *lossyNode) Append(ctx context.Context, id string, recs []storage.Record) error {
	if err := n.sharedNode.Append(ctx, id, recs); err != nil {
		return err
	}
	select {
	case <-n.lose:
		return fmt.Errorf("%w: the answer was lost", storage.ErrUnavailable)
	default:
		return nil
	}
}

// TestCommitOutcomeUnknown: a commit whose answer is lost (written, but
// the store could not say so) is refused with unavailable and its
// author's seq forgotten; the author rejoins and resubmits. Its
// resubmission must end as the op the log holds, whatever joined says:
// with ops (its client transforms the op over them as the server did) or
// a reset, which needs joined.seq to cover the op, or the client would
// rebase it over the reset's diff and hold "AZQ" against "AQZ". A reset
// cannot happen here: a resubmission may come from as far back as the
// rejoin, so the head would have to move, and the next commit brings the
// lost one into the document first.
func TestCommitOutcomeUnknown(t *testing.T) {
	n := &lossyNode{sharedNode: newShared().node(), lose: make(chan struct{}, 1)}
	_, ts := startServer(t, n, Options{})
	const doc = "d"
	w := connect(t, ts, "writer")
	w.join(doc, nil)
	w.submit(doc, 0, 1, insertAt(0, 0, "AB"))
	w.ack(1)
	c := connect(t, ts, "c")
	c.join(doc, ptr(uint64(1)))
	for i, op := range []string{`[2,"Z"]`, `[3,"w"]`, `[3,-1]`, `[3,"w"]`, `[3,-1]`, `[1,-1,1]`} {
		w.send(json.RawMessage(fmt.Sprintf(`{"type":"submit","doc":%q,"rev":%d,"seq":%d,"op":%s}`, doc, i+1, i+2, op)))
		w.ack(uint64(i + 2))
	}
	n.pauseFeeds() // the document learns of the lost commit only by asking
	n.lose <- struct{}{}
	mine := insertAt(2, 1, "Q")
	c.submit(doc, 1, 1, mine)
	if e := expectMsg(t, c, wire.TypeError, func(wire.Error) bool { return true }, wire.TypeOp, wire.TypePresence, wire.TypeEditor); e.Code != wire.CodeUnavailable || e.Doc != doc {
		t.Fatalf("error %+v, want unavailable for %s", e, doc)
	}

	c2 := connect(t, ts, "c")
	j := c2.join(doc, ptr(uint64(1)))
	n.resumeFeeds()
	text, rev := "AB", j.Rev
	switch {
	case j.Seq >= 1 && j.Text != nil:
		text = *j.Text
	case j.Seq >= 1:
		text = resume(t, "AB", 1, j)
	default: // what the client does: rebase its op and submit it again
		var err error
		if j.Text != nil {
			mine, err = transformOver(ot.Diff(text, *j.Text), mine)
			text = *j.Text
		}
		for _, r := range j.Ops {
			if mine, err = transformOver(r.Op, mine); err != nil {
				t.Fatal(err)
			}
			if text, err = r.Op.Apply(text); err != nil {
				t.Fatal(err)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		if text, err = mine.Apply(text); err != nil {
			t.Fatal(err)
		}
		c2.submit(doc, j.Rev, 1, mine)
		rev = expectMsg(t, c2, wire.TypeAck, func(wire.Ack) bool { return true }, wire.TypeOp, wire.TypePresence, wire.TypeEditor).Rev
	}
	got, stored := storeText(t, n, doc)
	if got != text || stored != rev {
		t.Fatalf("client holds %q@%d, server %q@%d", text, rev, got, stored)
	}
}
