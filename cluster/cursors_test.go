package cluster_test

import (
	"errors"
	"maps"
	"testing"

	"github.com/collabd/collab/cluster"
	"github.com/collabd/collab/internal/natstest"
	"github.com/collabd/collab/storage"
)

// TestCursors: one node's cursors are another's, per consumer, whatever
// the bytes of the keys; a nil value deletes; bad names are ErrInvalid.
func TestCursors(t *testing.T) {
	urls := []string{natstest.Run(t).URL()}
	a, b := open(t, urls, cluster.Options{}), open(t, urls, cluster.Options{})
	ctx := ctxT(t)
	set := map[string][]byte{"notes/a.b": []byte("1"), "ünï cödé >*": []byte("2"), "gone": []byte("3")}
	if err := a.PutCursors(ctx, "webhook", set); err != nil {
		t.Fatal(err)
	}
	if err := a.PutCursors(ctx, "webhook.state", map[string][]byte{"started": []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := a.PutCursors(ctx, "webhook", map[string][]byte{"gone": nil}); err != nil {
		t.Fatal(err)
	}
	got, err := b.Cursors(ctx, "webhook")
	if err != nil {
		t.Fatal(err)
	}
	delete(set, "gone")
	if !maps.EqualFunc(got, set, func(x, y []byte) bool { return string(x) == string(y) }) {
		t.Errorf("cursors on the other node: %q, want %q", got, set)
	}
	for _, c := range []struct{ consumer, key string }{{"", "k"}, {"webhook", ""}} {
		if err := a.PutCursors(ctx, c.consumer, map[string][]byte{c.key: []byte("v")}); !errors.Is(err, storage.ErrInvalid) {
			t.Errorf("PutCursors(%q, %q): %v, want ErrInvalid", c.consumer, c.key, err)
		}
	}
}
