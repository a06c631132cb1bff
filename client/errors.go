package client

import (
	"errors"
	"fmt"
)

// Errors returned by Conn and Doc methods. Test for them with errors.Is.
var (
	// ErrClosed: the connection was closed by Close or ended for good.
	ErrClosed = errors.New("client: connection closed")
	// ErrLeft: the document was left; its state stays readable.
	ErrLeft = errors.New("client: document left")
	// ErrJoined: Join was called for a document this Conn already has.
	ErrJoined = errors.New("client: document already joined")
	// ErrReadOnly: the server lets this editor only read the document.
	ErrReadOnly = errors.New("client: document is read-only")
	// ErrPosition: a position or length outside the current text.
	ErrPosition = errors.New("client: position out of range")
	// ErrProtocol: the server broke the protocol (an unexpected message).
	ErrProtocol = errors.New("client: protocol violation by server")
	// ErrClientID: Options.ClientID is not 1–64 letters, digits, '-' or '_'.
	ErrClientID = errors.New("client: invalid client id")
	// ErrColor: Options.Color is not "#rgb", "#rrggbb" or "#rrggbbaa".
	ErrColor = errors.New("client: invalid color")
)

// ServerError is an error message from the server (docs/protocol.md,
// "Errors"). Use errors.As to inspect Code, one of the wire.Code constants.
type ServerError struct {
	Code    string
	Message string
	Doc     string // the document concerned, if any
	Seq     uint64 // the submit concerned, if any
	// By, for not_found after the document was deleted, names who deleted
	// it when the server knows (the name in the deleting token).
	By string
}

func (e *ServerError) Error() string {
	if e.Doc != "" {
		return fmt.Sprintf("client: server error %s on %q: %s", e.Code, e.Doc, e.Message)
	}
	return fmt.Sprintf("client: server error %s: %s", e.Code, e.Message)
}

// CloseError reports that the server closed the connection with Code, a
// WebSocket close code such as 4001 (replaced) or 1008 (policy), after
// which the client does not reconnect.
type CloseError struct {
	Code int
	Text string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("client: connection closed by server: %d %s", e.Code, e.Text)
}

// HandshakeError reports that the WebSocket handshake was refused with an
// HTTP status, e.g. 401 or 403.
type HandshakeError struct {
	StatusCode int
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("client: websocket handshake refused: http status %d", e.StatusCode)
}
