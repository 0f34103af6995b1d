package keepalive

import "time"

// ActionKind names what the core asks its driver (or the simulator) to do.
type ActionKind uint8

const (
	// ActionSendPresence: send a presence stanza of type Presence; no reply expected.
	// The outcome comes back as EventHeartbeatFailed{Seq} if the send fails.
	ActionSendPresence ActionKind = iota + 1
	// ActionSendPing: send a ping IQ; the reply must come within Deadline. The outcome
	// comes back as EventHeartbeatAck{Seq, RTT} or EventHeartbeatFailed{Seq}.
	ActionSendPing
	// ActionConnect: (re)connect; close any previous connection first. The outcome
	// comes back as EventConnected or EventConnectFailed.
	ActionConnect
	// ActionClose: close the connection and do not reconnect (Reason says why).
	ActionClose
	// ActionAlert: something an operator should know (Alert, Value).
	ActionAlert
	// ActionStateChange: the session moved from PrevState to State (logs, metrics).
	ActionStateChange
)

// String returns the action kind's name as used in logs and traces.
func (k ActionKind) String() string {
	switch k {
	case ActionSendPresence:
		return "send_presence"
	case ActionSendPing:
		return "send_ping"
	case ActionConnect:
		return "connect"
	case ActionClose:
		return "close"
	case ActionAlert:
		return "alert"
	case ActionStateChange:
		return "state_change"
	}
	return "unknown"
}

// PresenceType is the type attribute of a presence or chat-state heartbeat, as the
// seed lists them.
type PresenceType uint8

const (
	// PresenceAvailable marks the account online; it silences the phone's notifications.
	PresenceAvailable PresenceType = iota
	// PresenceUnavailable marks the account offline.
	PresenceUnavailable
	// PresenceComposing is the "typing…" chat state.
	PresenceComposing
	// PresenceRecording is the "recording audio…" chat state.
	PresenceRecording
)

// String returns the presence type as WhatsApp spells it.
func (p PresenceType) String() string {
	switch p {
	case PresenceAvailable:
		return "available"
	case PresenceUnavailable:
		return "unavailable"
	case PresenceComposing:
		return "composing"
	case PresenceRecording:
		return "recording"
	}
	return "unknown"
}

// AlertKind names an operator alert.
type AlertKind uint8

const (
	// AlertLatencyHigh: ping RTT stayed above the threshold, or rose by the configured
	// factor over its baseline, for the configured number of samples. Value is the EWMA.
	AlertLatencyHigh AlertKind = iota + 1
	// AlertLatencyRecovered: RTT is back to normal after AlertLatencyHigh.
	AlertLatencyRecovered
	// AlertFallback: the fallback strategy switched to its secondary heartbeat.
	AlertFallback
	// AlertFallbackRecovered: the primary heartbeat works again.
	AlertFallbackRecovered
)

// String returns the alert's name as used in logs and metrics.
func (a AlertKind) String() string {
	switch a {
	case AlertLatencyHigh:
		return "latency_high"
	case AlertLatencyRecovered:
		return "latency_recovered"
	case AlertFallback:
		return "fallback"
	case AlertFallbackRecovered:
		return "fallback_recovered"
	}
	return "unknown"
}

// State is where a session is in its lifecycle.
type State uint8

const (
	// StateIdle: created, not started.
	StateIdle State = iota
	// StateConnecting: a Connect action is outstanding.
	StateConnecting
	// StateConnected: up; the heartbeat schedule runs.
	StateConnected
	// StateWaiting: down; the reconnect supervisor waits for the next attempt.
	StateWaiting
	// StateStopped: terminal (logged out, replaced, banned or stopped).
	StateStopped
)

// String returns the state's name as used in logs, metrics and health snapshots.
func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateWaiting:
		return "waiting"
	case StateStopped:
		return "stopped"
	}
	return "unknown"
}

// Action is one output of a Session's Step. Only the fields its Kind names are set.
// The one-byte fields come first so that an Action takes 40 bytes.
type Action struct {
	// Kind says what to do and which of the other fields are set.
	Kind ActionKind
	// Presence is the type to send (ActionSendPresence).
	Presence PresenceType
	// State and PrevState describe a transition (ActionStateChange).
	State, PrevState State
	// Cause is why a connection is being replaced (ActionConnect after a failure)
	// or why a session stopped (ActionClose).
	Cause Cause
	// Alert and Value describe an alert (ActionAlert); Value is the RTT average
	// (EWMA) for the latency alerts and zero for the fallback ones.
	Alert AlertKind
	Value time.Duration
	// Seq identifies a heartbeat; outcomes are reported with the same Seq.
	Seq uint64
	// Deadline is how long a ping reply may take (ActionSendPing).
	Deadline time.Duration
	// Interval is the heartbeat interval in force when the heartbeat was scheduled.
	Interval time.Duration
}
