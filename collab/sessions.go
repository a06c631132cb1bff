package collab

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/storage"
)

const (
	defaultSessions = 20
	maxSessions     = 100
	defaultPause    = 300 // seconds
	maxPause        = 86400
	// maxSessionScan bounds the records one page reads, as
	// Options.MaxCatchUpBytes bounds their bytes.
	maxSessionScan = 10000
	// maxSessionAuthors is how many authors a session lists, those with
	// the most ops; Editors counts them all.
	maxSessionAuthors = 10
)

func (s *Server) getSessions(w http.ResponseWriter, r *http.Request) {
	id, q, err := sessionQuery(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	doc, err := s.store.Load(ctx, id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	if !q.given || q.before > doc.Rev+1 {
		q.before = doc.Rev + 1
	}
	g := sessionGrouper{pause: q.pause, limit: q.limit}
	cut, pruned, err := scanBack(ctx, s.store, id, q.before, s.opts.MaxCatchUpBytes, g.add)
	if err != nil {
		s.httpError(w, err)
		return
	}
	out := wire.SessionList{ID: id, Sessions: g.finish(), Pruned: pruned}
	if cut {
		s.limitHit(limitHistory)
	}
	if n := len(out.Sessions); n > 0 && (cut || g.full) && out.Sessions[n-1].From > 1 {
		out.Next = out.Sessions[n-1].From
	}
	writeJSON(w, http.StatusOK, out)
}

type sessionParams struct {
	before       uint64
	given        bool
	limit, pause int
}

// sessionQuery reads the document id and the parameters of a sessions request.
func sessionQuery(r *http.Request) (string, sessionParams, error) {
	var p sessionParams
	id, err := docID(r)
	if err == nil {
		p.before, p.given, err = uintParam(r, "before", 0)
	}
	var limit, pause uint64
	if err == nil {
		limit, _, err = uintParam(r, "limit", defaultSessions)
	}
	if err == nil {
		pause, _, err = uintParam(r, "pause", defaultPause)
	}
	if err == nil && (limit < 1 || limit > maxSessions || pause < 1 || pause > maxPause) {
		err = fmt.Errorf("%w: limit is 1 to %d, pause 1 to %d seconds", ErrBadRequest, maxSessions, maxPause)
	}
	p.limit, p.pause = int(limit), int(pause)
	return id, p, err
}

// sessionGrouper groups records given newest first into sessions.
type sessionGrouper struct {
	pause    int // seconds
	limit    int
	sessions []wire.Session
	cur      *wire.Session
	authors  map[wire.SessionAuthor]int // cur's, by Client and Name (Ops zero)
	full     bool                       // limit sessions are complete
}

// add takes the record before those given so far; false once the page is full.
func (g *sessionGrouper) add(rec storage.Record) bool {
	if g.cur != nil && g.cur.Start.Sub(rec.Time) > time.Duration(g.pause)*time.Second {
		g.close()
		if len(g.sessions) == g.limit {
			g.full = true
			return false
		}
	}
	if g.cur == nil {
		g.cur = &wire.Session{To: rec.Rev, End: rec.Time}
		g.authors = make(map[wire.SessionAuthor]int)
	}
	g.cur.From, g.cur.Start = rec.Rev, rec.Time
	g.cur.Ops++
	g.authors[wire.SessionAuthor{Client: publicClient(rec.Client), Name: rec.Author}]++
	return true
}

// close ends the current session, listing its authors with the most ops
// first (ties by name and id).
func (g *sessionGrouper) close() {
	c := g.cur
	for a, n := range g.authors {
		a.Ops = n
		c.Authors = append(c.Authors, a)
	}
	slices.SortFunc(c.Authors, func(a, b wire.SessionAuthor) int {
		switch {
		case a.Ops != b.Ops:
			return b.Ops - a.Ops
		case a.Name != b.Name:
			return cmp.Compare(a.Name, b.Name)
		}
		return cmp.Compare(a.Client, b.Client)
	})
	c.Editors = len(c.Authors)
	c.Authors = c.Authors[:min(len(c.Authors), maxSessionAuthors)]
	g.sessions = append(g.sessions, *c)
	g.cur = nil
}

// finish closes the session in progress and returns them all.
func (g *sessionGrouper) finish() []wire.Session {
	if g.cur != nil {
		g.close()
	}
	if g.sessions == nil {
		return []wire.Session{}
	}
	return g.sessions
}

// scanBack calls fn with document id's records before revision before,
// newest first, until fn returns false, revision 1 has been given, the
// history below is pruned (pruned), or the page's budget is spent (cut):
// maxSessionScan records, maxBytes of ops (the first record comes
// whatever its size). Records are read in chunks sized to fit the budget
// left, so that a page holds about maxBytes of ops at most.
func scanBack(ctx context.Context, store storage.Store, id string, before uint64, maxBytes int, fn func(storage.Record) bool) (cut, pruned bool, err error) {
	hi, n, size, chunk := before-min(before, 1), 0, 0, uint64(16)
	for hi > 0 {
		lo := hi - min(hi, chunk)
		recs, err := store.Ops(ctx, id, lo, hi)
		if errors.Is(err, storage.ErrPruned) {
			recs, err = keptOps(ctx, store, id, lo, hi)
			pruned = true
		}
		if err != nil {
			return false, false, err
		}
		for i := len(recs) - 1; i >= 0; i-- {
			size += recs[i].Op.Size()
			if n++; n > 1 && (n > maxSessionScan || size > maxBytes) {
				return true, false, nil
			}
			if !fn(recs[i]) {
				return false, false, nil
			}
		}
		if pruned || len(recs) == 0 {
			return false, pruned, nil
		}
		hi = lo
		avg := max(1, size/n)
		chunk = uint64(max(1, min(256, (maxBytes-size)/avg)))
	}
	return false, false, nil
}

// keptOps returns the records in (lo, hi] that are still kept, the history
// before them being pruned: the oldest kept revision is searched for.
func keptOps(ctx context.Context, store storage.Store, id string, lo, hi uint64) ([]storage.Record, error) {
	bad, good := lo, hi // Ops(bad, hi) is pruned, Ops(good, hi) is not
	for good-bad > 1 {
		mid := bad + (good-bad)/2
		_, err := store.Ops(ctx, id, mid, hi)
		switch {
		case err == nil:
			good = mid
		case errors.Is(err, storage.ErrPruned):
			bad = mid
		default:
			return nil, err
		}
	}
	return store.Ops(ctx, id, good, hi)
}
