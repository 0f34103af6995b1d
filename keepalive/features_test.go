package keepalive

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ackWith ticks to the next ping and acknowledges it with rtt; it returns the
// actions of the ack.
func ackWith(t *testing.T, h *core, rtt time.Duration) []Action {
	t.Helper()
	p, ok := findAct(h.tick(), ActionSendPing)
	require.True(t, ok)
	return h.step(Event{Kind: EventHeartbeatAck, Seq: p.Seq, RTT: rtt})
}

func TestLatencyEWMAAndRiseAlert(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Latency = LatencyConfig{Alpha: 0.2, RiseFactor: 3, Samples: 3}
	h := connectedCore(t, cfg)
	for i := 0; i < 5; i++ {
		assert.Empty(t, ackWith(t, h, 10*time.Millisecond))
	}
	assert.Equal(t, 10*time.Millisecond, h.s.Health().RTT)
	// 100 ms: EWMA 28, 42.4, 53.92, 63.136 ms; the baseline stays at 10 ms, so
	// 42.4 is the first breach (> 30) and the third breach alerts.
	assert.Empty(t, ackWith(t, h, 100*time.Millisecond))
	assert.InDelta(t, float64(28*time.Millisecond), float64(h.s.Health().RTT), 1e3)
	assert.Empty(t, ackWith(t, h, 100*time.Millisecond))
	assert.Empty(t, ackWith(t, h, 100*time.Millisecond))
	acts := ackWith(t, h, 100*time.Millisecond)
	require.Len(t, acts, 1)
	assert.Equal(t, ActionAlert, acts[0].Kind)
	assert.Equal(t, AlertLatencyHigh, acts[0].Alert)
	assert.InDelta(t, float64(63136*time.Microsecond), float64(acts[0].Value), 1e3)
	assert.True(t, h.s.Health().LatencyAlert)
	assert.Empty(t, ackWith(t, h, 100*time.Millisecond), "alerts once")

	// Back to 10 ms: EWMA 70.51 → 58.41, 48.73, 40.98, 34.79 (still > 30), then
	// 29.83, 25.86, 22.69: the third calm sample recovers.
	var recovered int
	for i := 1; i <= 10 && recovered == 0; i++ {
		if a, ok := findAct(ackWith(t, h, 10*time.Millisecond), ActionAlert); ok {
			assert.Equal(t, AlertLatencyRecovered, a.Alert)
			recovered = i
		}
	}
	assert.Equal(t, 7, recovered)
	assert.False(t, h.s.Health().LatencyAlert)
}

func TestLatencyThresholdAlert(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Latency = LatencyConfig{Alpha: 1, Threshold: 500 * time.Millisecond, Samples: 2}
	h := connectedCore(t, cfg)
	// Alpha 1: the EWMA is the last sample. The first sample is also the baseline,
	// so only the threshold can fire.
	assert.Empty(t, ackWith(t, h, 600*time.Millisecond))
	acts := ackWith(t, h, 600*time.Millisecond)
	a, ok := findAct(acts, ActionAlert)
	require.True(t, ok)
	assert.Equal(t, AlertLatencyHigh, a.Alert)
	assert.Equal(t, 600*time.Millisecond, a.Value)
}

func TestLatencyPercentilesOverWindow(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Latency = LatencyConfig{Window: 4}
	h := connectedCore(t, cfg)
	for _, ms := range []time.Duration{900, 1, 2, 3, 4} { // 900 leaves the window
		ackWith(t, h, ms*time.Millisecond)
	}
	hl := h.s.Health()
	assert.Equal(t, 2*time.Millisecond, hl.RTTP50)
	assert.Equal(t, 4*time.Millisecond, hl.RTTP99)
}

func TestCombinedSendsPingAndPresence(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Strategy = StrategyCombined
	cfg.Presence = PresenceUnavailable
	cfg.Detection.MaxFailures = 2
	h := connectedCore(t, cfg)
	acts := h.tick()
	assert.Equal(t, []Action{
		{Kind: ActionSendPresence, Seq: 1, Presence: PresenceUnavailable, Interval: 20 * time.Second},
		{Kind: ActionSendPing, Seq: 2, Deadline: 5 * time.Second, Interval: 20 * time.Second},
	}, acts)
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 1}), "presence failure counts")
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
	assert.Equal(t, 25*time.Second, h.deadline(), "the ping is still outstanding")
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatAck, Seq: 2}))
	assert.Equal(t, 0, h.s.Health().ConsecutiveFailures)
	assert.Equal(t, uint64(2), h.s.Health().HeartbeatsSent)
}

func TestFallbackSwitchesToSecondaryAndBack(t *testing.T) {
	cfg := Config{
		Strategy: StrategyFallback, Interval: 20 * time.Second, ReplyDeadline: 5 * time.Second,
		Fallback: FallbackConfig{Primary: StrategyPresence, Secondary: StrategyPing, After: 2, RetryPrimaryEvery: 3},
	}
	h := connectedCore(t, cfg)
	require.Equal(t, 3, h.s.Policy().Config().Detection.MaxFailures)

	pres := func() uint64 {
		a, ok := findAct(h.tick(), ActionSendPresence)
		require.True(t, ok, "presence expected at %v", h.elapsed())
		return a.Seq
	}
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: pres()}))
	acts := h.step(Event{Kind: EventHeartbeatFailed, Seq: pres()})
	assert.Equal(t, []Action{{Kind: ActionAlert, Alert: AlertFallback}}, acts)
	assert.True(t, h.s.Health().OnSecondary)

	ackWith(t, h, time.Millisecond) // secondary 1
	assert.Equal(t, 0, h.s.Health().ConsecutiveFailures)
	ackWith(t, h, time.Millisecond) // secondary 2
	seq := pres()                   // the third: retry the primary
	assert.True(t, h.s.Health().OnSecondary, "not back before it succeeds")
	// No failure came back before the next heartbeat: the primary works again.
	acts = h.tick()
	assert.Equal(t, ActionAlert, acts[0].Kind)
	assert.Equal(t, AlertFallbackRecovered, acts[0].Alert)
	assert.Equal(t, ActionSendPresence, acts[1].Kind)
	assert.Greater(t, acts[1].Seq, seq)
	assert.False(t, h.s.Health().OnSecondary)
}

func TestFallbackSecondaryFailureReconnects(t *testing.T) {
	cfg := Config{Strategy: StrategyFallback, Interval: 20 * time.Second, ReplyDeadline: 5 * time.Second}
	h := connectedCore(t, cfg)
	for i := 0; i < 2; i++ {
		a, _ := findAct(h.tick(), ActionSendPresence)
		h.step(Event{Kind: EventHeartbeatFailed, Seq: a.Seq})
	}
	_, ok := findAct(h.tick(), ActionSendPing)
	require.True(t, ok)
	acts := h.tick() // the ping's deadline: third consecutive failure
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseHeartbeatTimeout}, stateChange(StateConnected, StateConnecting)}, acts)
	h.ev(EventConnected)
	assert.False(t, h.s.Health().OnSecondary, "a new connection starts on the primary")
}

func TestConfigChangedReschedules(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	assert.Empty(t, h.at(5*time.Second).step(Event{Kind: EventConfigChanged, Policy: MustPolicy(pingFixed(40 * time.Second))}))
	assert.Equal(t, 40*time.Second, h.deadline(), "from the same base, with the new interval")
	assert.Equal(t, 40*time.Second, h.s.Interval())

	// To adaptive: the interval restarts at Initial.
	h.step(Event{Kind: EventConfigChanged, Policy: MustPolicy(adaptiveCfg())})
	assert.Equal(t, 25*time.Second, h.s.Interval())
	assert.Equal(t, IntervalAdaptive, h.s.Policy().Config().IntervalMode)

	// A nil policy is ignored.
	assert.Empty(t, h.step(Event{Kind: EventConfigChanged}))
	assert.Equal(t, IntervalAdaptive, h.s.Policy().Config().IntervalMode)
}

func TestConfigChangedWhileWaitingReplansAttempt(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect = ReconnectConfig{Mode: ReconnectNever}
	h := connectedCore(t, cfg)
	h.at(time.Second).step(Event{Kind: EventDisconnected})
	require.True(t, h.s.NextDeadline().IsZero())
	cfg.Reconnect = ReconnectConfig{Mode: ReconnectLinear}
	acts := h.step(Event{Kind: EventConfigChanged, Policy: MustPolicy(cfg)})
	// never → linear: the first attempt (0 × 2 s) goes at once.
	assert.Equal(t, []Action{{Kind: ActionConnect}, stateChange(StateWaiting, StateConnecting)}, acts)

	cfg.Reconnect = ReconnectConfig{Jitter: -1, BaseDelay: 10 * time.Second, MaxDelay: time.Minute}
	h = connectedCore(t, cfg)
	h.at(time.Second).step(Event{Kind: EventDisconnected})
	require.Equal(t, 11*time.Second, h.deadline())
	cfg.Reconnect = ReconnectConfig{Mode: ReconnectPoll, PollInterval: 7 * time.Second}
	h.step(Event{Kind: EventConfigChanged, Policy: MustPolicy(cfg)})
	assert.Equal(t, 7*time.Second, h.deadline(), "the new policy plans the attempt")
}

func TestMarsPresetGrowsBySixtySeconds(t *testing.T) {
	h := connectedCore(t, PresetMars)
	assert.Equal(t, 210*time.Second, h.s.Interval())
	for i := 0; i < 5; i++ {
		ackWith(t, h, 50*time.Millisecond)
	}
	assert.Equal(t, 270*time.Second, h.s.Interval())
	for i := 0; i < 30; i++ {
		ackWith(t, h, 50*time.Millisecond)
	}
	assert.Equal(t, 600*time.Second, h.s.Interval(), "capped at the ceiling")
}

func TestWhatsmeowPresetForcesReconnectAfterThreeMinutes(t *testing.T) {
	h := connectedCore(t, PresetWhatsmeow)
	var at time.Duration
	for i := 0; i < 20 && at == 0; i++ {
		_, ok := findAct(h.tick(), ActionSendPing)
		require.True(t, ok)
		if _, ok := findAct(h.tick(), ActionConnect); ok {
			at = h.elapsed()
		}
	}
	// Pings every 20–30 s after the previous timeout, each failing 10 s later: the
	// first failure at or after 3 min forces the reconnect.
	assert.GreaterOrEqual(t, at, 3*time.Minute)
	assert.Less(t, at, 3*time.Minute+40*time.Second)
}

func TestConfigChangedKeepsTheOutstandingPingsDeadline(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second)) // 5 s deadline
	h.tick()                                         // ping at 20 s, due by 25 s
	cfg := pingFixed(20 * time.Second)
	cfg.ReplyDeadline = 2 * time.Second
	h.at(21 * time.Second).step(Event{Kind: EventConfigChanged, Policy: MustPolicy(cfg)})
	assert.Equal(t, 25*time.Second, h.deadline(), "the driver waits for this ping until 25 s")
	assert.Empty(t, h.at(24*time.Second).step(Event{Kind: EventHeartbeatAck, Seq: 1, RTT: 4 * time.Second}))
	assert.Equal(t, 0, h.s.Health().ConsecutiveFailures)
	acts := h.tick()
	require.Len(t, acts, 1)
	assert.Equal(t, 2*time.Second, acts[0].Deadline, "the next ping has the new deadline")
}

func TestRTTCodeIsMonotonicAndPrecise(t *testing.T) {
	prev := uint16(0)
	for us := int64(0); us < 50_000_000; us += 1 + us/500 {
		d := time.Duration(us) * time.Microsecond
		c := rttCode(d)
		require.GreaterOrEqual(t, c, prev, "monotonic at %v", d)
		prev = c
		back := rttDecode(c)
		require.LessOrEqual(t, back, d)
		require.LessOrEqual(t, float64(d-back), float64(d)/1024+float64(time.Microsecond), "precision at %v", d)
	}
	assert.Equal(t, 1500*time.Microsecond, rttDecode(rttCode(1500*time.Microsecond)), "exact below 2.048 ms")
	assert.InEpsilon(t, float64(10*time.Second), float64(rttDecode(rttCode(10*time.Second))), 1.0/1024)
	assert.Equal(t, uint16(0), rttCode(-time.Second))
	assert.Less(t, rttCode(time.Duration(1<<63-1)), uint16(65535))
}
