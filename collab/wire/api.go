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
