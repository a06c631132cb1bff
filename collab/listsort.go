package collab

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collabd/collab/storage"
)

// updatedCursor is where a page of documents sorted by last change ends:
// its last document's change time and id. Its text is the next page's
// after.
type updatedCursor struct {
	updated time.Time
	id      string
}

func (c updatedCursor) String() string {
	return strconv.FormatInt(c.updated.UnixNano(), 10) + "~" + c.id
}

func parseUpdatedCursor(s string) (updatedCursor, error) {
	ns, id, ok := strings.Cut(s, "~")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || !storage.ValidDocID(id) {
		return updatedCursor{}, fmt.Errorf("%w: after %q is not a cursor of sort=updated", ErrBadRequest, truncate(s, 64))
	}
	return updatedCursor{time.Unix(0, n), id}, nil
}

// before orders documents by last change, newest first, then by id.
func before(a, b storage.Meta) bool {
	if !a.Updated.Equal(b.Updated) {
		return a.Updated.After(b.Updated)
	}
	return a.ID < b.ID
}

// listByUpdate returns up to limit documents after the cursor after (""
// for the first page), most recently changed first, and the cursor of the
// next page ("" at the end). The store lists by id only, so every page
// reads every document's metadata, keeping the limit best.
func (s *Server) listByUpdate(ctx context.Context, after string, limit int) ([]storage.Meta, string, error) {
	var cur *storage.Meta
	if after != "" {
		c, err := parseUpdatedCursor(after)
		if err != nil {
			return nil, "", err
		}
		cur = &storage.Meta{ID: c.id, Updated: c.updated}
	}
	var best []storage.Meta // at most limit+1, sorted
	for from := ""; ; {
		page, err := s.store.List(ctx, from, maxPage)
		if err != nil {
			return nil, "", err
		}
		for _, m := range page {
			if cur == nil || before(*cur, m) {
				best = append(best, m)
			}
		}
		slices.SortFunc(best, func(a, b storage.Meta) int {
			if before(a, b) {
				return -1
			}
			return 1
		})
		best = best[:min(len(best), limit+1)]
		if len(page) < maxPage {
			break
		}
		from = page[len(page)-1].ID
	}
	if len(best) <= limit {
		return best, "", nil
	}
	last := best[limit-1]
	return best[:limit], updatedCursor{last.Updated, last.ID}.String(), nil
}
