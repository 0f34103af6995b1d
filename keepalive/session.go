package keepalive

import (
	"math"
	"math/rand/v2"
	"time"
)

// noTime marks an unset time offset.
const noTime int64 = math.MinInt64

// Health is a snapshot of one session, for health endpoints and reports.
type Health struct {
	// State is the session's current state.
	State State `json:"state"`
	// Interval is the current heartbeat interval.
	Interval time.Duration `json:"interval"`
	// LastSuccess is when the connection was last proven alive (ping reply, or
	// inbound traffic with InboundIsLiveness); zero if never.
	LastSuccess time.Time `json:"last_success"`
	// RTT is the EWMA of ping round trips; RTTP50 and RTTP99 are over the window.
	RTT    time.Duration `json:"rtt"`
	RTTP50 time.Duration `json:"rtt_p50"`
	RTTP99 time.Duration `json:"rtt_p99"`
	// ConsecutiveFailures counts heartbeat failures since the last proof of liveness.
	ConsecutiveFailures int `json:"consecutive_failures"`
	// Reconnects counts Connect actions after the first one.
	Reconnects int `json:"reconnects"`
	// HeartbeatsSent counts SendPing and SendPresence actions; HeartbeatsFailed
	// counts failed heartbeats (missed replies and reported send failures).
	HeartbeatsSent   uint64 `json:"heartbeats_sent"`
	HeartbeatsFailed uint64 `json:"heartbeats_failed"`
	// OnSecondary: the fallback strategy is on its secondary heartbeat.
	OnSecondary bool `json:"on_secondary"`
	// LatencyAlert: an AlertLatencyHigh is in force.
	LatencyAlert bool `json:"latency_alert"`
}

// Session is the keep-alive state machine of one connection. It is not safe for
// concurrent use; it starts no goroutines, reads no clock and does no I/O.
//
// Times are kept as nanosecond offsets from the time of the first Step (epoch),
// which keeps the session small and preserves monotonic clock readings.
//
// Heartbeat schedule: the first heartbeat is due one interval after EventConnected.
// A presence heartbeat is complete when sent and the next is due one interval
// later; a ping is complete on its reply or its failure (at the latest at sent +
// ReplyDeadline), and the next is due one interval after that, so that there is
// never more than one outstanding ping (whatsmeow's keepAliveLoop works the same
// way). With MeasureFromLastRead the next heartbeat is due one interval after the
// later of that point and the last byte read (gRPC A8).
type Session struct {
	policy *Policy
	rng    *rand.Rand
	out    []Action // Step's reusable result buffer
	lat    *latency // allocated on the first RTT sample
	epoch  time.Time

	now int64 // offset of the latest Step

	seq     uint64 // last Seq issued
	pingSeq uint64 // outstanding ping, 0 = none
	// mark: while a ping is outstanding, when it was sent; otherwise the base the
	// next heartbeat is scheduled from (due at mark + interval). noTime = none.
	mark int64
	// due: in StateWaiting, when to reconnect (noTime = never); in StateConnected
	// with a ping outstanding, its reply deadline, fixed when it was sent.
	due      int64
	hbGap    int64 // idle gap before the last heartbeat was sent
	interval int64 // current interval (ns)

	lastSend    int64
	lastRecv    int64
	lastSuccess int64 // last proof of liveness (ping reply, or inbound with InboundIsLiveness)
	connectedAt int64

	ad adaptive

	sent, failed uint32 // heartbeats sent and failed (saturating)
	failures     int32  // consecutive failures (detection)
	reconnects   int32
	retries      uint16 // reconnect supervisor's counter (saturating)
	fbFails      uint16 // consecutive primary failures (fallback, saturating)
	fbCount      uint16 // secondary heartbeats since the last primary retry
	adSucc       uint16 // adaptive: consecutive successes since the last growth

	state       State
	lastCause   Cause
	started     bool // a Connect was ever emitted
	onSecondary bool
	// presPending: the presence of the latest heartbeat may still report a
	// failure; its Seq is seq − presBack (1 when a ping followed it).
	presPending bool
	presBack    uint8
}

// NewSession returns an idle session following p, drawing randomness only from
// rng. rng may be shared by sessions that are stepped from one goroutine; nil
// means a fixed-seed source (deterministic).
func NewSession(p *Policy, rng *rand.Rand) *Session {
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	s := &Session{policy: p, rng: rng}
	s.reset()
	s.resetInterval()
	return s
}

func (s *Session) reset() {
	s.now = 0
	s.mark, s.due, s.hbGap = noTime, noTime, noTime
	s.lastSend, s.lastRecv, s.lastSuccess = noTime, noTime, noTime
	s.connectedAt = noTime
	s.ad.reset()
	s.adSucc = 0
}

// resetInterval sets the interval for the policy's mode from scratch.
func (s *Session) resetInterval() {
	c := &s.policy.cfg
	switch c.IntervalMode {
	case IntervalAdaptive:
		s.interval = int64(min(c.Adaptive.Initial, s.policy.ceiling))
		s.ad.reset()
		s.adSucc = 0
	case IntervalRandom:
		s.interval = s.drawInterval()
	default:
		s.interval = int64(c.Interval)
	}
}

// State returns where the session is in its lifecycle.
func (s *Session) State() State { return s.state }

// Interval returns the current heartbeat interval: the fixed one, the one drawn
// for the next heartbeat (random), or the adaptive controller's.
func (s *Session) Interval() time.Duration { return time.Duration(s.interval) }

// Policy returns the session's current policy.
func (s *Session) Policy() *Policy { return s.policy }

// Step feeds one event at time now and returns the actions to run, in order. The
// returned slice is only valid until the next call to Step. A stopped session
// returns nil for every event.
//
// Within one Step, the action that does the work comes before the
// ActionStateChange it causes (EventStart → ActionConnect, ActionStateChange).
//
//	event            idle        connecting   connected                     waiting
//	Start            connect     –            –                             connect now
//	Connected        connected   connected    new connection (re-armed)     connected
//	Disconnected     –           supervisor   supervisor                    –
//	ConnectFailed    –           supervisor   –                             –
//	HeartbeatAck     –           –            success if Seq is the ping    –
//	HeartbeatFailed  –           –            failure if Seq is pending     –
//	Inbound          –           –            last read (liveness)          –
//	Tick             –           –            deadline/silence/heartbeat    connect if due
//	ConfigChanged    new policy in every state (re-plans a waiting attempt)
//	LoggedOut, Replaced, Banned, Stop: ActionClose, stopped, in every state
//
// "supervisor" is the reconnect supervisor: StateWaiting with a delay, or a
// Connect at once (see supervisor.go). A detected dead connection is replaced at
// once: ActionConnect{Cause} and StateConnecting.
func (s *Session) Step(now time.Time, ev Event) []Action {
	if s.state == StateStopped {
		return nil
	}
	if s.out == nil {
		s.out = make([]Action, 0, 2) // most steps emit at most two actions
	}
	s.out = s.out[:0]
	s.step(now, ev)
	return s.out
}

// AppendStep is Step appending the actions to dst instead of to the session's
// own buffer: a driver that handles many sessions from one goroutine can reuse
// one buffer for all of them and save the per-session buffer (80 B).
func (s *Session) AppendStep(dst []Action, now time.Time, ev Event) []Action {
	if s.state == StateStopped {
		return dst
	}
	saved := s.out
	s.out = dst
	s.step(now, ev)
	dst = s.out
	s.out = saved
	return dst
}

func (s *Session) emit(a Action) { s.out = append(s.out, a) }

func (s *Session) setState(st State) {
	if st == s.state {
		return
	}
	prev := s.state
	s.state = st
	s.emit(Action{Kind: ActionStateChange, State: st, PrevState: prev})
}

func (s *Session) step(t time.Time, ev Event) {
	if s.epoch.IsZero() {
		s.epoch = t
	}
	now := int64(t.Sub(s.epoch))
	if now < s.now { // time never goes back inside the core
		now = s.now
	}
	s.now = now

	switch ev.Kind {
	case EventStart:
		switch s.state {
		case StateIdle, StateWaiting:
			s.connect(CauseUnknown)
		}
	case EventConnected:
		if s.state != StateStopped {
			s.onConnected(now)
		}
	case EventDisconnected:
		switch s.state {
		case StateConnected:
			s.adaptDisconnect(now, ev.Cause)
			s.leaveConnected(now)
			s.lastCause = ev.Cause
			s.supervise(now, true)
		case StateConnecting:
			s.lastCause = ev.Cause
			s.supervise(now, false)
		}
	case EventConnectFailed:
		if s.state == StateConnecting {
			s.lastCause = ev.Cause
			s.supervise(now, false)
		}
	case EventLoggedOut:
		s.stop(CauseLoggedOut)
	case EventReplaced:
		s.stop(CauseReplaced)
	case EventBanned:
		s.stop(CauseBanned)
	case EventStop:
		s.stop(CauseStopped)
	case EventHeartbeatAck:
		if s.state == StateConnected {
			s.onAck(now, ev.Seq, ev.RTT)
		}
	case EventHeartbeatFailed:
		if s.state == StateConnected {
			s.onFailed(now, ev.Seq)
		}
	case EventInbound:
		if s.state == StateConnected {
			s.onInbound(now)
		}
	case EventTick:
		s.onTick(now)
	case EventConfigChanged:
		if ev.Policy != nil {
			s.onConfigChanged(now, ev.Policy)
		}
	}
}

// stop ends the session for good.
func (s *Session) stop(c Cause) {
	s.emit(Action{Kind: ActionClose, Cause: c})
	s.pingSeq, s.presPending = 0, false
	s.due = noTime
	s.setState(StateStopped)
}

// connect emits a Connect action and enters StateConnecting.
func (s *Session) connect(c Cause) {
	if s.started {
		s.reconnects++
	}
	s.started = true
	s.due = noTime
	s.emit(Action{Kind: ActionConnect, Cause: c})
	s.setState(StateConnecting)
}

func (s *Session) onConnected(now int64) {
	c := &s.policy.cfg
	s.connectedAt = now
	s.lastSend, s.lastRecv = now, now // the handshake is traffic both ways
	s.pingSeq, s.presPending = 0, false
	s.mark = noTime
	s.failures = 0
	s.fbFails, s.fbCount, s.onSecondary = 0, 0, false
	s.due = noTime
	if c.Reconnect.Mode == ReconnectLinear {
		s.retries = 0 // whatsmeow resets AutoReconnectErrors on login success
	}
	s.started = true
	s.schedule(now)
	s.setState(StateConnected)
}

// leaveConnected ends the heartbeat schedule of the current connection and resets
// the backoff if the connection was stable.
func (s *Session) leaveConnected(now int64) {
	s.pingSeq, s.presPending = 0, false
	s.mark = noTime
	if s.connectedAt != noTime && now-s.connectedAt >= int64(s.policy.cfg.Reconnect.StableAfter) {
		s.retries = 0
	}
}

// forceReconnect replaces a connection the detection declared dead.
func (s *Session) forceReconnect(now int64, c Cause) {
	s.leaveConnected(now)
	s.lastCause = c
	s.connect(c)
}

// NextDeadline is when the session next needs EventTick; the zero Time means never.
// After a Step at now it is never before now.
func (s *Session) NextDeadline() time.Time {
	d := s.nextDeadline()
	if d == noTime {
		return time.Time{}
	}
	if d < s.now {
		d = s.now
	}
	return s.epoch.Add(time.Duration(d))
}

func (s *Session) nextDeadline() int64 {
	switch s.state {
	case StateWaiting:
		return s.due
	case StateConnected:
		var d int64
		if s.pingSeq != 0 {
			d = s.due
		} else {
			d = s.nextHeartbeat()
		}
		if sd := s.silenceDeadline(); sd != noTime && sd < d {
			d = sd
		}
		return d
	}
	return noTime
}

func (s *Session) silenceDeadline() int64 {
	det := &s.policy.cfg.Detection
	if det.MaxSilence <= 0 || det.SilenceOnHeartbeat || s.lastRecv == noTime {
		return noTime
	}
	return s.lastRecv + int64(det.MaxSilence)
}

func (s *Session) onTick(now int64) {
	switch s.state {
	case StateWaiting:
		if s.due != noTime && now >= s.due {
			s.connect(s.lastCause)
		}
	case StateConnected:
		if s.pingSeq != 0 && now >= s.due {
			s.pingExpired(now)
			if s.state != StateConnected {
				return
			}
		}
		if sd := s.silenceDeadline(); sd != noTime && now >= sd {
			s.forceReconnect(now, CauseSilence)
			return
		}
		if s.pingSeq == 0 && now >= s.nextHeartbeat() {
			s.sendHeartbeat(now)
		}
	}
}

func (s *Session) onConfigChanged(now int64, p *Policy) {
	old := s.policy.cfg
	s.policy = p
	c := &p.cfg
	switch {
	case c.IntervalMode != old.IntervalMode || c.Adaptive != old.Adaptive:
		s.resetInterval()
	case c.IntervalMode == IntervalFixed:
		s.interval = int64(c.Interval)
	case c.IntervalMode == IntervalRandom && (c.IntervalMin != old.IntervalMin || c.IntervalMax != old.IntervalMax):
		s.interval = s.drawInterval()
	}
	if c.IntervalMode == IntervalAdaptive && time.Duration(s.interval) > p.ceiling {
		s.interval = int64(p.ceiling)
	}
	if s.lat != nil && (c.Latency.Window != old.Latency.Window) {
		s.lat = nil // a new window size: start over
	}
	if c.Strategy != StrategyFallback {
		s.onSecondary, s.fbFails, s.fbCount = false, 0, 0
	}
	if s.state == StateWaiting && c.Reconnect != old.Reconnect {
		// Re-plan the pending attempt under the new supervisor policy, undoing the
		// retry the old plan counted.
		if s.due != noTime && s.retries > 0 &&
			(old.Reconnect.Mode == ReconnectBackoff || old.Reconnect.Mode == ReconnectLinear) {
			s.retries--
		}
		s.supervise(now, false)
	}
}

// Health returns a snapshot of the session.
func (s *Session) Health() Health {
	h := Health{
		State:               s.state,
		Interval:            time.Duration(s.interval),
		ConsecutiveFailures: int(s.failures),
		Reconnects:          int(s.reconnects),
		HeartbeatsSent:      uint64(s.sent),
		HeartbeatsFailed:    uint64(s.failed),
		OnSecondary:         s.onSecondary,
	}
	if s.lastSuccess != noTime {
		h.LastSuccess = s.epoch.Add(time.Duration(s.lastSuccess))
	}
	if s.lat != nil {
		h.RTT = s.lat.ewmaDuration()
		h.RTTP50, h.RTTP99 = s.lat.percentiles()
		h.LatencyAlert = s.lat.alert
	}
	return h
}
