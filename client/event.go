package client

import "github.com/collabd/collab/ot"

// EventKind says what an Event reports.
type EventKind uint8

// The kinds of Event.
const (
	// EventOp: another editor's op (Op, as applied to the local text; Rev,
	// Client, Seq, Name) was applied.
	EventOp EventKind = iota + 1
	// EventAck: the local submit Seq was committed as revision Rev.
	EventAck
	// EventPresence: the caret of Client changed (Presence).
	EventPresence
	// EventJoin: editor Client (Name, Color) arrived.
	EventJoin
	// EventLeave: editor Client left; its presence is gone.
	EventLeave
	// EventReset: the server replaced the document state (joined with a
	// full text after a gap); Op is the change applied to the local text,
	// pending local edits rebased over it.
	EventReset
	// EventReject: the server refused the local submit Seq (Err is a
	// *ServerError). Its effect was removed from the local text by Op,
	// later local edits kept. Seq 0: the client refused the edits not
	// yet sent, by the server's limits (doc_too_large).
	EventReject
	// EventError: a server error about this document that rejected no
	// edit (Err).
	EventError
	// EventStatus: the document went online, offline or closed (Status);
	// when it closed for good, Err says why.
	EventStatus
	// EventAccess: a renewed token (Options.TokenFunc) changed what the
	// document allows: ReadOnly tells.
	EventAccess
)

var kindNames = [...]string{"", "op", "ack", "presence", "join", "leave", "reset", "reject", "error", "status", "access"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is something that happened to a Doc. Events are notifications:
// the state itself is always available from Doc.Text, Rev, Presence and
// Pending, which already reflect an event when it is received.
type Event struct {
	Kind     EventKind
	Rev      uint64 // revision the event concerns (the Doc's Rev after it)
	Seq      uint64 // EventAck, EventReject, EventOp: the submit's seq
	Op       ot.Op  // EventOp, EventReset, EventReject: change to the local text
	Client   string // EventOp, EventPresence, EventJoin, EventLeave: the editor's public id (Conn.PublicID)
	Name     string
	Color    string
	Presence Presence // EventPresence, in local text positions
	Status   Status   // EventStatus
	Err      error    // EventReject, EventError, EventStatus (closed)
	// Missed counts the events dropped just before this one because the
	// channel was full.
	Missed int
}

// Status is the state of a Conn or of a Doc.
type Status uint8

// The statuses.
const (
	// StatusOffline: not connected (or not joined yet); local edits are
	// kept and sent after reconnecting.
	StatusOffline Status = iota
	// StatusOnline: connected (Conn) or joined and live (Doc).
	StatusOnline
	// StatusClosed: ended for good; see Err.
	StatusClosed
)

func (s Status) String() string {
	switch s {
	case StatusOffline:
		return "offline"
	case StatusOnline:
		return "online"
	case StatusClosed:
		return "closed"
	}
	return "unknown"
}

// eventQueue delivers events on a bounded channel without ever blocking the
// sender: when the channel is full the event is dropped and counted, and the
// next delivered event carries the count in Missed. Guarded by the Doc's mu.
type eventQueue struct {
	ch     chan Event
	missed int
	closed bool
}

func newEventQueue(size int) *eventQueue {
	return &eventQueue{ch: make(chan Event, size)}
}

func (q *eventQueue) emit(e Event) {
	if q.closed {
		return
	}
	e.Missed = q.missed
	select {
	case q.ch <- e:
		q.missed = 0
	default:
		q.missed++
	}
}

func (q *eventQueue) close() {
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
