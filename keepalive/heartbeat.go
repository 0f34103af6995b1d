package keepalive

import (
	"math"
	"time"
)

// The heartbeat schedule of a connected session: at most one schedule, at most one
// outstanding ping.
//
//	connected ─ interval ─► send ─┬─ presence: complete; next due one interval later
//	                              └─ ping ─┬─ ack (≤ deadline) ─► success; next one interval later
//	                                       └─ failed / deadline ─► failure ─► detection
//	                                                                  ├─ dead: ActionConnect
//	                                                                  └─ alive: next one interval later

// drawInterval draws a uniformly random interval from [IntervalMin, IntervalMax].
func (s *Session) drawInterval() int64 {
	c := &s.policy.cfg
	lo, hi := int64(c.IntervalMin), int64(c.IntervalMax)
	if hi <= lo {
		return lo
	}
	return lo + s.rng.Int64N(hi-lo+1)
}

// schedule makes the next heartbeat due one interval after base.
func (s *Session) schedule(base int64) {
	s.mark = base
	if s.policy.cfg.IntervalMode == IntervalRandom {
		s.interval = s.drawInterval()
	}
}

// nextHeartbeat is when the next heartbeat is due (no ping outstanding).
func (s *Session) nextHeartbeat() int64 {
	base := s.mark
	if base == noTime {
		return noTime
	}
	if s.policy.cfg.MeasureFromLastRead && s.lastRecv > base {
		base = s.lastRecv
	}
	return base + s.interval
}

// lastTraffic is the last time anything crossed the connection either way.
func (s *Session) lastTraffic() int64 { return max(s.lastSend, s.lastRecv) }

// sendHeartbeat sends the heartbeat(s) the strategy asks for.
func (s *Session) sendHeartbeat(now int64) {
	c := &s.policy.cfg
	if c.Detection.SilenceOnHeartbeat && c.Detection.MaxSilence > 0 &&
		now-s.lastRecv > int64(c.Detection.MaxSilence) {
		s.forceReconnect(now, CauseSilence)
		return
	}
	// The previous presence is complete: no failure came back before this send.
	if s.presPending {
		s.presPending = false
		s.heartbeatSucceeded(now, StrategyPresence, s.hbGap)
	}
	gap := now - s.lastTraffic()
	ping, presence := false, false
	switch c.Strategy {
	case StrategyPresence:
		presence = true
	case StrategyPing:
		ping = true
	case StrategyCombined:
		ping, presence = true, true
	case StrategyFallback:
		if s.fallbackKind() == StrategyPing {
			ping = true
		} else {
			presence = true
		}
	}
	iv := time.Duration(s.interval)
	if presence {
		s.seq++
		s.presPending, s.presBack = true, 0
		s.sent = satInc(s.sent)
		s.emit(Action{Kind: ActionSendPresence, Seq: s.seq, Presence: c.Presence, Interval: iv})
	}
	if ping {
		s.seq++
		s.pingSeq = s.seq
		s.mark = now
		s.due = now + int64(c.ReplyDeadline)
		if presence {
			s.presBack = 1
		}
		s.sent = satInc(s.sent)
		s.emit(Action{Kind: ActionSendPing, Seq: s.seq, Deadline: c.ReplyDeadline, Interval: iv})
	} else {
		s.schedule(now)
	}
	s.hbGap = gap
	s.lastSend = now
}

func satInc(n uint32) uint32 {
	if n == math.MaxUint32 {
		return n
	}
	return n + 1
}

func (s *Session) onAck(now int64, seq uint64, rtt time.Duration) {
	if s.pingSeq == 0 || seq != s.pingSeq {
		return // stale: an older ping, or one from a previous connection
	}
	if now > s.due {
		s.pingExpired(now) // the reply came after the deadline: too late
		return
	}
	s.pingSeq = 0
	s.lastRecv = now
	s.proof(now)
	s.sampleRTT(rtt)
	s.heartbeatSucceeded(now, StrategyPing, s.hbGap)
	s.schedule(s.completionBase(now))
}

func (s *Session) onFailed(now int64, seq uint64) {
	switch {
	case seq == 0:
	case seq == s.pingSeq:
		s.pingFailed(now)
	case s.presPending && seq == s.seq-uint64(s.presBack):
		s.presPending = false
		s.heartbeatFailed(now, StrategyPresence, s.hbGap)
	}
}

// pingFailed handles a missed reply (deadline, late ack or reported failure).
func (s *Session) pingFailed(now int64) {
	base := s.completionBase(now)
	s.pingSeq = 0
	s.mark = noTime
	if s.heartbeatFailed(now, StrategyPing, s.hbGap) {
		s.schedule(base)
	}
}

// completionBase is what the next heartbeat is scheduled from when the
// outstanding ping completes at now: now, or its send time with FixedRate.
func (s *Session) completionBase(now int64) int64 {
	if s.policy.cfg.FixedRate && s.mark != noTime {
		return s.mark
	}
	return now
}

// onInbound records a read. With InboundIsLiveness it is a proof of liveness: a
// ping outstanding since before it no longer fails at its deadline (gRPC: a read
// while a ping is outstanding proves the connection alive), but it stays
// outstanding until its reply or deadline, so that two pings are never in flight.
func (s *Session) onInbound(now int64) {
	s.lastRecv = now
	if s.policy.cfg.InboundIsLiveness {
		s.proof(now)
	}
}

// pingExpired handles an outstanding ping whose reply deadline has passed: a
// failure, unless inbound traffic proved the connection alive since it was sent.
func (s *Session) pingExpired(now int64) {
	if s.policy.cfg.InboundIsLiveness && s.lastSuccess != noTime && s.lastSuccess > s.mark {
		base := s.completionBase(now)
		s.pingSeq = 0
		s.mark = noTime
		s.heartbeatSucceeded(now, StrategyPing, s.hbGap)
		s.schedule(base)
		return
	}
	s.pingFailed(now)
}

// proof records a proof of liveness.
func (s *Session) proof(now int64) {
	s.lastSuccess = now
	s.failures = 0
}

// heartbeatSucceeded feeds a success of kind (sent after an idle gap) to the
// fallback and adaptive controllers.
func (s *Session) heartbeatSucceeded(now int64, kind Strategy, gap int64) {
	s.fallbackResult(kind, true)
	if s.policy.cfg.IntervalMode == IntervalAdaptive && gap != noTime && s.adaptiveKind(kind) {
		s.adaptSuccess(now, gap)
	}
}

// heartbeatFailed counts a failure of kind and runs the detection. It returns
// true when the connection is kept (false: a reconnect was forced).
func (s *Session) heartbeatFailed(now int64, kind Strategy, gap int64) bool {
	c := &s.policy.cfg
	s.failed = satInc(s.failed)
	if s.failures < math.MaxInt32 {
		s.failures++
	}
	s.fallbackResult(kind, false)
	// Only the first failure since the last proof of liveness teaches the adaptive
	// controller: later ones on a connection already failing (MaxFailures > 1) are
	// its consequences, whatever the gap before them.
	if c.IntervalMode == IntervalAdaptive && gap != noTime && s.failures == 1 && s.adaptiveKind(kind) {
		s.adaptFailure(now, gap, false)
	}
	d := &c.Detection
	if d.MaxFailures > 0 && int(s.failures) >= d.MaxFailures {
		s.forceReconnect(now, CauseHeartbeatTimeout)
		return false
	}
	// Time without success counts from the later of the last success and the
	// connection's start (whatsmeow starts lastSuccess with the keep-alive loop).
	if d.MaxTimeWithoutSuccess > 0 && now-max(s.lastSuccess, s.connectedAt) >= int64(d.MaxTimeWithoutSuccess) {
		s.forceReconnect(now, CauseHeartbeatTimeout)
		return false
	}
	return true
}

// adaptiveKind says whether outcomes of kind teach the adaptive controller: the
// ping when the strategy sends pings at all, otherwise presence.
func (s *Session) adaptiveKind(kind Strategy) bool {
	c := &s.policy.cfg
	switch c.Strategy {
	case StrategyPresence:
		return kind == StrategyPresence
	case StrategyFallback:
		return true
	}
	return kind == StrategyPing
}

// fallbackKind picks the heartbeat kind to send under StrategyFallback.
func (s *Session) fallbackKind() Strategy {
	f := &s.policy.cfg.Fallback
	if !s.onSecondary {
		return f.Primary
	}
	s.fbCount++
	if int(s.fbCount) >= f.RetryPrimaryEvery {
		s.fbCount = 0
		return f.Primary
	}
	return f.Secondary
}

// fallbackResult updates the fallback switch with an outcome of kind.
func (s *Session) fallbackResult(kind Strategy, ok bool) {
	c := &s.policy.cfg
	if c.Strategy != StrategyFallback || kind != c.Fallback.Primary {
		return
	}
	if ok {
		s.fbFails = 0
		if s.onSecondary {
			s.onSecondary = false
			s.fbCount = 0
			s.emit(Action{Kind: ActionAlert, Alert: AlertFallbackRecovered})
		}
		return
	}
	if s.fbFails < math.MaxUint16 {
		s.fbFails++
	}
	if !s.onSecondary && int(s.fbFails) >= c.Fallback.After {
		s.onSecondary = true
		s.fbCount = 0
		s.emit(Action{Kind: ActionAlert, Alert: AlertFallback})
	}
}
