package collab

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/collabd/collab/collab/wire"
	"github.com/collabd/collab/ot"
	"github.com/collabd/collab/storage"
)

// Errors of the server. Each maps to one protocol code and HTTP status in
// codeOf; test for them with errors.Is.
var (
	ErrBadMessage     = wire.ErrBadMessage // the same sentinel, so that what wire.DecodeClient refuses maps here
	ErrVersion        = errors.New("collab: unsupported protocol version")
	ErrHelloRequired  = errors.New("collab: hello required first")
	ErrInvalidDocID   = errors.New("collab: invalid document id")
	ErrInvalidClient  = errors.New("collab: invalid client id")
	ErrNotJoined      = errors.New("collab: document not joined")
	ErrInvalidOp      = wire.ErrInvalidOp // as ErrBadMessage
	ErrFutureRev      = errors.New("collab: revision is in the future")
	ErrRevTooOld      = errors.New("collab: revision older than the retained history")
	ErrDocTooLarge    = errors.New("collab: document would exceed its size limit")
	ErrTooManyDocs    = errors.New("collab: too many documents joined on this connection")
	ErrTooManyEditors = errors.New("collab: too many editors on this document")
	// ErrNotFound and ErrUnavailable are storage's sentinels: one for each
	// condition, whether the store or the server finds it.
	ErrNotFound       = storage.ErrNotFound
	ErrUnavailable    = storage.ErrUnavailable
	ErrShuttingDown   = errors.New("collab: server shutting down")
	ErrForbidden      = errors.New("collab: forbidden")
	ErrBadRequest     = errors.New("collab: bad request")
	ErrUnauthorized   = errors.New("collab: unauthorized")
	ErrReadOnly       = errors.New("collab: read-only")
	ErrRateLimited    = errors.New("collab: rate limited, retry later")
	ErrHostNotAllowed = errors.New("collab: host not allowed")
	ErrTooManyLoaded  = errors.New("collab: too many documents loaded on this server, retry later")
	ErrQuota          = errors.New("collab: the document grew by its quota of bytes for now, retry later")
)

// DeletedError is why the editors of a document deleted while they edit
// it are dropped from it: not_found, with the name of the deleting token.
type DeletedError struct {
	By string // the name in the token of the DELETE; empty if none
}

func (e *DeletedError) Error() string {
	if e.By == "" {
		return "collab: document deleted"
	}
	return "collab: document deleted by " + e.By
}

func (e *DeletedError) Unwrap() error { return ErrNotFound }

var (
	errForbiddenOrigin = fmt.Errorf("%w: origin not allowed", ErrForbidden)
	errConnRate        = fmt.Errorf("%w: too many new connections from this address", ErrRateLimited)
	errConnsPerIP      = fmt.Errorf("%w: too many open connections and requests from this address", ErrRateLimited)
	errAPIRate         = fmt.Errorf("%w: too many API requests from this address", ErrRateLimited)
	errWriteRate       = fmt.Errorf("%w: too many bytes of ops submitted per second on this connection", ErrRateLimited)
)

// codeOf is the one place where errors become protocol codes and HTTP statuses.
func codeOf(err error) (code string, status int) {
	var le *ot.LengthError
	switch {
	case err == nil:
		return "", http.StatusOK
	case errors.Is(err, ErrUnauthorized):
		return wire.CodeUnauthorized, http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		return wire.CodeForbidden, http.StatusForbidden
	case errors.Is(err, ErrReadOnly):
		return wire.CodeReadOnly, http.StatusForbidden
	case errors.Is(err, ErrRateLimited):
		return wire.CodeRateLimited, http.StatusTooManyRequests
	case errors.Is(err, ErrHostNotAllowed):
		return wire.CodeHostNotAllowed, http.StatusMisdirectedRequest
	case errors.Is(err, ErrTooManyLoaded):
		return wire.CodeTooManyLoaded, http.StatusServiceUnavailable
	case errors.Is(err, ErrQuota):
		return wire.CodeQuotaExceeded, http.StatusTooManyRequests
	case errors.Is(err, ErrBadMessage), errors.Is(err, ErrBadRequest):
		return wire.CodeBadMessage, http.StatusBadRequest
	case errors.Is(err, ErrVersion):
		return wire.CodeUnsupportedVersion, http.StatusBadRequest
	case errors.Is(err, ErrHelloRequired):
		return wire.CodeHelloRequired, http.StatusBadRequest
	case errors.Is(err, ErrInvalidDocID):
		return wire.CodeInvalidDocID, http.StatusBadRequest
	case errors.Is(err, ErrInvalidClient):
		return wire.CodeBadMessage, http.StatusBadRequest
	case errors.Is(err, ErrNotJoined):
		return wire.CodeNotJoined, http.StatusConflict
	case errors.Is(err, ErrDocTooLarge), errors.Is(err, ot.ErrTooLarge):
		return wire.CodeDocTooLarge, http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrInvalidOp), errors.As(err, &le),
		errors.Is(err, ot.ErrBaseLength), errors.Is(err, ot.ErrPastEnd),
		errors.Is(err, ot.ErrZeroCount), errors.Is(err, ot.ErrBadNumber),
		errors.Is(err, ot.ErrInvalidText), errors.Is(err, ot.ErrSyntax):
		return wire.CodeInvalidOp, http.StatusBadRequest
	case errors.Is(err, ErrFutureRev):
		return wire.CodeFutureRev, http.StatusConflict
	case errors.Is(err, ErrRevTooOld), errors.Is(err, storage.ErrPruned):
		return wire.CodeRevTooOld, http.StatusGone
	case errors.Is(err, ErrTooManyDocs):
		return wire.CodeTooManyDocs, http.StatusTooManyRequests
	case errors.Is(err, ErrTooManyEditors):
		return wire.CodeTooManyEditors, http.StatusTooManyRequests
	case errors.Is(err, storage.ErrTooManyVersions):
		return wire.CodeTooManyVersions, http.StatusConflict
	case errors.Is(err, ErrNotFound):
		return wire.CodeNotFound, http.StatusNotFound
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrShuttingDown),
		errors.Is(err, storage.ErrClosed), errors.Is(err, storage.ErrConflict),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return wire.CodeUnavailable, http.StatusServiceUnavailable
	default:
		return wire.CodeInternal, http.StatusInternalServerError
	}
}

// unavailableMessage is what clients are told of an unavailable document,
// whatever made it so.
const unavailableMessage = "collab: document unavailable, retry"

// unavailableBecause is ErrUnavailable with a reason clients may be told.
type unavailableBecause struct{ why string }

func (u *unavailableBecause) Error() string { return ErrUnavailable.Error() + ": " + u.why }
func (u *unavailableBecause) Unwrap() error { return ErrUnavailable }

// publicMessage is the text sent to clients: internal errors are not exposed.
func publicMessage(err error) string {
	if code, _ := codeOf(err); code == wire.CodeInternal || code == wire.CodeUnavailable {
		if errors.Is(err, ErrShuttingDown) {
			return ErrShuttingDown.Error()
		}
		if u, ok := errors.AsType[*unavailableBecause](err); ok {
			return unavailableMessage + ": " + u.why
		}
		if code == wire.CodeInternal {
			return "collab: internal error"
		}
		return unavailableMessage
	}
	return err.Error()
}
