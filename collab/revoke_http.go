package collab

import (
	"net/http"
	"sort"

	"github.com/collabd/collab/storage"
)

// RevocationList answers GET /api/revocations.
type RevocationList struct {
	Revocations []storage.Revocation `json:"revocations"`
}

// postRevocation serves POST /api/revocations: the revocation is in force
// on every server sharing the store when it answers.
func (s *Server) postRevocation(w http.ResponseWriter, r *http.Request) {
	var rev storage.Revocation
	if err := readJSON(w, r, &rev); err != nil {
		s.httpError(w, err)
		return
	}
	rev.At = 0 // the server's time, not the caller's
	ctx, cancel := s.storeCtx(r)
	defer cancel()
	if err := s.Revoke(ctx, rev); err != nil {
		s.httpError(w, err)
		return
	}
	s.log.Info("collab: revoked", "jti", rev.ID, "sub", rev.Subject, "name", rev.Name, "doc", rev.Doc, "until", rev.Until)
	writeJSON(w, http.StatusOK, s.revoked.find(rev.Key()))
}

// getRevocations serves GET /api/revocations: those in force, by time made.
func (s *Server) getRevocations(w http.ResponseWriter, r *http.Request) {
	list := s.revoked.list()
	sort.Slice(list, func(i, j int) bool { return list[i].At < list[j].At })
	writeJSON(w, http.StatusOK, RevocationList{Revocations: list})
}
