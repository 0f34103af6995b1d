package keepalive

import "time"

// EventKind names what happened to a session. Every input of the core is an event,
// a timeout included: the core never reads a clock.
type EventKind uint8

const (
	// EventStart asks an idle session to connect (the first Connect action).
	EventStart EventKind = iota + 1
	// EventConnected: the connection is up and logged in.
	EventConnected
	// EventDisconnected: the connection went down; Cause says why.
	EventDisconnected
	// EventConnectFailed: a Connect action did not produce a connection.
	EventConnectFailed
	// EventLoggedOut: the server removed the device. Terminal.
	EventLoggedOut
	// EventReplaced: another client took over the session. Terminal.
	EventReplaced
	// EventBanned: the account is (temporarily) banned. Terminal.
	EventBanned
	// EventHeartbeatAck: the heartbeat with Seq was acknowledged after RTT.
	EventHeartbeatAck
	// EventHeartbeatFailed: sending the heartbeat with Seq failed, or its reply
	// never came (as the connection saw it).
	EventHeartbeatFailed
	// EventInbound: bytes arrived from the server (any traffic).
	EventInbound
	// EventTick: the time returned by NextDeadline was reached.
	EventTick
	// EventConfigChanged: replace the session's policy with Policy.
	EventConfigChanged
	// EventStop: the owner stops the session (orderly shutdown). Terminal.
	EventStop
)

// String returns the event kind's name as used in logs and traces.
func (k EventKind) String() string {
	switch k {
	case EventStart:
		return "start"
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventConnectFailed:
		return "connect_failed"
	case EventLoggedOut:
		return "logged_out"
	case EventReplaced:
		return "replaced"
	case EventBanned:
		return "banned"
	case EventHeartbeatAck:
		return "heartbeat_ack"
	case EventHeartbeatFailed:
		return "heartbeat_failed"
	case EventInbound:
		return "inbound"
	case EventTick:
		return "tick"
	case EventConfigChanged:
		return "config_changed"
	case EventStop:
		return "stop"
	}
	return "unknown"
}

// Cause says why a connection ended, as far as the client can tell.
type Cause uint8

const (
	// CauseUnknown: the connection ended for a reason the client cannot see.
	CauseUnknown Cause = iota
	// CauseClosed: the peer or a middlebox closed the connection (FIN).
	CauseClosed
	// CauseReset: the connection was reset (RST).
	CauseReset
	// CauseHeartbeatTimeout: the engine gave up after missed heartbeat replies.
	CauseHeartbeatTimeout
	// CauseSilence: nothing was received for longer than Detection.MaxSilence.
	CauseSilence
	// CauseTCPTimeout: TCP retransmission gave up on unacknowledged data.
	CauseTCPTimeout
	// CauseStreamError: the server sent a stream error (515, 503, ...).
	CauseStreamError
	// CauseLocal: the client closed the connection itself.
	CauseLocal
	// CauseLoggedOut: the server removed the device (ActionClose after EventLoggedOut).
	CauseLoggedOut
	// CauseReplaced: another client took over (ActionClose after EventReplaced).
	CauseReplaced
	// CauseBanned: the account is banned (ActionClose after EventBanned).
	CauseBanned
	// CauseStopped: the owner stopped the session (ActionClose after EventStop).
	CauseStopped
)

// String returns the cause's name as used in logs, metrics and results.
func (c Cause) String() string {
	switch c {
	case CauseClosed:
		return "closed"
	case CauseReset:
		return "reset"
	case CauseHeartbeatTimeout:
		return "heartbeat_timeout"
	case CauseSilence:
		return "silence"
	case CauseTCPTimeout:
		return "tcp_timeout"
	case CauseStreamError:
		return "stream_error"
	case CauseLocal:
		return "local"
	case CauseLoggedOut:
		return "logged_out"
	case CauseReplaced:
		return "replaced"
	case CauseBanned:
		return "banned"
	case CauseStopped:
		return "stopped"
	}
	return "unknown"
}

// Event is one input to a Session's Step. Only the fields its Kind names are read.
type Event struct {
	// Kind says what happened and which of the other fields are read.
	Kind EventKind
	// Seq identifies the heartbeat an Ack or Failed refers to (from ActionSend*).
	Seq uint64
	// RTT is the measured round trip of an acknowledged ping.
	RTT time.Duration
	// Cause is why a connection ended (EventDisconnected, EventConnectFailed).
	Cause Cause
	// Policy is the new policy (EventConfigChanged).
	Policy *Policy
}
