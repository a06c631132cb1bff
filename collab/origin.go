package collab

import (
	"net/http"
	"net/url"
	"strings"
)

// originChecker decides whether a WebSocket upgrade may proceed. Unlike
// gorilla's default it compares scheme, host and port.
type originChecker struct {
	allowed    map[string]bool // immutable after construction
	trustProxy bool            // take the scheme and host from X-Forwarded-Proto/Host
}

func newOriginChecker(origins []string, trustProxy bool) originChecker {
	oc := originChecker{allowed: make(map[string]bool), trustProxy: trustProxy}
	for _, o := range origins {
		if o = strings.TrimSpace(o); o != "" {
			oc.allowed[strings.ToLower(strings.TrimRight(o, "/"))] = true
		}
	}
	return oc
}

// check allows a request with no Origin (not a browser), a same-origin
// request, and an origin in the allowed list.
func (oc originChecker) check(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	norm := strings.ToLower(u.Scheme + "://" + u.Host)
	if oc.allowed[norm] {
		return true
	}
	scheme, host := oc.self(r)
	return canonHost(strings.ToLower(u.Host), u.Scheme) == canonHost(strings.ToLower(host), scheme) && u.Scheme == scheme
}

// self is the scheme and host the client addressed: the request's, or
// behind a trusted proxy the ones the proxy forwards.
func (oc originChecker) self(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if !oc.trustProxy {
		return scheme, host
	}
	if p := lastForwarded(r, "X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	if h := lastForwarded(r, "X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme, host
}

// lastForwarded is the last entry of a forwarding header, over all its
// lines, lowercased: the one our proxy set. Earlier entries come from the
// client or proxies before ours, which anyone can forge.
func lastForwarded(r *http.Request, name string) string {
	vs := r.Header.Values(name)
	if len(vs) == 0 {
		return ""
	}
	v := vs[len(vs)-1]
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// canonHost adds the scheme's default port so "h" and "h:80" compare equal.
func canonHost(host, scheme string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		return host
	}
	if scheme == "https" {
		return host + ":443"
	}
	return host + ":80"
}
