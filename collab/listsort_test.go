package collab

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/collabd/collab/collab/wire"
)

// TestListSortedByUpdate: ?sort=updated lists the most recently changed
// documents first (ties by id), page by page through next, and agrees
// with the documents' updated times; other sorts are refused.
func TestListSortedByUpdate(t *testing.T) {
	_, ts := startServer(t, newTestStore(t), Options{})
	api := ts.URL + "/api/docs"
	for i, id := range []string{"c", "e", "b", "d", "a", "f", "e"} { // e changes again, last
		res, body := do(t, "PUT", api+"/"+id, fmt.Sprintf("text %d of %s", i, id))
		wantStatus(t, res, body, 200, "")
	}
	list := func(query string) wire.DocList {
		t.Helper()
		res, body := do(t, "GET", api+query, "")
		wantStatus(t, res, body, 200, "")
		var l wire.DocList
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	all := list("?limit=100").Docs
	want := slices.Clone(all)
	slices.SortStableFunc(want, func(a, b wire.DocInfo) int {
		if c := b.Updated.Compare(a.Updated); c != 0 {
			return c
		}
		return map[bool]int{true: -1, false: 1}[a.ID < b.ID]
	})
	if want[0].ID != "e" {
		t.Fatalf("the document changed last is %s, want e", want[0].ID)
	}
	var got []wire.DocInfo
	after := ""
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("paging does not end")
		}
		l := list("?sort=updated&limit=2&after=" + after)
		got = append(got, l.Docs...)
		if l.Next == "" {
			break
		}
		after = l.Next
	}
	ids := func(ds []wire.DocInfo) (out []string) {
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("sort=updated pages list %v, want %v", ids(got), ids(want))
	}
	for _, q := range []string{"?sort=name", "?sort=updated&after=notes", "?sort=updated&after=12~no%20id"} {
		res, body := do(t, "GET", api+q, "")
		wantStatus(t, res, body, http.StatusBadRequest, "bad_message")
	}
}
