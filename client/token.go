package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/collabd/collab/collab/wire"
)

// refreshLead is the longest a token is renewed before it expires; a
// short-lived token is renewed when a quarter of its life is left.
const refreshLead = time.Minute

// tokenExpiry reads the exp claim of a JWT without checking it: the
// server does; the client only needs to know when to renew it.
func tokenExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	return time.Unix(int64(*claims.Exp), 0), true
}

// renewAt is when to renew token, got at now; zero: never.
func renewAt(token string, now time.Time) time.Time {
	exp, ok := tokenExpiry(token)
	if !ok {
		return time.Time{}
	}
	return exp.Add(-min(refreshLead, max(exp.Sub(now), 0)/4))
}

// currentToken is the token of the next hello or auth.
func (c *Conn) currentToken() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// fetchToken asks Options.TokenFunc for a new token and keeps it.
func (c *Conn) fetchToken(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.HandshakeTimeout)
	defer cancel()
	tok, err := c.opts.TokenFunc(ctx)
	if err != nil {
		return fmt.Errorf("client: token: %w", err)
	}
	c.mu.Lock()
	c.token = tok
	c.renew = renewAt(tok, time.Now())
	c.mu.Unlock()
	c.tokenStale.Store(false)
	return nil
}

// tokenDue reports whether a token must be fetched before dialling.
func (c *Conn) tokenDue() bool {
	if c.opts.TokenFunc == nil {
		return false
	}
	if c.tokenStale.Load() {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token == "" || !c.renew.IsZero() && !time.Now().Before(c.renew)
}

// renewTimer fires when the token must be renewed; nil without a
// TokenFunc or an expiry.
func (c *Conn) renewTimer() *time.Timer {
	if c.opts.TokenFunc == nil {
		return nil
	}
	c.mu.Lock()
	at := c.renew
	c.mu.Unlock()
	if at.IsZero() {
		return nil
	}
	return time.NewTimer(time.Until(at))
}

// timerC is t's channel; nil (never ready) for a nil t.
func timerC(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

// needToken asks run for a new token now: the server ended a document's
// session for its token (expired, revoked).
func (c *Conn) needToken() {
	c.tokenStale.Store(true) // also for a redial before run gets to it
	select {
	case c.tokenNow <- struct{}{}:
	default:
	}
}

// refreshOn gets a new token and gives it to the open session s with
// auth, then rejoins the documents that wait for it. The server handles
// auth before the joins sent after it. Without a token the waiting
// documents end.
func (c *Conn) refreshOn(s *session) {
	if err := c.fetchToken(c.ctx); err != nil {
		c.log.Warn("client: token refresh failed", "client", c.id, "err", err)
		c.eachDoc(func(d *Doc) {
			if d.awaitToken {
				d.end(err)
			}
		})
		return
	}
	s.send(wire.Auth{Type: wire.TypeAuth, Token: c.currentToken()})
	c.eachDoc(func(d *Doc) {
		if d.awaitToken && d.sess == s {
			d.awaitToken = false
			d.join(s) // resuming, unless an op awaits confirmation from the text
		}
	})
}

// eachDoc calls fn with every document, its mutex held.
func (c *Conn) eachDoc(fn func(d *Doc)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, d := range c.docs {
		d.mu.Lock()
		fn(d)
		d.mu.Unlock()
	}
}

// onAuthed applies the permission of a token the server accepted to the
// documents it now grants: a read token makes them read-only at once.
func (c *Conn) onAuthed(m *wire.Authed) {
	for _, id := range m.Docs {
		if d := c.doc(id); d != nil {
			d.mu.Lock()
			if ro := m.Perm == "read"; ro != d.readOnly {
				d.readOnly = ro
				d.events.emit(Event{Kind: EventAccess, Rev: d.rev})
			}
			d.mu.Unlock()
		}
	}
}

// sessionEnded handles an unauthorized error about a document it was live
// on: the server ended its session (token expired or revoked). With a
// TokenFunc it waits for a new token and rejoins, keeping its pending
// edits; without one it ends with se, its text and edits still readable.
func (d *Doc) sessionEnded(se *ServerError) {
	if d.c.opts.TokenFunc == nil {
		d.end(se)
		return
	}
	d.c.log.Info("client: session ended by the server, renewing the token", "doc", d.id, "err", se)
	d.live, d.awaitToken = false, true
	d.events.emit(Event{Kind: EventError, Rev: d.rev, Err: se})
	d.c.needToken()
}
