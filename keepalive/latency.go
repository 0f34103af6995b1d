package keepalive

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// The latency monitor keeps, per session, the EWMA of ping RTTs, a slow baseline,
// and the last Window samples in a ring of 16-bit codes (rttCode: exact below
// 2.048 ms, within 0.1 % above) for p50/p99. It alerts (AlertLatencyHigh) once the EWMA has been
// above Threshold (if set) or above baseline × RiseFactor for Samples consecutive
// samples, and recovers (AlertLatencyRecovered) after Samples consecutive samples
// below both. The baseline starts at the first sample and is an EWMA with a
// quarter of Alpha fed only by samples that are not themselves above baseline ×
// RiseFactor, and not while an alert is in force, so a sustained rise cannot
// become the new normal.
type latency struct {
	ring   []uint16 // rttCode of each sample
	ewma   float32  // ns (float32 keeps the struct at 48 bytes; ≈ 1e-7 relative error)
	base   float32  // ns
	pos    uint16
	n      uint16
	breach uint16
	calm   uint16
	alert  bool
}

func (l *latency) ewmaDuration() time.Duration { return time.Duration(l.ewma) }

// percentiles returns p50 and p99 (nearest rank) over the window.
func (l *latency) percentiles() (p50, p99 time.Duration) {
	if l.n == 0 {
		return 0, 0
	}
	var buf [64]uint16
	v := append(buf[:0], l.ring[:l.n]...)
	slices.Sort(v) // the code is monotonic: sorting codes sorts RTTs
	rank := func(q float64) time.Duration {
		i := int(math.Ceil(q*float64(len(v)))) - 1
		i = max(0, min(i, len(v)-1))
		return rttDecode(v[i])
	}
	return rank(0.50), rank(0.99)
}

// sampleRTT feeds one ping RTT to the monitor and emits alerts.
func (s *Session) sampleRTT(rtt time.Duration) {
	c := &s.policy.cfg.Latency
	if rtt < 0 {
		rtt = 0
	}
	l := s.lat
	if l == nil {
		l = &latency{ring: make([]uint16, c.Window)}
		s.lat = l
	}
	l.ring[l.pos] = rttCode(rtt)
	l.pos++
	if int(l.pos) == len(l.ring) {
		l.pos = 0
	}
	if int(l.n) < len(l.ring) {
		l.n++
	}
	x := float64(rtt)
	ewma, base := float64(l.ewma), float64(l.base)
	if l.n == 1 && ewma == 0 && base == 0 {
		ewma, base = x, x
	} else {
		ewma += c.Alpha * (x - ewma)
	}
	high := (c.Threshold > 0 && ewma > float64(c.Threshold)) || ewma > base*c.RiseFactor
	if !high && !l.alert && x <= base*c.RiseFactor {
		base += c.Alpha / 4 * (x - base)
	}
	l.ewma, l.base = float32(ewma), float32(base)
	if high {
		l.calm = 0
		if l.breach < math.MaxUint16 {
			l.breach++
		}
		if !l.alert && int(l.breach) >= c.Samples {
			l.alert = true
			s.emit(Action{Kind: ActionAlert, Alert: AlertLatencyHigh, Value: time.Duration(ewma)})
		}
		return
	}
	l.breach = 0
	if l.calm < math.MaxUint16 {
		l.calm++
	}
	if l.alert && int(l.calm) >= c.Samples {
		l.alert = false
		s.emit(Action{Kind: ActionAlert, Alert: AlertLatencyRecovered, Value: time.Duration(ewma)})
	}
}

// rttCode encodes an RTT as a 16-bit code whose order is the RTTs' order: the
// microseconds v themselves below 2048, above that 11 significant bits of v and
// its binary exponent e (code = 1024·e + v>>e), so the relative error is below
// 1/1024. Codes never overflow: the largest Duration gives e = 43.
func rttCode(rtt time.Duration) uint16 {
	v := uint64(max(rtt, 0) / time.Microsecond)
	e := max(bits.Len64(v)-11, 0)
	if e == 0 {
		return uint16(v)
	}
	return uint16(e<<10 + int(v>>e))
}

// rttDecode inverts rttCode (to the bottom of the code's bucket).
func rttDecode(c uint16) time.Duration {
	if c < 2048 {
		return time.Duration(c) * time.Microsecond
	}
	e := int(c>>10) - 1
	m := uint64(c) - uint64(e)<<10
	return time.Duration(m<<e) * time.Microsecond
}
