package wire

import (
	"encoding/json"
	"time"
)

// Bodies of the HTTP API (docs/protocol.md, "HTTP API").
type (
	// DocInfo is an entry of GET /api/docs.
	DocInfo struct {
		ID      string    `json:"id"`
		Rev     uint64    `json:"rev"`
		Length  int       `json:"length"`
		Created time.Time `json:"created"`
		Updated time.Time `json:"updated"`
	}
	// DocList answers GET /api/docs. Next, when set, is the after= of the next page.
	DocList struct {
		Docs []DocInfo `json:"docs"`
		Next string    `json:"next,omitempty"`
	}
	// DocText answers GET /api/docs/{id} and GET /api/docs/{id}/text.
	DocText struct {
		ID   string `json:"id"`
		Rev  uint64 `json:"rev"`
		Text string `json:"text"`
	}
	// DocRev answers PUT /api/docs/{id}.
	DocRev struct {
		ID  string `json:"id"`
		Rev uint64 `json:"rev"`
	}
	// OpRecord is an entry of GET /api/docs/{id}/ops.
	OpRecord struct {
		Rev    uint64          `json:"rev"`
		Op     json.RawMessage `json:"op"`
		Client string          `json:"client,omitempty"`
		Seq    uint64          `json:"seq,omitempty"`
		Author string          `json:"author,omitempty"`
		Time   time.Time       `json:"time"`
	}
	// OpList answers GET /api/docs/{id}/ops. Next, when set, is the
	// from= of the next page: this one was cut by its count or bytes.
	OpList struct {
		ID   string     `json:"id"`
		Ops  []OpRecord `json:"ops"`
		Next uint64     `json:"next,omitempty"`
	}
	// ErrorBody is the body of every HTTP error.
	ErrorBody struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
)

// Bodies of the history endpoints.
type (
	// AuthorSpan is a run of the text inserted by one editor: Client is
	// its public id (empty for HTTP edits and text of unknown origin),
	// Name the name it edited under.
	AuthorSpan struct {
		Start  int    `json:"start"`
		Length int    `json:"length"`
		Client string `json:"client"`
		Name   string `json:"name"`
	}
	// Authors answers GET /api/docs/{id}/authors.
	Authors struct {
		ID    string       `json:"id"`
		Rev   uint64       `json:"rev"`
		Spans []AuthorSpan `json:"spans"`
	}
	// VersionInfo answers POST /api/docs/{id}/versions and is an entry of GET.
	VersionInfo struct {
		ID      string    `json:"id"`
		Rev     uint64    `json:"rev"`
		Name    string    `json:"name"`
		Created time.Time `json:"created"`
		Author  string    `json:"author"`
	}
	// VersionList answers GET /api/docs/{id}/versions.
	VersionList struct {
		ID       string        `json:"id"`
		Versions []VersionInfo `json:"versions"`
	}
	// VersionRequest is the body of POST /api/docs/{id}/versions; Rev
	// defaults to the head.
	VersionRequest struct {
		Name string  `json:"name"`
		Rev  *uint64 `json:"rev"`
	}
	// RestoreRequest is the body of POST /api/docs/{id}/restore.
	RestoreRequest struct {
		Rev *uint64 `json:"rev"`
	}
)

// Bodies of GET /api/docs/{id}/sessions.
type (
	// SessionAuthor is an editor of a session: Client its public id (empty
	// for HTTP edits), Name the name it edited under, Ops how many of the
	// session's ops are its.
	SessionAuthor struct {
		Client string `json:"client"`
		Name   string `json:"name"`
		Ops    int    `json:"ops"`
	}
	// Session is a run of revisions From..To (inclusive) with no pause
	// longer than the request's between two of them.
	Session struct {
		From    uint64          `json:"from"`
		To      uint64          `json:"to"`
		Start   time.Time       `json:"start"`
		End     time.Time       `json:"end"`
		Ops     int             `json:"ops"`
		Authors []SessionAuthor `json:"authors"`
		Editors int             `json:"editors"`
	}
	// SessionList answers GET /api/docs/{id}/sessions, newest first. Next,
	// when set, is the before= of the next page; Pruned says the history
	// before the last session is pruned (that session may have begun
	// earlier).
	SessionList struct {
		ID       string    `json:"id"`
		Sessions []Session `json:"sessions"`
		Next     uint64    `json:"next,omitempty"`
		Pruned   bool      `json:"pruned,omitempty"`
	}
)

// OriginCheck is the answer of GET /api/origin-check: whether a page of
// the request's origin may open a WebSocket here. Browsers hide the status
// of a refused upgrade from scripts; this lets the page say why it cannot
// connect. It tells the caller about its own origin only.
type OriginCheck struct {
	Allowed bool `json:"allowed"`
	// Origin is the request's origin as the server compares it (lowercase
	// scheme://host[:port]); empty when the request has none or it is
	// opaque ("null": a sandboxed frame or a file), which no setting
	// allows.
	Origin string `json:"origin,omitempty"`
	// Setting is where the operator adds Origin to allow it, when refused.
	Setting string `json:"setting,omitempty"`
}
