package collab

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/collabd/collab/collab/wire"
)

// originSetting names the setting that allows an origin: collabd's flag
// (Options.AllowedOrigins in Go).
const originSetting = "-allowed-origins"

// originCheck answers GET /api/origin-check, to any site: the answer is
// about the caller's own origin and carries no credential, so it is
// readable cross-origin (Access-Control-Allow-Origin: *, never with
// credentials). It needs no token: a page learns why it cannot connect
// before it has one. Anyone could learn the same by trying the upgrade
// with that Origin from outside a browser.
func (s *Server) originCheck(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	w.Header().Set("Vary", "Origin")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	ans := wire.OriginCheck{Allowed: s.origins.check(r)}
	if o := r.Header.Get("Origin"); o != "" {
		ans.Origin, _ = normalOrigin(o)
	}
	if !ans.Allowed && ans.Origin != "" {
		ans.Setting = originSetting
	}
	writeJSON(w, http.StatusOK, ans)
}

// normalOrigin returns o as origins are compared, lowercase
// scheme://host[:port], or an error saying the accepted form.
func normalOrigin(o string) (string, error) {
	o = strings.TrimSpace(o)
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin: the form is scheme://host[:port], e.g. %s", o, exampleOrigin(o))
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// exampleOrigin guesses what an invalid origin meant.
func exampleOrigin(o string) string {
	if o == "" || o == "*" || strings.Contains(o, "://") {
		return "https://app.example.com or http://localhost:8099"
	}
	host, _, _ := strings.Cut(o, "/")
	return "http://" + strings.ToLower(host)
}

// CheckOrigins returns an error naming the first entry of origins that is
// not an origin (scheme://host[:port]; "*" is not accepted): such an entry
// would never match a page.
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		if _, err := normalOrigin(o); err != nil {
			return err
		}
	}
	return nil
}
