package collab

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// hostChecker refuses requests addressed to a host name that is not the
// server's. A page of rebind.evil.test whose name the attacker re-points
// at the server (DNS rebinding) is same-origin with itself, so only the
// Host header tells its requests from the server's own pages.
type hostChecker struct {
	any        bool            // "*" was listed: no check
	names      map[string]bool // immutable after construction: canonical hosts, no port
	trustProxy bool            // the host is the proxy's X-Forwarded-Host
}

func newHostChecker(hosts []string, trustProxy bool) hostChecker {
	hc := hostChecker{names: make(map[string]bool), trustProxy: trustProxy}
	for _, h := range hosts {
		switch h = canonName(h); h {
		case "":
		case "*":
			hc.any = true
		default:
			hc.names[h] = true
		}
	}
	return hc
}

// allowed reports whether r addresses one of the server's names: a loopback
// name or address, or one of the allowed hosts. It returns the host it
// checked.
func (hc hostChecker) allowed(r *http.Request) (string, bool) {
	host := requestHost(r, hc.trustProxy)
	if hc.any {
		return host, true
	}
	name := canonName(host)
	return host, name != "" && (isLoopbackName(name) || hc.names[name])
}

// requestHost is the host the client addressed: Host, or behind a trusted
// proxy the last X-Forwarded-Host.
func requestHost(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if h := lastForwarded(r, "X-Forwarded-Host"); h != "" {
			return h
		}
	}
	return r.Host
}

// canonName is host without its port, brackets or final dot, lowercased.
func canonName(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimPrefix(strings.TrimSuffix(host, "]"), "[")
	return strings.TrimSuffix(host, ".")
}

// isLoopbackName reports whether a canonical host names this machine
// whatever DNS says: localhost and its subdomains (browsers resolve them to
// loopback themselves, RFC 6761) and loopback addresses.
func isLoopbackName(name string) bool {
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// hostError is the refusal of a request for a host the server does not
// serve; the host is quoted (JSON-escaped by the caller) so the operator
// sees what to add.
func hostError(host string) error {
	return fmt.Errorf("%w: %q is not one of this server's names (collabd -allowed-hosts adds names)", ErrHostNotAllowed, truncate(host, 128))
}
