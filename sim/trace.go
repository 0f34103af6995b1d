package sim

import (
	"fmt"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// TraceEvent is one line of a run's trace: an event the simulator processed or an
// action the engine returned.
type TraceEvent struct {
	// At is the simulated time since the start of the run.
	At time.Duration `json:"at"`
	// Kind names the event ("frame_arrive", "tick", …) or the action ("action:send_ping").
	Kind string `json:"kind"`
	// Detail describes it for humans (frame kind, connection, sequence number, cause).
	Detail string `json:"detail"`
}

// String formats the trace line as "12m30.1s kind detail".
func (e TraceEvent) String() string {
	return fmt.Sprintf("%12s %-22s %s", e.At, e.Kind, e.Detail)
}

// TraceFunc receives trace events in order. It is called synchronously from the
// simulation loop.
type TraceFunc func(TraceEvent)

func (k frameKind) String() string {
	switch k {
	case fPing:
		return "ping"
	case fPong:
		return "pong"
	case fPresence:
		return "presence"
	case fReceipt:
		return "receipt"
	case fMessage:
		return "message"
	case fFin:
		return "fin"
	case fStreamError:
		return "stream_error"
	case fLogout:
		return "logout"
	case fReplaced:
		return "replaced"
	}
	return "unknown"
}

func (d direction) String() string {
	if d == dirUp {
		return "up"
	}
	return "down"
}

func (s *sim) traceEvent(e *event) {
	var detail string
	switch e.kind {
	case evEngine:
		detail = fmt.Sprintf("event=%s seq=%d", keepalive.EventKind(e.aux), e.aux2)
	case evHop:
		detail = fmt.Sprintf("conn=%d %s %s seq=%d box=%d", e.f.conn, e.f.dir, e.f.kind, e.f.seq, e.f.hop)
	case evArrive:
		detail = fmt.Sprintf("conn=%d %s %s seq=%d bytes=%d sent=%s", e.f.conn, e.f.dir, e.f.kind, e.f.seq, e.f.size, time.Duration(e.f.sent))
	case evBoxExpire:
		name := ""
		if k := int(e.aux); k < len(s.run.Path) {
			name = s.run.Path[k].Name
		}
		detail = fmt.Sprintf("conn=%d box=%d (%s)", e.conn, e.aux, name)
	case evConnectDone:
		detail = fmt.Sprintf("conn=%d outcome=%s", e.conn, connectOutcome(e.aux))
	case evGiveUp, evServerIdle, evBoxSignal:
		detail = fmt.Sprintf("conn=%d", e.conn)
		if e.kind == evBoxSignal {
			detail += " cause=" + keepalive.Cause(e.aux).String()
		}
	case evInbound:
		detail = fmt.Sprintf("messages so far=%d", len(s.srv.msgs))
	case evFault, evFaultEnd:
		f := s.run.Faults[e.aux]
		detail = fmt.Sprintf("kind=%s duration=%s", f.Kind, f.Duration)
	}
	s.trace(TraceEvent{At: time.Duration(e.at), Kind: e.kind.String(), Detail: detail})
}

// traceInput traces an event fed to the engine ("event:heartbeat_ack").
func (s *sim) traceInput(ev *keepalive.Event) {
	var detail string
	switch ev.Kind {
	case keepalive.EventHeartbeatAck:
		detail = fmt.Sprintf("seq=%d rtt=%s", ev.Seq, ev.RTT)
	case keepalive.EventHeartbeatFailed:
		detail = fmt.Sprintf("seq=%d", ev.Seq)
	case keepalive.EventDisconnected, keepalive.EventConnectFailed:
		detail = "cause=" + ev.Cause.String()
	}
	s.trace(TraceEvent{At: time.Duration(s.now), Kind: "event:" + ev.Kind.String(), Detail: detail})
}

func (s *sim) traceAction(a *keepalive.Action) {
	var detail string
	switch a.Kind {
	case keepalive.ActionSendPing:
		detail = fmt.Sprintf("seq=%d deadline=%s interval=%s", a.Seq, a.Deadline, a.Interval)
	case keepalive.ActionSendPresence:
		detail = fmt.Sprintf("seq=%d type=%s interval=%s", a.Seq, a.Presence, a.Interval)
	case keepalive.ActionConnect, keepalive.ActionClose:
		detail = fmt.Sprintf("cause=%s", a.Cause)
	case keepalive.ActionStateChange:
		detail = fmt.Sprintf("%s -> %s", a.PrevState, a.State)
	case keepalive.ActionAlert:
		detail = fmt.Sprintf("alert=%s value=%s", a.Alert, a.Value)
	}
	s.trace(TraceEvent{At: time.Duration(s.now), Kind: "action:" + a.Kind.String(), Detail: detail})
}

func (o connectOutcome) String() string {
	switch o {
	case connectOK:
		return "ok"
	case connectTimeout:
		return "timeout"
	case connectRefused:
		return "refused"
	}
	return "unknown"
}
