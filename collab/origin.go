package collab

import (
	"net/http"
	"net/url"
	"strings"
)

// originChecker decides whether a WebSocket upgrade may proceed. Unlike
// gorilla's default it compares scheme, host and port.
type originChecker struct {
	allowed map[string]bool // immutable after construction
}

func newOriginChecker(origins []string) originChecker {
	oc := originChecker{allowed: make(map[string]bool)}
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
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return canonHost(strings.ToLower(u.Host), u.Scheme) == canonHost(strings.ToLower(r.Host), scheme) && u.Scheme == scheme
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
