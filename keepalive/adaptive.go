package keepalive

import (
	"math"
	"time"
)

// The adaptive interval controller (IntervalAdaptive) looks for the largest safe
// heartbeat interval on a path whose idle timeout is unknown. Its evidence is the
// idle gap g before each heartbeat (now − last traffic either way, as the core
// sees it) and, for a close or reset, the gap at the moment the connection died.
//
//	lo: the largest gap proven safe (a heartbeat sent after it succeeded)
//	hi: the smallest gap proven unsafe (a heartbeat sent after it failed, or the
//	    gap at which a close/reset arrived)
//
// Rules (F = Floor, C = the ceiling after the detection budget, M = Margin):
//
//  1. Success after gap g: lo = max(lo, g); a success at g ≥ hi disproves hi.
//     After GrowAfter consecutive successes the interval grows: × GrowFactor
//     (or + GrowStep), but never beyond the midpoint (lo + hi) / 2 while hi is
//     known, nor beyond C.
//  2. Failure after gap g (a missed reply, or a close/reset g after the last
//     traffic) is evidence that g is unsafe: hi = min(hi, g). It is not believed
//     at once when it looks like a random fault rather than an idle timeout —
//     g ≤ lo (a gap already proven safe) or, with no lo yet, g < (1 − M) ×
//     interval (far below the interval) — but it is when the next failure comes
//     before any success (the path changed, or the timeout is far below the
//     interval: a 10 s proxy against a 25 s interval closes every connection
//     after 10 s). Then:
//     - with no lo known, shrink hard: to hi × (1 − M) after a close/reset (the
//     gap measures the timeout itself), to hi / 3 after a missed reply (the gap is
//     only an upper bound);
//     - with lo known, fall back to lo and probe the midpoint later (rule 1).
//  3. Converged when lo ≥ hi × (1 − M): the interval settles at lo × (1 − M),
//     within [ (1−M)² , 1−M ] × the true timeout, and stops probing.
//  4. Re-probe: ReprobeAfter after settling, hi is forgotten and rule 1 grows the
//     interval again (one probing failure per ReprobeAfter at most, if the path
//     did not change).
//
// All intervals stay within [F, C].
type adaptive struct {
	lo, hi    int64 // ns; 0 = unknown
	suspect   int64 // gap of a failure not yet believed; 0 = none
	settledAt int64 // offset when converged; noTime = probing
}

// convergeTolerance absorbs rounding when lo × GrowFactor lands exactly on hi.
const convergeTolerance = int64(time.Millisecond)

func (a *adaptive) reset() { *a = adaptive{settledAt: noTime} }

func (s *Session) adaptClamp(d int64) int64 {
	c := &s.policy.cfg.Adaptive
	d = min(d, int64(s.policy.ceiling))
	return max(d, int64(c.Floor))
}

func (s *Session) adaptConverged() bool {
	a := &s.ad
	m := s.policy.cfg.Adaptive.Margin
	return a.hi > 0 && a.lo > 0 && float64(a.lo+convergeTolerance) >= (1-m)*float64(a.hi)
}

func (s *Session) adaptSettle(now int64) {
	a := &s.ad
	m := s.policy.cfg.Adaptive.Margin
	s.interval = s.adaptClamp(int64((1 - m) * float64(a.lo)))
	a.settledAt = now
	s.adSucc = 0
}

func (s *Session) adaptGrow(cur int64) int64 {
	c := &s.policy.cfg.Adaptive
	if c.GrowStep > 0 {
		return cur + int64(c.GrowStep)
	}
	return int64(float64(cur) * c.GrowFactor)
}

// adaptSuccess applies rule 1 (and 4) to a heartbeat that succeeded after gap.
func (s *Session) adaptSuccess(now, gap int64) {
	a := &s.ad
	c := &s.policy.cfg.Adaptive
	a.suspect = 0
	if a.hi > 0 && gap >= a.hi {
		a.hi = 0 // disproved: the path tolerates more than we thought
		a.settledAt = noTime
	}
	if gap > a.lo {
		a.lo = gap
	}
	if a.settledAt != noTime {
		if now-a.settledAt < int64(c.ReprobeAfter) {
			return
		}
		a.hi = 0
		a.settledAt = noTime
		s.adSucc = 0
		s.interval = s.adaptClamp(s.adaptGrow(s.interval))
		return
	}
	if s.adaptConverged() {
		s.adaptSettle(now)
		return
	}
	if s.adSucc < math.MaxUint16 {
		s.adSucc++
	}
	if int(s.adSucc) < c.GrowAfter {
		return
	}
	s.adSucc = 0
	next := s.adaptGrow(s.interval)
	if a.hi > 0 {
		next = min(next, (a.lo+a.hi)/2)
	}
	if next > s.interval {
		s.interval = s.adaptClamp(next)
	}
}

// adaptFailure applies rules 2 and 3 to a failure after gap; exact says the gap
// measured the timeout itself (a close or reset at expiry).
func (s *Session) adaptFailure(now, gap int64, exact bool) {
	a := &s.ad
	m := s.policy.cfg.Adaptive.Margin
	if gap <= 0 {
		return
	}
	switch {
	case a.lo > 0 && gap <= a.lo:
		if a.suspect == 0 {
			a.suspect = gap
			return
		}
		a.lo = 0 // failures at a gap once proven safe: the path changed
	case a.lo == 0 && float64(gap) < (1-m)*float64(s.interval):
		if a.suspect == 0 {
			a.suspect = gap
			return
		}
	}
	a.suspect = 0
	s.adSucc = 0
	a.settledAt = noTime
	if a.hi == 0 || gap < a.hi {
		a.hi = gap
	}
	if s.adaptConverged() {
		s.adaptSettle(now)
		return
	}
	switch {
	case a.lo > 0:
		s.interval = s.adaptClamp(a.lo)
	case exact:
		s.interval = s.adaptClamp(int64((1 - m) * float64(a.hi)))
	default:
		s.interval = s.adaptClamp(a.hi / 3)
	}
}

// adaptDisconnect feeds a close or reset to the controller. On an idle connection
// the gap since the last traffic measures the timeout itself. With a ping
// outstanding, the close or reset answers that ping (a box that dropped the state
// silently and resets the next packet, like AWS NLB): it is a failure of the ping,
// after the gap that preceded it, as a missed reply would be.
func (s *Session) adaptDisconnect(now int64, c Cause) {
	if s.policy.cfg.IntervalMode != IntervalAdaptive || s.failures > 0 {
		return // a connection already failing ends: no news about the idle timeout
	}
	switch c {
	case CauseClosed, CauseReset, CauseUnknown:
	default:
		return
	}
	if s.pingSeq != 0 {
		if s.hbGap != noTime {
			s.adaptFailure(now, s.hbGap, false)
		}
		return
	}
	if lt := s.lastTraffic(); lt != noTime {
		s.adaptFailure(now, now-lt, true)
	}
}

// AdaptiveBounds reports the adaptive controller's learned bounds: lo, the largest
// idle gap proven safe, and hi, the smallest proven unsafe (0 = unknown), and
// whether it has settled (stopped probing).
func (s *Session) AdaptiveBounds() (lo, hi time.Duration, settled bool) {
	return time.Duration(s.ad.lo), time.Duration(s.ad.hi), s.ad.settledAt != noTime
}
