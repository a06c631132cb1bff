package collab

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/collabd/collab/storage"
	"github.com/golang-jwt/jwt/v5"
)

// Perm is what a token lets its holder do with the documents it names.
type Perm string

// Permissions, each including the ones before it.
const (
	PermRead  Perm = "read"  // receive the text, ops and presence
	PermWrite Perm = "write" // also submit ops and PUT texts
	PermAdmin Perm = "admin" // also delete, list and back up
)

func (p Perm) rank() int {
	switch p {
	case PermRead:
		return 1
	case PermWrite:
		return 2
	case PermAdmin:
		return 3
	}
	return 0
}

// Claims are the claims of a collab token, a JWT signed with HS256 by the
// application's backend (MintToken) with the server's secret.
type Claims struct {
	// Doc is a document id, or a prefix ending in "*" ("team-*" grants
	// team-a and team-b, not teamb; "*" grants every document).
	Doc string `json:"doc"`
	// Perm is read, write or admin.
	Perm Perm `json:"perm"`
	// Name is the user's display name: other editors see it instead of
	// the name the client sends.
	Name string `json:"name,omitempty"`
	// ExpiresAt (exp) is required.
	jwt.RegisteredClaims

	grants []Grant // of an Authenticator's Identity, when hooked
	hooked bool    // from an Authenticator, not a token: grants replace Doc and Perm
}

// claimNames are the claims a token is read for, spelled as JWT spells
// them. encoding/json would also match "PERM" or "Doc" to a field, and
// the last spelling in the payload would win.
var claimNames = [...]string{"doc", "perm", "name", "iss", "sub", "aud", "exp", "nbf", "iat", "jti"}

// UnmarshalJSON reads the claims whose names match exactly; others,
// however close, are ignored like any unknown claim.
func (c *Claims) UnmarshalJSON(data []byte) error {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return err
	}
	exact := make(map[string]json.RawMessage, len(claimNames))
	for _, name := range claimNames {
		if v, ok := all[name]; ok {
			exact[name] = v
		}
	}
	data, err := json.Marshal(exact)
	if err != nil {
		return err
	}
	type plain Claims // Claims without this method
	return json.Unmarshal(data, (*plain)(c))
}

// Validate is called by the JWT parser after the registered claims passed.
func (c *Claims) Validate() error {
	if c.Perm.rank() == 0 {
		return fmt.Errorf("perm must be read, write or admin")
	}
	if c.Doc == "" {
		return fmt.Errorf("doc is required")
	}
	if c.Doc != "*" && !storage.ValidDocID(strings.TrimSuffix(c.Doc, "*")) {
		return fmt.Errorf("doc is not a document id or a prefix ending in *")
	}
	return nil
}

// Covers reports whether the token names document id.
func (c *Claims) Covers(id string) bool {
	if prefix, ok := strings.CutSuffix(c.Doc, "*"); ok {
		return strings.HasPrefix(id, prefix)
	}
	return c.Doc == id
}

// Grants reports whether the token's permission includes p.
func (c *Claims) Grants(p Perm) bool { return c.Perm.rank() >= p.rank() }

// ErrMintExpiry is returned by MintToken for claims without an expiry.
var ErrMintExpiry = errors.New("collab: token needs an expiry (ExpiresAt)")

// MintToken signs claims with secret (HS256). The claims must carry an
// expiry and be valid (a document id or prefix, a permission).
func MintToken(secret []byte, c Claims) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("collab: empty token secret")
	}
	if c.ExpiresAt == nil {
		return "", ErrMintExpiry
	}
	if err := c.Validate(); err != nil {
		return "", fmt.Errorf("collab: token claims: %w", err)
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, &c).SignedString(secret)
}

// authenticator checks credentials with the application's Authenticator
// and tokens against the server's secret. A nil *authenticator means
// authentication is off.
type authenticator struct {
	hook   Authenticator // nil: none
	log    *slog.Logger
	now    func() time.Time
	secret []byte
	parser *jwt.Parser // nil: no secret
	// still checks the claims of a token parsed earlier with the parser's
	// rules, for a connection's token at each join.
	still *jwt.Validator
}

// tokenLeeway absorbs clock skew between the token's issuer and the server
// in exp, nbf and iat.
const tokenLeeway = 30 * time.Second

func newAuthenticator(opts Options) *authenticator {
	now := opts.clock
	if now == nil {
		now = time.Now
	}
	if len(opts.AuthSecret) == 0 {
		if opts.Authenticator == nil {
			return nil
		}
		return &authenticator{hook: opts.Authenticator, log: opts.Logger, now: now}
	}
	popts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(now),
	}
	if opts.AuthAudience != "" {
		popts = append(popts, jwt.WithAudience(opts.AuthAudience))
	}
	if opts.AuthIssuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.AuthIssuer))
	}
	return &authenticator{hook: opts.Authenticator, log: opts.Logger, now: now,
		secret: opts.AuthSecret, parser: jwt.NewParser(popts...), still: jwt.NewValidator(popts...)}
}

// parse verifies a token. Its errors wrap ErrUnauthorized and say why
// without ever quoting the token.
func (a *authenticator) parse(token string) (*Claims, error) {
	if token == "" {
		return nil, fmt.Errorf("%w: token required", ErrUnauthorized)
	}
	c := &Claims{}
	_, err := a.parser.ParseWithClaims(token, c, func(*jwt.Token) (any, error) { return a.secret, nil })
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrUnauthorized, tokenProblem(err, c))
	}
	return c, nil
}

// stillValid checks that claims parsed earlier (on the upgrade or in
// hello) have not expired since.
func (a *authenticator) stillValid(c *Claims) error {
	if c.hooked {
		return a.stillHooked(c)
	}
	if err := a.still.Validate(c); err != nil {
		return fmt.Errorf("%w: %s", ErrUnauthorized, tokenProblem(err, c))
	}
	return nil
}

// deadline is when a session on claims must end: the token's expiry plus
// the leeway the parser allows. Zero: never (no claims, open mode).
func deadline(c *Claims) time.Time {
	if c == nil || c.ExpiresAt == nil {
		return time.Time{}
	}
	return c.ExpiresAt.Add(tokenLeeway)
}

// tokenProblem names what is wrong with a token in a fixed vocabulary, so
// no part of the token reaches a log or a client through a parser message.
// c is what could be read of the token's claims.
func tokenProblem(err error, c *Claims) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && c.ExpiresAt == nil:
		return "token lacks an expiry"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && len(c.Audience) == 0:
		return "token lacks an audience (aud)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token lacks an issuer (iss)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token for another audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token from another issuer"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad token signature"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token not signed with HS256"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "invalid token claims"
	default:
		return "malformed token"
	}
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authorize checks that claims grant perm on document id ("" for the
// server-wide admin endpoints, which need a token for "*").
func authorize(c *Claims, id string, perm Perm) error {
	has := c.permOn(id)
	switch {
	case has == "" && id == "":
		return fmt.Errorf("%w: this endpoint needs a token for every document (doc \"*\")", ErrForbidden)
	case has == "":
		return fmt.Errorf("%w: the token does not grant document %q", ErrForbidden, id)
	case has.rank() < perm.rank() && perm == PermWrite:
		return fmt.Errorf("%w: the token grants %s only", ErrReadOnly, has)
	case has.rank() < perm.rank():
		return fmt.Errorf("%w: needs a %s token, not %s", ErrForbidden, perm, has)
	}
	return nil
}
