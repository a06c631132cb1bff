package collab

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// ErrNoHistory answers the authorship and version endpoints when the store
// keeps neither.
var ErrNoHistory error = &unavailableBecause{"this server's store keeps no authorship or named versions"}

// maxHistoryBody bounds the JSON bodies of the history endpoints.
const maxHistoryBody = 4 << 10

func (s *Server) historyRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/docs/{id}/authors", s.api(PermRead, s.getAuthors, true))
	m.HandleFunc("GET /api/docs/{id}/versions", s.api(PermRead, s.listVersions, true))
	m.HandleFunc("POST /api/docs/{id}/versions", s.api(PermWrite, s.postVersion, true))
	m.HandleFunc("DELETE /api/docs/{id}/versions/{rev}", s.api(PermWrite, s.deleteVersion, true))
	m.HandleFunc("POST /api/docs/{id}/restore", s.api(PermWrite, s.restore, true))
	m.HandleFunc("GET /api/docs/{id}/sessions", s.api(PermRead, s.getSessions, true))
}

// history returns the store as a HistoryStore and the path's document id.
func (s *Server) history(r *http.Request) (storage.HistoryStore, string, error) {
	id, err := docID(r)
	if err != nil {
		return nil, "", err
	}
	h, ok := s.store.(storage.HistoryStore)
	if !ok {
		return nil, "", ErrNoHistory
	}
	return h, id, nil
}

// revAt is the query's or body's revision, the head's if not given, or
// ErrFutureRev.
func revAt(rev *uint64, head uint64) (uint64, error) {
	if rev == nil {
		return head, nil
	}
	if *rev > head {
		return 0, fmt.Errorf("%w: rev %d, head %d", ErrFutureRev, *rev, head)
	}
	return *rev, nil
}

func (s *Server) getAuthors(w http.ResponseWriter, r *http.Request) {
	h, id, err := s.history(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	rev, given, err := uintParam(r, "rev", 0)
	if err != nil {
		s.httpError(w, err)
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	doc, err := s.store.Load(ctx, id)
	if err == nil {
		var want *uint64
		if given {
			want = &rev
		}
		rev, err = revAt(want, doc.Rev)
	}
	var spans []storage.Span
	if err == nil {
		spans, err = h.AuthorsAt(ctx, id, rev)
	}
	if err != nil {
		s.httpError(w, err)
		return
	}
	out := wire.Authors{ID: id, Rev: rev, Spans: make([]wire.AuthorSpan, 0, len(spans))}
	start := 0
	for _, sp := range spans {
		out.Spans = append(out.Spans, wire.AuthorSpan{Start: start, Length: sp.Length, Client: publicClient(sp.Client), Name: sp.Author})
		start += sp.Length
	}
	writeJSON(w, http.StatusOK, out)
}

func publicClient(client string) string {
	if client == "" {
		return ""
	}
	return wire.PublicID(client)
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) {
	h, id, err := s.history(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	vs, err := h.Versions(ctx, id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	out := wire.VersionList{ID: id, Versions: make([]wire.VersionInfo, 0, len(vs))}
	for _, v := range vs {
		out.Versions = append(out.Versions, versionInfo(id, v))
	}
	writeJSON(w, http.StatusOK, out)
}

func versionInfo(id string, v storage.Version) wire.VersionInfo {
	return wire.VersionInfo{ID: id, Rev: v.Rev, Name: v.Name, Created: v.Created, Author: v.Author}
}

func (s *Server) postVersion(w http.ResponseWriter, r *http.Request) {
	h, id, err := s.history(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var req wire.VersionRequest
	if err := readJSON(w, r, &req); err != nil {
		s.httpError(w, err)
		return
	}
	if n := utf8.RuneCountInString(req.Name); n == 0 || n > storage.MaxVersionName {
		s.httpError(w, fmt.Errorf("%w: name must be 1 to %d code points", ErrBadRequest, storage.MaxVersionName))
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	doc, err := s.store.Load(ctx, id)
	v := storage.Version{Name: req.Name, Created: time.Now().UTC().Truncate(time.Millisecond), Author: author(r)}
	if err == nil {
		v.Rev, err = revAt(req.Rev, doc.Rev)
	}
	var text string
	if err == nil {
		text, err = s.store.TextAt(ctx, id, v.Rev)
	}
	if err == nil { // the version keeps a copy of its text, which pruning does not take
		err = s.takeGrowth(id, len(text), time.Now())
	}
	if err == nil {
		err = h.PutVersion(ctx, id, v)
	}
	if err != nil {
		s.httpError(w, err)
		return
	}
	s.publishChange(Change{Doc: id, From: v.Rev, To: v.Rev, Version: &v})
	writeJSON(w, http.StatusOK, versionInfo(id, v))
}

func (s *Server) deleteVersion(w http.ResponseWriter, r *http.Request) {
	h, id, err := s.history(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	rev, err := strconv.ParseUint(r.PathValue("rev"), 10, 64)
	if err != nil {
		s.httpError(w, fmt.Errorf("%w: the revision must be a non-negative integer", ErrBadRequest))
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	if err := h.DeleteVersion(ctx, id, rev); err != nil {
		s.httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// restore commits one op that turns the head's text into the text at the
// requested revision, through the document's owner like an editor's
// submit: editors typing meanwhile keep their edits, transformed over it.
func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	id, err := docID(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var req wire.RestoreRequest
	if err := readJSON(w, r, &req); err != nil {
		s.httpError(w, err)
		return
	}
	if req.Rev == nil {
		s.httpError(w, fmt.Errorf("%w: rev is required", ErrBadRequest))
		return
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	head, err := s.store.Load(ctx, id)
	var text string
	if err == nil {
		if _, err = revAt(req.Rev, head.Rev); err == nil {
			text, err = s.store.TextAt(ctx, id, *req.Rev)
		}
	}
	if err != nil {
		s.httpError(w, err)
		return
	}
	rev, err := s.submitHTTP(r.Context(), id, author(r), head.Rev, ot.Diff(head.Text, text))
	if err != nil {
		s.httpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.DocRev{ID: id, Rev: rev})
}

// readJSON decodes a small JSON body into v, refusing lone surrogate
// escapes, which encoding/json would turn into U+FFFD unsaid.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHistoryBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: body larger than %d bytes", ErrBadRequest, maxHistoryBody)
	case err != nil:
		return fmt.Errorf("%w: reading body: %v", ErrBadRequest, err)
	}
	if err := wire.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	return nil
}
