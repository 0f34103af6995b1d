package sim

import (
	"slices"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// metrics accumulates a run's measurements. Truth and belief are sampled after
// every event (observe): both can only change when an event is processed, so the
// time integrals are exact.
type metrics struct {
	s *sim

	// belief and truth since lastAt
	lastAt       int64
	reported, up bool
	upTime       int64
	reportedTime int64
	zombieTime   int64
	zombieStart  int64
	zombieN      int
	zombieMax    int64

	bands []Band

	disconnects   int
	idleDisc      int
	byCause       map[string]int
	detectedBy    map[string]int
	ttdSum, ttdMx int64
	ttdN          int
	marks         []Mark

	attempts, connects, connectFailures int
	pings, presences                    int
	presenceRecv, alerts, faults        int
	bytesUp, bytesDown                  int64
	msgsSent                            int
	rtts, delays                        []int64
	rttBuckets                          [RTTTimelineBuckets]rttBucket

	traj         []IntervalPoint
	trajChanges  int // interval changes seen
	trajStride   int // record every trajStride-th change
	lastInterval time.Duration
	maxInterval  time.Duration
}

func (m *metrics) init(s *sim) {
	m.s = s
	m.byCause = map[string]int{}
	m.detectedBy = map[string]int{}
	m.zombieStart = -1
	m.trajStride = 1
	m.bands = append(m.bands[:0], Band{State: BandDown})
	if m.rtts == nil {
		m.rtts = make([]int64, 0, 4096)
		m.delays = make([]int64, 0, 1024)
	}
}

// truth reports whether a message sent now would arrive.
func (s *sim) truth() bool {
	c := &s.c
	return c.up && !c.broken && s.srv.cur == c.id && !s.partitioned(s.now)
}

func bandOf(reported, up bool) string {
	switch {
	case up:
		return BandUp
	case reported:
		return BandZombie
	}
	return BandDown
}

// observe integrates belief and truth up to now and records their changes.
func (m *metrics) observe() {
	s := m.s
	rep := s.state == keepalive.StateConnected
	up := s.truth()
	if rep == m.reported && up == m.up {
		return
	}
	m.integrate(s.now)
	wasZombie := m.reported && !m.up
	isZombie := rep && !up
	if wasZombie && !isZombie {
		m.endZombie(s.now)
	}
	if isZombie && !wasZombie {
		m.zombieStart = s.now
	}
	m.reported, m.up = rep, up
	st := bandOf(rep, up)
	last := &m.bands[len(m.bands)-1]
	if last.State != st {
		if time.Duration(s.now) == last.Start {
			last.State = st
			if n := len(m.bands); n > 1 && m.bands[n-2].State == st {
				m.bands = m.bands[:n-1] // merge back into the previous band
			}
		} else {
			last.End = time.Duration(s.now)
			m.bands = append(m.bands, Band{Start: time.Duration(s.now), State: st})
		}
	}
}

func (m *metrics) integrate(now int64) {
	d := now - m.lastAt
	if m.up {
		m.upTime += d
	}
	if m.reported {
		m.reportedTime += d
		if !m.up {
			m.zombieTime += d
		}
	}
	m.lastAt = now
}

func (m *metrics) endZombie(now int64) {
	if m.zombieStart < 0 {
		return
	}
	d := now - m.zombieStart
	m.zombieStart = -1
	if d == 0 {
		return // not an episode: belief caught up within the same instant
	}
	m.zombieN++
	m.zombieMax = max(m.zombieMax, d)
}

// detected records that the client learned, now, that its connection is gone (how:
// the cause it saw). A connection's loss is counted once.
func (m *metrics) detected(how string) {
	s := m.s
	c := &s.c
	if !c.established || c.lossRecorded {
		return
	}
	c.lossRecorded = true
	cause, at := m.lossCause()
	m.record(at, cause, how)
	d := s.now - at
	m.ttdSum += d
	m.ttdN++
	m.ttdMx = max(m.ttdMx, d)
}

// lossCause is the ground-truth cause and time of the current connection's loss.
// A connection that no box or server broke was dropped by the client: blame a
// partition or latency spike in force (or that caught its frames), else "client".
func (m *metrics) lossCause() (string, int64) {
	s := m.s
	c := &s.c
	switch {
	case c.broken:
		return c.cause, c.brokenAt
	case c.partitionHit >= 0 || s.partitioned(s.now):
		return "fault:" + string(FaultPartition), max(s.partitionStart, c.start)
	case s.now < s.spikeEnd:
		return "fault:" + string(FaultLatencySpike), s.now
	}
	return "client", s.now
}

func (m *metrics) record(at int64, cause, how string) {
	m.disconnects++
	m.byCause[cause]++
	m.detectedBy[how]++
	if len(cause) > len("idle_timeout:") && cause[:len("idle_timeout:")] == "idle_timeout:" {
		m.idleDisc++
	}
	m.marks = append(m.marks, Mark{At: time.Duration(at), Cause: cause, DetectedBy: how})
}

// interval notes the interval of a heartbeat action.
func (m *metrics) interval(iv time.Duration) {
	if iv == m.lastInterval {
		return
	}
	m.lastInterval = iv
	m.maxInterval = max(m.maxInterval, iv)
	m.trajChanges++
	if (m.trajChanges-1)%m.trajStride != 0 {
		return
	}
	if len(m.traj) >= MaxTrajectoryPoints {
		// Keep every second point and record every second change from now on, so
		// the kept points stay evenly spread over the changes.
		n := 0
		for i := 0; i < len(m.traj); i += 2 {
			m.traj[n] = m.traj[i]
			n++
		}
		m.traj = m.traj[:n]
		m.trajStride *= 2
		if (m.trajChanges-1)%m.trajStride != 0 {
			return
		}
	}
	m.traj = append(m.traj, IntervalPoint{At: time.Duration(m.s.now), Interval: iv})
}

// finish closes the integrals at the end of the run.
func (m *metrics) finish() {
	s := m.s
	m.integrate(s.end)
	if m.reported && !m.up {
		m.endZombie(s.end)
	}
	m.bands[len(m.bands)-1].End = time.Duration(s.end)
	c := &s.c
	if c.established && c.up && c.broken && !c.lossRecorded {
		c.lossRecorded = true
		cause, at := m.lossCause()
		m.record(at, cause, "undetected")
	}
}

// result assembles the Result.
func (s *sim) result() Result {
	m := &s.m
	run := &s.run
	total := float64(s.end)
	days := run.Duration.Hours() / 24
	perDay := func(n float64) float64 { return n / days }
	h := s.sess.Health()
	r := Result{
		Scenario:           run.Scenario,
		Client:             run.Client,
		Seed:               run.Seed,
		Duration:           run.Duration,
		TrueUptime:         float64(m.upTime) / total,
		ReportedUptime:     float64(m.reportedTime) / total,
		ZombieTime:         time.Duration(m.zombieTime),
		ZombieEvents:       m.zombieN,
		ZombieMax:          time.Duration(m.zombieMax),
		ZombieFraction:     float64(m.zombieTime) / total,
		Disconnects:        m.disconnects,
		DisconnectsPerDay:  perDay(float64(m.disconnects)),
		DisconnectsByCause: m.byCause,
		IdleDisconnects:    m.idleDisc,
		DetectedBy:         m.detectedBy,
		TimeToDetectMax:    time.Duration(m.ttdMx),
		ConnectAttempts:    m.attempts,
		Connects:           m.connects,
		Reconnects:         max(m.connects-1, 0),
		ConnectFailures:    m.connectFailures,
		MessagesSent:       m.msgsSent,
		MessagesDelivered:  len(m.delays),
		MessagesQueued:     m.msgsSent - len(m.delays),
		Heartbeats:         m.pings + m.presences,
		HeartbeatsPerDay:   perDay(float64(m.pings + m.presences)),
		Pings:              m.pings,
		PingsPerDay:        perDay(float64(m.pings)),
		HeartbeatsFailed:   int(h.HeartbeatsFailed),
		Presences:          m.presences,
		PresencePerDay:     perDay(float64(m.presences)),
		PresenceReceived:   m.presenceRecv,
		BytesUp:            m.bytesUp,
		BytesDown:          m.bytesDown,
		BytesPerDay:        perDay(float64(m.bytesUp + m.bytesDown)),
		BytesUpPerDay:      perDay(float64(m.bytesUp)),
		BytesDownPerDay:    perDay(float64(m.bytesDown)),
		RTTSamples:         len(m.rtts),
		EngineRTTP50:       h.RTTP50,
		EngineRTTP99:       h.RTTP99,
		Alerts:             m.alerts,
		Faults:             m.faults,
		FinalState:         h.State.String(),
		FinalInterval:      h.Interval,
		MaxInterval:        m.maxInterval,
		IntervalTrajectory: slices.Clone(m.traj),
	}
	if r.IntervalTrajectory == nil {
		r.IntervalTrajectory = []IntervalPoint{}
	}
	if m.zombieN > 0 {
		r.ZombieMean = time.Duration(m.zombieTime / int64(m.zombieN))
	}
	if m.ttdN > 0 {
		r.TimeToDetectMean = time.Duration(m.ttdSum / int64(m.ttdN))
	}
	r.DeliveryDelayP50, r.DeliveryDelayP99, r.DeliveryDelayMax = percentiles(m.delays)
	r.DeliveryDelayHistogram = delayHistogram(m.delays)
	r.RTTTimeline = m.rttTimeline(s.end)
	r.RTTP50, r.RTTP99, r.RTTMax = percentiles(m.rtts)
	r.Timeline = timeline(m.bands, m.marks, s.end)
	return r
}

// percentiles returns the exact p50, p99 (nearest rank) and max of xs, sorting xs.
func percentiles(xs []int64) (p50, p99, mx time.Duration) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	slices.Sort(xs)
	n := len(xs)
	rank := func(pct int) time.Duration { // ceil(pct·n/100) − 1
		i := (pct*n+99)/100 - 1
		return time.Duration(xs[min(max(i, 0), n-1)])
	}
	return rank(50), rank(99), time.Duration(xs[n-1])
}

func durationOf(ns int64) time.Duration { return time.Duration(ns) }
