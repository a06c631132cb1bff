package web

import (
	"errors"
	"fmt"
	"strings"
)

// Options configure NewHandler. The zero value is Handler's.
type Options struct {
	// FrameAncestors are the sources allowed to show the /embed/{id}
	// page in a frame, in Content-Security-Policy frame-ancestors syntax:
	// origins ("https://app.example", "https://*.example.com:8443"),
	// schemes ("https:"), "*", "'self'" or "'none'". Empty means "'self'":
	// collab's own pages only. The other pages may be framed by collab's
	// own pages only.
	FrameAncestors []string
}

// ErrFrameAncestor is returned by NewHandler for a FrameAncestors entry it
// does not accept.
var ErrFrameAncestor = errors.New("web: invalid frame ancestor")

// pagePolicy is the Content-Security-Policy of every page but for its
// frame-ancestors: scripts, styles, images and connections (fetch and the
// WebSocket) from collab's own origin only, nothing inline, nothing else.
// A value injected into the page (a peer's name or colour, say) can then
// neither run script nor make the browser load anything from elsewhere.
const pagePolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors "

// framePolicy returns the frame-ancestors value of sources, checked.
func framePolicy(sources []string) (string, error) {
	if len(sources) == 0 {
		return "'self'", nil
	}
	for _, s := range sources {
		if !validSource(s) {
			return "", fmt.Errorf("%w: %q (want an origin such as https://app.example, a scheme such as https:, *, 'self' or 'none')", ErrFrameAncestor, s)
		}
		if s == "'none'" && len(sources) > 1 {
			return "", fmt.Errorf("%w: 'none' must be alone", ErrFrameAncestor)
		}
	}
	return strings.Join(sources, " "), nil
}

// validSource reports whether s is a CSP source expression of the forms
// Options.FrameAncestors lists. Anything else (a ';' or a space, above
// all) could change the rest of the policy.
func validSource(s string) bool {
	switch s {
	case "*", "'self'", "'none'":
		return true
	}
	scheme, rest, hasHost := strings.Cut(s, "://")
	if !hasHost {
		scheme, rest = strings.TrimSuffix(s, ":"), ""
		if scheme == s {
			return false
		}
	}
	if !validScheme(scheme) {
		return false
	}
	if !hasHost {
		return true
	}
	host, port, hasPort := strings.Cut(rest, ":")
	if hasPort && port != "*" && !allDigits(port) {
		return false
	}
	host = strings.TrimPrefix(host, "*.")
	return host != "" && strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == ""
}

func validScheme(s string) bool {
	if s == "" || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") == ""
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
