package mockwa

import (
	"fmt"

	waBinary "go.mau.fi/whatsmeow/binary"
	"go.mau.fi/whatsmeow/types"
)

// EventKind names a server-side event the mock can inject. The reactions are
// whatsmeow's (FACTS.md §3).
type EventKind string

const (
	// StreamError515 sends <stream:error code="515"/> ("restart required") and
	// closes: whatsmeow reconnects by itself.
	StreamError515 EventKind = "stream-error-515"
	// StreamError503 sends <stream:error code="503"/> and closes: whatsmeow
	// emits Disconnected and auto-reconnects.
	StreamError503 EventKind = "stream-error-503"
	// DeviceRemoved sends <stream:error code="401"><conflict
	// type="device_removed"/></stream:error> and closes: whatsmeow emits
	// LoggedOut and deletes its store. The mock forgets the device: later logins
	// fail with reason 401.
	DeviceRemoved EventKind = "device-removed"
	// Replaced sends <stream:error><conflict type="replaced"/></stream:error>
	// and closes: whatsmeow emits StreamReplaced and does not reconnect.
	Replaced EventKind = "replaced"
	// LoginFailure arms a <failure reason=Reason/> for the device's next login
	// instead of <success/>: 401, 403 → LoggedOut; 402 → TemporaryBan; 405 →
	// ClientOutdated; 500, 503 → Disconnected and reconnect. It does not touch
	// a connection already logged in (inject a close too for that).
	LoginFailure EventKind = "login-failure"
	// CleanClose closes the WebSocket with a close frame (1000) and a TCP FIN.
	CleanClose EventKind = "clean-close"
	// AbruptClose resets the TCP connection (RST, no WebSocket close frame).
	AbruptClose EventKind = "abrupt-close"
	// Hang stops reading and writing on the connection while keeping the TCP
	// connection open: a server that hangs. Pings go unanswered until the
	// client gives up; the connection is closed only when the server closes.
	Hang EventKind = "hang"
)

// Event is one injectable server event.
type Event struct {
	// Kind is what happens.
	Kind EventKind `json:"kind"`
	// Reason is the <failure reason> for LoginFailure: 401, 402, 403, 405, 500
	// (any 4xx/5xx is sent as given).
	Reason int `json:"reason,omitempty"`
}

// FailLogin is the Event that makes the device's next login fail with reason.
func FailLogin(reason int) Event { return Event{Kind: LoginFailure, Reason: reason} }

func (e Event) validate() error {
	switch e.Kind {
	case StreamError515, StreamError503, DeviceRemoved, Replaced, CleanClose, AbruptClose, Hang:
		return nil
	case LoginFailure:
		if e.Reason < 400 || e.Reason > 599 {
			return fmt.Errorf("login-failure reason %d: want a 4xx or 5xx code (401, 402, 403, 405, 500)", e.Reason)
		}
		return nil
	default:
		return fmt.Errorf("unknown event kind %q (want one of stream-error-515, stream-error-503, device-removed, replaced, login-failure, clean-close, abrupt-close, hang)", e.Kind)
	}
}

// String renders the event for logs, e.g. "login-failure/402".
func (e Event) String() string {
	if e.Kind == LoginFailure {
		return fmt.Sprintf("%s/%d", e.Kind, e.Reason)
	}
	return string(e.Kind)
}

// streamErrorNode returns the stanza for a stream-error kind.
func streamErrorNode(k EventKind) waBinary.Node {
	switch k {
	case StreamError515:
		return waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "515"}}
	case StreamError503:
		return waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "503"}}
	case DeviceRemoved:
		return waBinary.Node{Tag: "stream:error", Attrs: waBinary.Attrs{"code": "401"},
			Content: []waBinary.Node{{Tag: "conflict", Attrs: waBinary.Attrs{"type": "device_removed"}}}}
	case Replaced:
		return waBinary.Node{Tag: "stream:error",
			Content: []waBinary.Node{{Tag: "conflict", Attrs: waBinary.Attrs{"type": "replaced"}}}}
	}
	panic("not a stream error: " + string(k))
}

// failureNode returns the <failure> sent instead of <success/>.
func failureNode(reason int) waBinary.Node {
	attrs := waBinary.Attrs{"reason": reason}
	if reason == 402 {
		// A temporary ban carries a ban code and an expiry in seconds.
		attrs["code"] = 101
		attrs["expire"] = 3600
	}
	return waBinary.Node{Tag: "failure", Attrs: attrs}
}

// Inject makes ev happen to the device jid now (LoginFailure: at its next
// login). It returns an error for an invalid event, or when the event needs a
// live connection and the device has none.
func (s *Server) Inject(jid types.JID, ev Event) error {
	if err := ev.validate(); err != nil {
		return fmt.Errorf("mockwa: inject: %w", err)
	}
	sess := s.session(jid, true)
	if ev.Kind == LoginFailure {
		sess.mu.Lock()
		sess.failNext = append(sess.failNext, ev.Reason)
		sess.mu.Unlock()
		sess.record("inject", ev.String()+" armed for next login")
		sess.countInjected(ev)
		return nil
	}
	c := sess.current()
	if c == nil {
		return fmt.Errorf("mockwa: inject %s: device %s has no live connection", ev, sess.jid)
	}
	sess.countInjected(ev)
	sess.record("inject", ev.String())
	c.apply(ev)
	return nil
}
