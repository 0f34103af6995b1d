package keepalive

import (
	"context"
	"errors"
	"time"
)

// Conn is the connection an Engine keeps alive: the only I/O the driver does.
// Adapters (a whatsmeow client, a simulator link, a test fake) implement it.
//
// Calls may block; the driver never makes them on its loop goroutine but on
// elastic worker pools (see driver_pool.go) that grow whenever every worker is
// inside a call, so a slow connection does not delay the other sessions.
// Guarantees the driver gives:
//
//   - Connect and Close of one Conn never overlap each other and run in the order
//     the session asked for them.
//   - Ping and SendPresence may overlap each other and Close.
//   - Every ctx is cancelled when the engine stops; Ping's ctx also carries the
//     reply deadline (ctx.Deadline, on the engine's clock) and is cancelled when
//     it passes. Connect's ctx carries EngineOptions.ConnectTimeout likewise.
//     Implementations must return promptly once ctx is done.
//
// Things that happen on their own (the server closed the stream, logged the device
// out, traffic arrived) are reported with Engine.Notify.
type Conn interface {
	// Connect (re)connects and logs in; it closes any previous connection first.
	// A nil error means the session is up.
	Connect(ctx context.Context) error
	// SendPresence sends a presence or chat-state stanza of type p. No reply is
	// expected; an error means the stanza could not be written.
	SendPresence(ctx context.Context, p PresenceType) error
	// Ping sends a ping and waits for its reply until ctx is done. It returns the
	// round-trip time; a zero rtt with a nil error lets the driver measure it on
	// its clock from dispatch to return.
	Ping(ctx context.Context) (rtt time.Duration, err error)
	// Close closes the connection. It must not block indefinitely.
	Close() error
}

// CauseError is implemented by errors that know why a connection ended; the
// driver reports that Cause with EventConnectFailed. Other errors count as
// CauseUnknown.
type CauseError interface {
	error
	// Cause is why the connection ended or could not be made.
	Cause() Cause
}

// ErrorCause returns the Cause carried by err (see CauseError), or CauseUnknown.
func ErrorCause(err error) Cause {
	var ce CauseError
	if errors.As(err, &ce) {
		return ce.Cause()
	}
	return CauseUnknown
}

// causeErr is the CauseError returned by WithCause.
type causeErr struct {
	err   error
	cause Cause
}

func (e *causeErr) Error() string { return e.err.Error() }
func (e *causeErr) Unwrap() error { return e.err }
func (e *causeErr) Cause() Cause  { return e.cause }

// WithCause wraps err so that ErrorCause(err) returns c. A nil err stays nil.
func WithCause(err error, c Cause) error {
	if err == nil {
		return nil
	}
	return &causeErr{err: err, cause: c}
}
