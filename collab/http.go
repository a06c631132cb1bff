package collab

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /ws", s.serveWS)
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /api/origin-check", s.originCheck)
	m.Handle("GET /metrics", s.metrics.handler())
	m.HandleFunc("GET /api/docs", s.api(PermAdmin, s.listDocs, true))
	m.HandleFunc("GET /api/docs/{id}", s.api(PermRead, s.getDoc, true))
	m.HandleFunc("PUT /api/docs/{id}", s.api(PermWrite, s.putDoc, true))
	m.HandleFunc("DELETE /api/docs/{id}", s.api(PermAdmin, s.deleteDoc, true))
	m.HandleFunc("GET /api/docs/{id}/ops", s.api(PermRead, s.getOps, true))
	m.HandleFunc("GET /api/docs/{id}/text", s.api(PermRead, s.getText, true))
	m.HandleFunc("POST /api/admin/backup", s.api(PermAdmin, s.backup, false))
	m.HandleFunc("POST /api/revocations", s.api(PermAdmin, s.postRevocation, true))
	m.HandleFunc("GET /api/revocations", s.api(PermAdmin, s.getRevocations, true))
	s.historyRoutes(m)
	s.mux = m
}

type claimsKey struct{}

// guard lets a request through to h only with a bearer token granting perm
// on the path's document (or on every document, for the endpoints without
// one), checked before h touches the store. Without a secret it lets every
// request through.
func (s *Server) guard(perm Perm, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.auth == nil {
			h(w, r)
			return
		}
		claims, err := s.auth.check(r, bearer(r))
		if err == nil {
			id := r.PathValue("id")
			if id != "" && !storage.ValidDocID(id) {
				s.httpError(w, ErrInvalidDocID)
				return
			}
			err = s.permits(claims, id, perm)
		}
		if err != nil {
			s.authFailed(r, err)
			s.httpError(w, err)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, claims)))
	}
}

// author is the name of the token of an authenticated request.
func author(r *http.Request) string {
	if c, ok := r.Context().Value(claimsKey{}).(*Claims); ok {
		return truncate(c.Name, 64)
	}
	return ""
}

const maxPage = 1000

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code, status := codeOf(err)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="collab"`)
	}
	writeJSON(w, status, wire.ErrorBody{Code: code, Message: publicMessage(err)})
}

func (s *Server) httpError(w http.ResponseWriter, err error) {
	code, _ := codeOf(err)
	s.metrics.errors.WithLabelValues(code).Inc()
	writeError(w, err)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func (s *Server) storeCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.opts.StoreTimeout)
}

// docID returns the {id} of the path if valid.
func docID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !storage.ValidDocID(id) {
		return "", ErrInvalidDocID
	}
	return id, nil
}

// uintParam parses an optional unsigned query parameter.
func uintParam(r *http.Request, name string, def uint64) (uint64, bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, false, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%w: %s must be a non-negative integer", ErrBadRequest, name)
	}
	return n, true, nil
}

func (s *Server) listDocs(w http.ResponseWriter, r *http.Request) {
	limit, _, err := uintParam(r, "limit", 100)
	if err != nil {
		s.httpError(w, err)
		return
	}
	limit = max(1, min(limit, maxPage))
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	var metas []storage.Meta
	var next string
	switch q := r.URL.Query(); q.Get("sort") {
	case "", "id":
		metas, err = s.store.List(ctx, q.Get("after"), int(limit))
		if len(metas) == int(limit) {
			next = metas[len(metas)-1].ID
		}
	case "updated":
		metas, next, err = s.listByUpdate(ctx, q.Get("after"), int(limit))
	default:
		err = fmt.Errorf("%w: sort is id or updated", ErrBadRequest)
	}
	if err != nil {
		s.httpError(w, err)
		return
	}
	out := wire.DocList{Docs: make([]wire.DocInfo, 0, len(metas)), Next: next}
	for _, m := range metas {
		out.Docs = append(out.Docs, wire.DocInfo{ID: m.ID, Rev: m.Rev, Length: m.Length, Created: m.Created, Updated: m.Updated})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getDoc(w http.ResponseWriter, r *http.Request) { s.serveText(w, r, false) }

// getText is getDoc at an older revision when ?rev= is given.
func (s *Server) getText(w http.ResponseWriter, r *http.Request) { s.serveText(w, r, true) }

func (s *Server) serveText(w http.ResponseWriter, r *http.Request, atRev bool) {
	id, err := docID(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var rev uint64
	given := false
	if atRev {
		if rev, given, err = uintParam(r, "rev", 0); err != nil {
			s.httpError(w, err)
			return
		}
	}
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	doc, err := s.store.Load(ctx, id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	if !given || rev == doc.Rev {
		writeJSON(w, http.StatusOK, wire.DocText{ID: id, Rev: doc.Rev, Text: doc.Text})
		return
	}
	if rev > doc.Rev {
		s.httpError(w, fmt.Errorf("%w: rev %d, head %d", ErrFutureRev, rev, doc.Rev))
		return
	}
	text, err := s.store.TextAt(ctx, id, rev)
	if err != nil {
		s.httpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.DocText{ID: id, Rev: rev, Text: text})
}

func (s *Server) getOps(w http.ResponseWriter, r *http.Request) {
	id, err := docID(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	from, _, err := uintParam(r, "from", 0)
	if err != nil {
		s.httpError(w, err)
		return
	}
	to, _, err := uintParam(r, "to", from+maxPage)
	if err != nil {
		s.httpError(w, err)
		return
	}
	to = min(to, from+maxPage)
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	recs, more, err := opsWithin(ctx, s.store, id, from, to, s.opts.MaxCatchUpBytes)
	if err != nil {
		s.httpError(w, err)
		return
	}
	var next uint64
	if more {
		s.limitHit(limitHistory)
	}
	if n := len(recs); more || n == maxPage {
		next = recs[n-1].Rev
	}
	writeOps(w, id, recs, next)
}

// writeOps writes an wire.OpList one record at a time, dropping each record
// once written: a page is never held twice, as records and as JSON.
func writeOps(w http.ResponseWriter, id string, recs []storage.Record, next uint64) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	fmt.Fprintf(bw, `{"id":%s,"ops":[`, encode(id))
	for i := range recs {
		rec := &recs[i]
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.Write(encode(wire.OpRecord{Rev: rec.Rev, Op: rec.Op.AppendJSON(nil), Client: wire.PublicID(rec.Client), Seq: rec.Seq, Author: rec.Author, Time: rec.Time}))
		*rec = storage.Record{}
	}
	bw.WriteByte(']')
	if next != 0 {
		fmt.Fprintf(bw, `,"next":%d`, next)
	}
	bw.WriteString("}\n")
	bw.Flush()
}

// putDoc replaces the text like an editor would: the diff against the text
// at base goes through the document's owner, is transformed over what
// happened since base, committed and broadcast.
func (s *Server) putDoc(w http.ResponseWriter, r *http.Request) {
	id, err := docID(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	base, given, err := uintParam(r, "base", 0)
	if err != nil {
		s.httpError(w, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.opts.MaxDocSize)+1))
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.limitHit(limitRequestTime)
		}
		s.httpError(w, fmt.Errorf("%w: reading body: %v", ErrBadRequest, err))
		return
	}
	if len(body) > s.opts.MaxDocSize {
		s.limitHit(limitDocSize)
		s.httpError(w, ErrDocTooLarge)
		return
	}
	if !utf8.Valid(body) {
		s.httpError(w, fmt.Errorf("%w: body is not UTF-8", ErrBadRequest))
		return
	}
	old, base, err := s.baseText(r, id, base, given)
	if err != nil {
		s.httpError(w, err)
		return
	}
	rev, err := s.submitHTTP(r.Context(), id, author(r), base, ot.Diff(old, string(body)))
	if err != nil {
		s.httpError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, wire.DocRev{ID: id, Rev: rev})
}

// baseText returns the committed text at base, or the head's when not given.
func (s *Server) baseText(r *http.Request, id string, base uint64, given bool) (string, uint64, error) {
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	doc, err := s.store.Load(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		doc = storage.Doc{}
	case err != nil:
		return "", 0, err
	}
	if !given || base == doc.Rev {
		return doc.Text, doc.Rev, nil
	}
	if base > doc.Rev {
		return "", 0, fmt.Errorf("%w: base %d, head %d", ErrFutureRev, base, doc.Rev)
	}
	text, err := s.store.TextAt(ctx, id, base)
	return text, base, err
}

func (s *Server) submitHTTP(ctx context.Context, id, name string, base uint64, op ot.Op) (uint64, error) {
	d, err := s.reg.acquire(id)
	if err != nil {
		return 0, err
	}
	defer s.reg.release(d)
	reply := make(chan putResult, 1)
	res := await(d, &submitReq{name: name, rev: base, op: op, recv: time.Now(), reply: reply}, reply, putResult{err: ErrUnavailable})
	return res.rev, res.err
}

func (s *Server) deleteDoc(w http.ResponseWriter, r *http.Request) {
	id, err := docID(r)
	if err != nil {
		s.httpError(w, err)
		return
	}
	d, err := s.reg.acquire(id)
	if err != nil {
		s.httpError(w, err)
		return
	}
	defer s.reg.release(d)
	reply := make(chan error, 1)
	if err := await(d, &deleteReq{by: author(r), reply: reply}, reply, ErrUnavailable); err != nil {
		s.httpError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// backup streams a hot backup. Without an auth secret it answers only
// requests from the local host; with one, guard asked for an admin token.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	b, ok := s.store.(storage.Backuper)
	if !ok {
		s.httpError(w, fmt.Errorf("%w: the store cannot back up", ErrNotFound))
		return
	}
	if s.auth == nil && !s.localRequest(r) {
		s.httpError(w, fmt.Errorf("%w: without an auth secret, backup answers local requests only", ErrForbidden))
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="collab-backup.db"`)
	if _, err := b.Backup(w); err != nil {
		s.log.Error("backup", "err", err)
		panic(http.ErrAbortHandler) // the client must not take a truncated copy for a good one
	}
}

// forwardingHeaders are set by proxies: a request carrying one came
// through a proxy, from a client we do not know.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-Ip", "Via"}

// localRequest reports whether r comes from a program on this machine that
// addressed it by a loopback name. A loopback peer alone is not enough: a
// reverse proxy on this machine is a loopback peer for all its clients.
// Without TrustProxy a forwarding header marks such a proxy (with it, the
// client is the proxy's X-Forwarded-For); a proxy that adds none and
// rewrites Host to a loopback name looks local and must not be put in
// front of a server without a secret.
func (s *Server) localRequest(r *http.Request) bool {
	ip := net.ParseIP(s.clientIP(r))
	if ip == nil || !ip.IsLoopback() || !isLoopbackName(canonName(requestHost(r, s.opts.TrustProxy))) {
		return false
	}
	if !s.opts.TrustProxy {
		for _, h := range forwardingHeaders {
			if r.Header.Get(h) != "" {
				return false
			}
		}
	}
	return true
}
