package collab

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Authenticator checks credentials with the application's own rules,
// instead of or besides the server's token secret (Options.Authenticator).
//
// Authenticate is given the request (the WebSocket upgrade, or the HTTP
// API request; for a token sent in hello or join, the connection's upgrade
// request) and the token it carries: ?token=, Authorization: Bearer, or
// the message's token, possibly empty (a cookie in r may be the
// credential). It may be called concurrently.
//
// It returns the identity the credential stands for; or nil and nil when
// the token is none of its own, which the server then checks as a token
// signed with Options.AuthSecret (without a secret: unauthorized, or with
// an empty token on a browser's upgrade, wait for a token in hello or
// join); or an error. An error wrapping ErrForbidden is answered 403
// forbidden, one wrapping ErrUnavailable 503 unavailable; any other 401
// unauthorized, its text logged but not sent.
type Authenticator interface {
	Authenticate(r *http.Request, token string) (*Identity, error)
}

// AuthenticatorFunc is a function that is an Authenticator.
type AuthenticatorFunc func(r *http.Request, token string) (*Identity, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request, token string) (*Identity, error) {
	return f(r, token)
}

// Identity is who a credential stands for and what it may do.
type Identity struct {
	// Name is the display name other editors see instead of the one the
	// client sends; empty: the client's.
	Name string
	// Subject is the user's id in the application, for the logs.
	Subject string
	// Grants are the documents the identity may use; on a document that
	// several grants cover, the highest permission counts.
	Grants []Grant
	// Expires, when set, ends the identity like a token's exp: joins
	// after it are refused unauthorized.
	Expires time.Time
}

// Grant is a permission on a document or on the documents of a prefix.
type Grant struct {
	// Doc is a document id, or a prefix ending in "*", as in Claims.Doc.
	Doc  string
	Perm Perm
}

// errAuthenticator is the error of an Authenticator that broke its
// contract: a server bug, answered internal_error.
var errAuthenticator = errors.New("collab: the Authenticator returned an invalid grant")

// claims turns the identity into the claims the server checks, as if a
// token had carried them.
func (id *Identity) claims() (*Claims, error) {
	c := &Claims{Name: id.Name, grants: make([]Grant, len(id.Grants)), hooked: true}
	c.Subject = id.Subject
	if !id.Expires.IsZero() {
		c.ExpiresAt = jwt.NewNumericDate(id.Expires)
	}
	for i, g := range id.Grants {
		probe := Claims{Doc: g.Doc, Perm: g.Perm}
		if err := probe.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %q %q: %v", errAuthenticator, g.Doc, g.Perm, err)
		}
		c.grants[i] = g
	}
	return c, nil
}

// permOn is the permission the claims give on document id; for "" (the
// server-wide endpoints) only a grant of every document ("*") counts.
// Empty: none.
func (c *Claims) permOn(id string) Perm {
	if !c.hooked {
		c := Grant{Doc: c.Doc, Perm: c.Perm}
		if c.covers(id) {
			return c.Perm
		}
		return ""
	}
	var best Perm
	for _, g := range c.grants {
		if g.covers(id) && g.Perm.rank() > best.rank() {
			best = g.Perm
		}
	}
	return best
}

func (g Grant) covers(id string) bool {
	if id == "" {
		return g.Doc == "*"
	}
	if prefix, ok := strings.CutSuffix(g.Doc, "*"); ok {
		return strings.HasPrefix(id, prefix)
	}
	return g.Doc == id
}

// check authenticates token, given with request r: by the application's
// Authenticator first, if any, then as a token signed with the secret.
func (a *authenticator) check(r *http.Request, token string) (*Claims, error) {
	if c, err := a.ask(r, token); c != nil || err != nil {
		return c, err
	}
	if a.parser == nil {
		if token == "" {
			return nil, fmt.Errorf("%w: token required", ErrUnauthorized)
		}
		return nil, fmt.Errorf("%w: token not recognised", ErrUnauthorized)
	}
	return a.parse(token)
}

// ask asks the Authenticator, if any, about token (empty: about the
// request alone, whose credential may be a cookie). Nil and nil: it knows
// none.
func (a *authenticator) ask(r *http.Request, token string) (*Claims, error) {
	if a.hook == nil {
		return nil, nil
	}
	id, err := a.hook.Authenticate(r, token)
	switch {
	case err != nil:
		a.log.Debug("authenticator refused", "err", err)
		return nil, hookError(err)
	case id != nil:
		return id.claims()
	}
	return nil, nil
}

// hookError is what the client learns of an Authenticator's error.
func hookError(err error) error {
	switch {
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrUnavailable), errors.Is(err, ErrUnauthorized):
		return err
	}
	return fmt.Errorf("%w: credentials refused", ErrUnauthorized)
}

// stillHooked checks that an Authenticator's identity has not expired.
func (a *authenticator) stillHooked(c *Claims) error {
	if c.ExpiresAt != nil && !a.now().Before(c.ExpiresAt.Time) {
		return fmt.Errorf("%w: token expired", ErrUnauthorized)
	}
	return nil
}
