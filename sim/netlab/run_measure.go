package netlab

import (
	"slices"
	"strings"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// measurement turns one lab run's records into a sim.Result in scenario time.
type measurement struct {
	run        sim.Run
	scale      float64
	start, end time.Time
	probe      *probe
	expiries   []ExpiryRecord
	health     keepalive.Health
	counters   mockwa.Counters
	delays     []time.Duration // real time
	sent       int
	faults     int
}

// up scales a real duration back to scenario time.
func (m *measurement) up(d time.Duration) time.Duration { return time.Duration(float64(d) * m.scale) }

// at is a real instant as a scenario-time offset from the start.
func (m *measurement) at(t time.Time) time.Duration { return m.up(t.Sub(m.start)) }

func (m *measurement) clip(t time.Time) time.Time {
	switch {
	case t.IsZero() || t.After(m.end):
		return m.end
	case t.Before(m.start):
		return m.start
	}
	return t
}

// span is one logged-in connection in measurement terms.
type span struct {
	up, trueEnd, believed time.Time
	cause, detected       string
	lost                  bool // truly lost before the end of the run
}

// expiryOf returns the earliest expiry record of the connection carried by dial.
func (m *measurement) expiryOf(dial uint64, after time.Time) (ExpiryRecord, bool) {
	var best ExpiryRecord
	found := false
	for _, r := range m.expiries {
		if r.Conn != dial || r.At.Before(after) {
			continue
		}
		if !found || r.At.Before(best.At) {
			best, found = r, true
		}
	}
	return best, found
}

func (m *measurement) spans() []span {
	p := m.probe
	p.mu.Lock()
	conns := make([]connRec, len(p.conns))
	for i, c := range p.conns {
		conns[i] = *c
	}
	p.mu.Unlock()
	out := make([]span, 0, len(conns))
	for _, c := range conns {
		up := m.clip(c.up)
		end := m.clip(c.end)
		believed := m.clip(c.believed)
		if c.believed.IsZero() {
			believed = end
		}
		s := span{up: up, trueEnd: end, believed: earliest(believed, end)}
		if !c.end.IsZero() && c.end.Before(m.end) {
			s.cause = m.endCause(c)
		}
		if r, ok := m.expiryOf(c.dial, c.up); ok && r.At.Before(s.trueEnd) {
			s.trueEnd = r.At
			s.cause = string(r.Kind) + ":" + r.Hop
			if r.Kind == middlebox.KindIdle {
				s.cause = "idle_timeout:" + r.Hop
			}
		}
		s.lost = s.trueEnd.Before(m.end)
		switch {
		case !s.lost:
		case !c.believed.IsZero() && c.believed.Before(m.end):
			s.detected = c.believedHow
		case !c.end.IsZero() && c.end.Before(m.end):
			s.detected = c.endHow
		default:
			s.detected = "undetected"
		}
		if s.lost {
			// The engine cannot stop believing before the loss.
			s.believed = latest(s.believed, s.trueEnd)
			if s.detected == "undetected" {
				s.believed = m.end
			}
		}
		out = append(out, s)
	}
	return out
}

// endCause names the ground-truth cause of a connection that ended without a
// middlebox expiry: a fault the mock played, the server's idle close, or the client.
func (m *measurement) endCause(c connRec) string {
	switch c.endHow {
	case "logged_out":
		return "fault:" + string(sim.FaultLogout)
	case "replaced":
		return "fault:" + string(sim.FaultReplaced)
	case "stream_error":
		for _, f := range m.run.Faults {
			if f.Kind == sim.FaultStreamError515 || f.Kind == sim.FaultStreamError503 {
				return "fault:" + string(f.Kind)
			}
		}
		return "fault:stream_error"
	case "closed":
		if m.run.Server.IdleClose > 0 {
			return "server_idle_close"
		}
	}
	return "client"
}

func (m *measurement) result() sim.Result {
	r := m.run
	res := sim.Result{Scenario: r.Scenario, Client: r.Client, Seed: r.Seed, Duration: r.Duration,
		DisconnectsByCause: map[string]int{}, DetectedBy: map[string]int{}}
	wall := m.end.Sub(m.start)
	if wall <= 0 {
		wall = time.Nanosecond
	}
	days := float64(r.Duration) / float64(24*time.Hour)
	perDay := func(n float64) float64 { return n / days }

	var upT, believedT, zombieT, ttdSum time.Duration
	ttdN := 0
	spans := m.spans()
	for _, s := range spans {
		upT += s.trueEnd.Sub(s.up)
		believedT += s.believed.Sub(s.up)
		if z := s.believed.Sub(s.trueEnd); z > 0 {
			zombieT += z
			res.ZombieEvents++
			res.ZombieMax = max(res.ZombieMax, m.up(z))
		}
		if !s.lost {
			continue
		}
		res.Disconnects++
		res.DisconnectsByCause[s.cause]++
		res.DetectedBy[s.detected]++
		if strings.HasPrefix(s.cause, "idle_timeout:") {
			res.IdleDisconnects++
		}
		if s.detected != "undetected" {
			d := s.believed.Sub(s.trueEnd)
			ttdSum += d
			ttdN++
			res.TimeToDetectMax = max(res.TimeToDetectMax, m.up(d))
		}
	}
	res.TrueUptime = float64(upT) / float64(wall)
	res.ReportedUptime = float64(believedT) / float64(wall)
	res.ZombieTime = m.up(zombieT)
	res.ZombieFraction = float64(zombieT) / float64(wall)
	if res.ZombieEvents > 0 {
		res.ZombieMean = res.ZombieTime / time.Duration(res.ZombieEvents)
	}
	if ttdN > 0 {
		res.TimeToDetectMean = m.up(ttdSum / time.Duration(ttdN))
	}
	res.DisconnectsPerDay = perDay(float64(res.Disconnects))

	p := m.probe
	p.mu.Lock()
	res.ConnectAttempts = p.attempts
	res.Connects = len(p.conns)
	res.ConnectFailures = p.failures
	res.Pings, res.Presences = p.pings, p.presences
	res.HeartbeatsFailed = p.hbFailed
	rtts := slices.Clone(p.rtts)
	ivs := slices.Clone(p.intervals)
	p.mu.Unlock()
	res.Reconnects = max(0, res.Connects-1)
	res.HeartbeatsFailed = max(res.HeartbeatsFailed, int(m.health.HeartbeatsFailed))
	res.Heartbeats = res.Pings + res.Presences
	res.HeartbeatsPerDay = perDay(float64(res.Heartbeats))
	res.PingsPerDay = perDay(float64(res.Pings))
	res.PresencePerDay = perDay(float64(res.Presences))
	for _, n := range m.counters.Presence {
		res.PresenceReceived += n
	}

	res.MessagesSent = m.sent
	res.MessagesDelivered = min(len(m.delays), m.sent)
	res.MessagesQueued = max(0, m.sent-len(m.delays))
	res.DeliveryDelayP50, res.DeliveryDelayP99, res.DeliveryDelayMax = m.percentiles(m.delays)

	res.BytesUp, res.BytesDown = m.counters.BytesIn, m.counters.BytesOut
	res.BytesUpPerDay = perDay(float64(res.BytesUp))
	res.BytesDownPerDay = perDay(float64(res.BytesDown))
	res.BytesPerDay = res.BytesUpPerDay + res.BytesDownPerDay

	res.RTTSamples = len(rtts)
	res.RTTP50, res.RTTP99, res.RTTMax = m.percentiles(rtts)
	res.EngineRTTP50, res.EngineRTTP99 = m.up(m.health.RTTP50), m.up(m.health.RTTP99)
	res.Faults = m.faults
	res.FinalState = m.health.State.String()
	res.FinalInterval = m.up(m.health.Interval)
	var last time.Duration
	for _, iv := range ivs {
		d := m.up(iv.interval)
		res.MaxInterval = max(res.MaxInterval, d)
		if d != last && len(res.IntervalTrajectory) < sim.MaxTrajectoryPoints {
			res.IntervalTrajectory = append(res.IntervalTrajectory, sim.IntervalPoint{At: m.at(iv.at), Interval: d})
		}
		last = d
	}
	res.Timeline = m.timeline(spans)
	return res
}

// percentiles returns p50, p99 (nearest rank) and max of ds, scaled back.
func (m *measurement) percentiles(ds []time.Duration) (p50, p99, mx time.Duration) {
	if len(ds) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return m.up(rank(0.50)), m.up(rank(0.99)), m.up(s[len(s)-1])
}

// timeline builds the bands and marks (truncated at the simulator's limits).
func (m *measurement) timeline(spans []span) sim.Timeline {
	var tl sim.Timeline
	add := func(a, b time.Time, state string) {
		if !b.After(a) {
			return
		}
		if n := len(tl.Bands); n > 0 && tl.Bands[n-1].State == state && tl.Bands[n-1].End == m.at(a) {
			tl.Bands[n-1].End = m.at(b)
			return
		}
		if len(tl.Bands) < sim.MaxTimelineBands {
			tl.Bands = append(tl.Bands, sim.Band{Start: m.at(a), End: m.at(b), State: state})
		} else {
			tl.Downsampled = true
		}
	}
	prev := m.start
	for _, s := range spans {
		add(prev, s.up, sim.BandDown)
		add(s.up, s.trueEnd, sim.BandUp)
		add(s.trueEnd, s.believed, sim.BandZombie)
		prev = latest(s.believed, s.trueEnd)
		if s.lost {
			tl.MarksTotal++
			if len(tl.Marks) < sim.MaxTimelineMarks {
				tl.Marks = append(tl.Marks, sim.Mark{At: m.at(s.trueEnd), Cause: s.cause, DetectedBy: s.detected})
			}
		}
	}
	add(prev, m.end, sim.BandDown)
	return tl
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
