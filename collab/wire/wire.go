// Package wire is the one JSON codec of collab: the messages of the
// WebSocket protocol, version 1, and the bodies of the HTTP API, as
// specified in docs/protocol.md, with their encoders and decoders, used by
// the server, the Go client and collab-bench alike.
//
// Every message is a JSON object with a "type". Positions and lengths are
// Unicode code points; ops are in the ot wire form.
//
// DecodeClient (what the server reads), DecodeServer (what a client
// reads) and Encode take the hot messages, submit, op and ack, in their
// usual form without reflection, and everything else through
// encoding/json, which is the reference their tests hold them to. Lone
// surrogate escapes are refused, not turned into U+FFFD.
//
// An op's own JSON (ot.Op's MarshalJSON, UnmarshalJSON, AppendJSON) stays
// in package ot, which imports nothing of collab's so that it can be used
// alone; this package calls it, and its string escaper, rather than
// having a second one.
package wire

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"

	"github.com/collabd/collab/ot"
)

// Version is the protocol version this package speaks.
const Version = 1

// Message types.
const (
	TypeHello    = "hello"
	TypeWelcome  = "welcome"
	TypeJoin     = "join"
	TypeJoined   = "joined"
	TypeLeave    = "leave"
	TypeSubmit   = "submit"
	TypeAck      = "ack"
	TypeOp       = "op"
	TypePresence = "presence"
	TypeEditor   = "editor"
	TypeError    = "error"
	TypePing     = "ping"
	TypePong     = "pong"
	TypeAuth     = "auth"
	TypeAuthed   = "authed"
)

// Error codes carried by Error messages and HTTP error bodies.
const (
	CodeBadMessage         = "bad_message"
	CodeUnsupportedVersion = "unsupported_version"
	CodeHelloRequired      = "hello_required"
	CodeInvalidDocID       = "invalid_doc_id"
	CodeNotJoined          = "not_joined"
	CodeInvalidOp          = "invalid_op"
	CodeFutureRev          = "future_rev"
	CodeRevTooOld          = "rev_too_old"
	CodeDocTooLarge        = "doc_too_large"
	CodeReadOnly           = "read_only"
	CodeUnauthorized       = "unauthorized"
	CodeForbidden          = "forbidden"
	CodeTooManyDocs        = "too_many_docs"
	CodeTooManyEditors     = "too_many_editors"
	CodeTooManyVersions    = "too_many_versions"
	CodeNotFound           = "not_found"
	CodeUnavailable        = "unavailable"
	CodeInternal           = "internal"
	// CodeRateLimited answers an upgrade or request refused by a rate
	// limit (HTTP 429).
	CodeRateLimited = "rate_limited"
	// CodeHostNotAllowed answers an HTTP request whose Host is not one of
	// the server's names (HTTP 421).
	CodeHostNotAllowed = "host_not_allowed"
	// CodeTooManyLoaded answers a join (or HTTP write) of a document that
	// is not loaded when the server holds its maximum of loaded documents
	// and none is idle (HTTP 503).
	CodeTooManyLoaded = "too_many_loaded"
	// CodeQuotaExceeded refuses a submit or PUT: the document grew by
	// its quota of bytes for the time window (HTTP 429).
	CodeQuotaExceeded = "quota_exceeded"
)

// WebSocket close codes beyond RFC 6455's.
const (
	CloseReplaced = 4001 // a newer connection took over this client id
	CloseTooSlow  = 4002 // the outbound queue filled
)

// MaxSeq is the largest submit seq: 2^53-1, the largest integer a
// JavaScript number holds exactly.
const MaxSeq = 1<<53 - 1

// Editor events.
const (
	EventJoin  = "join"
	EventLeave = "leave"
)

// Hello opens a session. Client is the stable client id.
type Hello struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	Client  string `json:"client"`
	Name    string `json:"name,omitempty"`
	Color   string `json:"color,omitempty"` // empty or ValidColor
	Token   string `json:"token,omitempty"`
}

// ValidColor reports whether c may be a Hello's color: "#rgb", "#rrggbb"
// or "#rrggbbaa" in hex digits. Clients put a peer's colour into CSS (a
// custom property used in background and border): anything else, such as
// url(…), would let one editor make others' browsers fetch a URL.
func ValidColor(c string) bool {
	switch len(c) {
	case 4, 7, 9:
	default:
		return false
	}
	if c[0] != '#' {
		return false
	}
	for i := 1; i < len(c); i++ {
		if d := c[i] | 0x20; !('0' <= c[i] && c[i] <= '9' || 'a' <= d && d <= 'f') {
			return false
		}
	}
	return true
}

// Welcome answers Hello. Client is the client's public id (PublicID of
// the id it sent): what other editors see in its ops, carets and arrivals,
// and what it recognises its own by.
type Welcome struct {
	Type    string  `json:"type"`
	Version int     `json:"version"`
	Client  string  `json:"client"`
	Limits  *Limits `json:"limits,omitempty"`
}

// Limits are the sizes a server accepts, advertised in Welcome so that a
// client can send an edit too large for one message as several submits
// instead of having it refused. A zero field is not advertised.
type Limits struct {
	Frame      int64 `json:"frame"`      // bytes of one message from the client
	Doc        int   `json:"doc"`        // UTF-8 bytes of a document
	Op         int   `json:"op"`         // bytes of one op's JSON (so also of the text it inserts)
	Components int   `json:"components"` // items of one op's JSON array
}

// DefaultLimits are the limits of a server that advertises none, and
// stand for those it leaves out: collabd's defaults.
var DefaultLimits = Limits{Frame: 1 << 20, Doc: 16 << 20, Op: 1 << 20, Components: 100_000}

// PublicID is the form of a client id shown to anyone but the client: in
// op, presence and editor messages, in joined's ops and in the HTTP API's
// history. The id itself is what the server dedupes a client's submits by
// and what a newer connection takes over (4001). Shown to others, it would
// let any editor of a document submit under another client's id with a
// higher seq, after which that client's edits would be acknowledged as
// duplicates and never applied. PublicID is one-way (a truncated SHA-256),
// so what others see cannot be used to act as the client; every server of
// a cluster computes the same. The empty id (an HTTP submit without one)
// stays empty.
func PublicID(client string) string {
	if client == "" {
		return ""
	}
	sum := sha256.Sum256([]byte("collab client id\x00" + client))
	return hex.EncodeToString(sum[:12])
}

// Join starts editing Doc. Rev, when set, is the last revision the client
// holds: the server answers with the ops after it.
type Join struct {
	Type string  `json:"type"`
	Doc  string  `json:"doc"`
	Rev  *uint64 `json:"rev,omitempty"`
	// Token is an optional per-document token (see docs/security.md).
	Token string `json:"token,omitempty"`
}

// Joined gives the document's state. Exactly one of Text (the full text at
// Rev) and Ops (the records after the client's revision up to Rev) is
// meaningful: Text != nil means a full state.
type Joined struct {
	Type  string   `json:"type"`
	Doc   string   `json:"doc"`
	Rev   uint64   `json:"rev"`
	Seq   uint64   `json:"seq"`
	Text  *string  `json:"text,omitempty"`
	Ops   []Record `json:"ops,omitempty"`
	Reset bool     `json:"reset,omitempty"`
	// ReadOnly is true when this editor may not submit.
	ReadOnly bool `json:"readonly,omitempty"`
}

// Record is one committed op, as sent in Joined.Ops.
type Record struct {
	Rev    uint64 `json:"rev"`
	Op     ot.Op  `json:"op"`
	Client string `json:"client,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Auth gives the open connection a new token (a refresh, or a narrower
// permission) without reconnecting or rejoining: it replaces the token of
// every joined document it grants, and is the token of later joins that
// carry none.
type Auth struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// Authed answers Auth: the token is accepted. Exp is its expiry in Unix
// seconds (0: none, open mode), Perm its permission, and Docs the joined
// documents it now applies to (the others keep their token).
type Authed struct {
	Type string   `json:"type"`
	Exp  int64    `json:"exp,omitempty"`
	Perm string   `json:"perm,omitempty"`
	Docs []string `json:"docs"`
}

// Ping asks the server for a Pong: a browser, which cannot see WebSocket
// ping frames, learns so that its connection still works.
type Ping struct {
	Type string `json:"type"`
}

// Pong answers a Ping.
type Pong struct {
	Type string `json:"type"`
}

// Leave stops editing Doc.
type Leave struct {
	Type string `json:"type"`
	Doc  string `json:"doc"`
}

// Submit sends an op that applies to the text at Rev.
type Submit struct {
	Type string `json:"type"`
	Doc  string `json:"doc"`
	Rev  uint64 `json:"rev"`
	Seq  uint64 `json:"seq"`
	Op   ot.Op  `json:"op"`
}

// Ack says the submit Seq is durably committed as revision Rev.
type Ack struct {
	Type string `json:"type"`
	Doc  string `json:"doc"`
	Seq  uint64 `json:"seq"`
	Rev  uint64 `json:"rev"`
}

// Op carries another editor's op, committed as revision Rev.
type Op struct {
	Type   string `json:"type"`
	Doc    string `json:"doc"`
	Rev    uint64 `json:"rev"`
	Op     ot.Op  `json:"op"`
	Client string `json:"client,omitempty"`
	Seq    uint64 `json:"seq,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Presence is a caret or selection at revision Rev, in code points. From the
// client, Client, Name and Color are ignored; the server fills them in.
type Presence struct {
	Type   string `json:"type"`
	Doc    string `json:"doc"`
	Client string `json:"client,omitempty"`
	Name   string `json:"name,omitempty"`
	Color  string `json:"color,omitempty"`
	Rev    uint64 `json:"rev"`
	Anchor int    `json:"anchor"`
	Head   int    `json:"head"`
}

// Editor says an editor joined or left Doc.
type Editor struct {
	Type   string `json:"type"`
	Doc    string `json:"doc"`
	Client string `json:"client"`
	Name   string `json:"name,omitempty"`
	Color  string `json:"color,omitempty"`
	Event  string `json:"event"`
}

// Error reports a failed request; nothing changed.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Doc     string `json:"doc,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	// By names who deleted the document, for not_found after a deletion
	// by a token with a name.
	By string `json:"by,omitempty"`
}

// ErrNoType is returned by PeekType for a message without a string "type".
var ErrNoType = errors.New("wire: message has no type")

// PeekType returns the "type" of a JSON message.
func PeekType(data []byte) (string, error) {
	var env struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return "", err
	}
	if env.Type == "" {
		return "", ErrNoType
	}
	return env.Type, nil
}
