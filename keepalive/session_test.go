package keepalive

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pingFixed(iv time.Duration) Config {
	return Config{Strategy: StrategyPing, Interval: iv, ReplyDeadline: 5 * time.Second}
}

func TestStartConnectsAndConnectedStartsHeartbeat(t *testing.T) {
	h := newCore(t, pingFixed(20*time.Second))
	assert.Equal(t, StateIdle, h.s.State())
	assert.True(t, h.s.NextDeadline().IsZero())

	acts := h.ev(EventStart)
	require.Equal(t, []Action{{Kind: ActionConnect}, stateChange(StateIdle, StateConnecting)}, acts)
	assert.True(t, h.s.NextDeadline().IsZero(), "connecting waits for the outcome")

	acts = h.at(time.Second).ev(EventConnected)
	assert.Equal(t, []Action{stateChange(StateConnecting, StateConnected)}, acts)
	assert.Equal(t, 21*time.Second, h.deadline(), "first heartbeat one interval after connect")
	assert.Equal(t, 0, h.s.Health().Reconnects)
}

func TestConnectedOnIdleSession(t *testing.T) {
	h := newCore(t, pingFixed(20*time.Second))
	acts := h.ev(EventConnected)
	assert.Equal(t, []Action{stateChange(StateIdle, StateConnected)}, acts)
	assert.Equal(t, 20*time.Second, h.deadline())
}

func TestPingScheduleFromCompletion(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	acts := h.tick()
	require.Len(t, acts, 1)
	p := acts[0]
	assert.Equal(t, Action{Kind: ActionSendPing, Seq: 1, Deadline: 5 * time.Second, Interval: 20 * time.Second}, p)
	assert.Equal(t, 25*time.Second, h.deadline(), "reply deadline")

	assert.Empty(t, h.at(21*time.Second).step(Event{Kind: EventHeartbeatAck, Seq: 1, RTT: time.Second}))
	assert.Equal(t, 41*time.Second, h.deadline(), "next ping one interval after the reply")
	hl := h.s.Health()
	assert.Equal(t, ct0.Add(21*time.Second), hl.LastSuccess)
	assert.Equal(t, time.Second, hl.RTT)
	assert.Equal(t, uint64(1), hl.HeartbeatsSent)

	acts = h.tick()
	require.Len(t, acts, 1)
	assert.Equal(t, uint64(2), acts[0].Seq)
}

func TestFixedRateSchedulesFromSend(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.FixedRate = true
	h := connectedCore(t, cfg)
	h.tick()
	h.at(23 * time.Second).step(Event{Kind: EventHeartbeatAck, Seq: 1, RTT: 3 * time.Second})
	assert.Equal(t, 40*time.Second, h.deadline(), "one interval after the previous send")
}

func TestPresenceIsFireAndForget(t *testing.T) {
	cfg := Config{Strategy: StrategyPresence, Presence: PresenceComposing, Interval: 60 * time.Second}
	h := connectedCore(t, cfg)
	acts := h.tick()
	assert.Equal(t, []Action{{Kind: ActionSendPresence, Seq: 1, Presence: PresenceComposing, Interval: time.Minute}}, acts)
	assert.Equal(t, 120*time.Second, h.deadline(), "next presence one interval after the send")
	acts = h.tick()
	assert.Equal(t, uint64(2), acts[0].Seq)
	assert.Equal(t, uint64(2), h.s.Health().HeartbeatsSent)
}

func TestPresenceFailureAcceptedUntilNextHeartbeat(t *testing.T) {
	cfg := Config{Strategy: StrategyPresence, Interval: 60 * time.Second, Detection: DetectionConfig{MaxFailures: 2}}
	h := connectedCore(t, cfg)
	h.tick() // presence 1 at 60 s
	h.tick() // presence 2 at 120 s: presence 1 is complete
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 1}), "stale presence failure")
	assert.Equal(t, uint64(0), h.s.Health().HeartbeatsFailed)
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 2}))
	assert.Equal(t, uint64(1), h.s.Health().HeartbeatsFailed)
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 2}), "counted once")
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
	h.tick() // presence 3
	acts := h.step(Event{Kind: EventHeartbeatFailed, Seq: 3})
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseHeartbeatTimeout}, stateChange(StateConnected, StateConnecting)}, acts)
}

func TestRandomIntervalWithinRange(t *testing.T) {
	cfg := Config{Strategy: StrategyPing, IntervalMode: IntervalRandom, IntervalMin: 20 * time.Second, IntervalMax: 30 * time.Second}
	h := connectedCore(t, cfg)
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		start := h.elapsed()
		acts := h.tick()
		require.Len(t, acts, 1)
		gap := h.elapsed() - start
		assert.GreaterOrEqual(t, gap, 20*time.Second)
		assert.LessOrEqual(t, gap, 30*time.Second)
		assert.Equal(t, gap, acts[0].Interval)
		seen[gap/time.Second] = true
		h.step(Event{Kind: EventHeartbeatAck, Seq: acts[0].Seq})
	}
	assert.Greater(t, len(seen), 5, "intervals vary")
}

func TestReplyDeadlineTimesOutPingAndIgnoresLateAck(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Detection.MaxFailures = 3
	h := connectedCore(t, cfg)
	h.tick() // ping 1 at 20 s
	acts := h.tick()
	assert.Equal(t, 25*time.Second, h.elapsed())
	assert.Empty(t, acts, "a timed-out ping below MaxFailures only counts")
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
	assert.Equal(t, uint64(1), h.s.Health().HeartbeatsFailed)
	assert.Equal(t, 45*time.Second, h.deadline())
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatAck, Seq: 1, RTT: 6 * time.Second}), "late ack ignored")
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
	assert.True(t, h.s.Health().LastSuccess.IsZero())
}

func TestAckAfterDeadlineBeforeTickIsAFailure(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	h.tick()
	acts := h.at(26 * time.Second).step(Event{Kind: EventHeartbeatAck, Seq: 1, RTT: 6 * time.Second})
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseHeartbeatTimeout}, stateChange(StateConnected, StateConnecting)}, acts)
}

func TestMissedReplyForcesReconnect(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	h.tick()
	acts := h.tick()
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseHeartbeatTimeout}, stateChange(StateConnected, StateConnecting)}, acts)
	assert.Equal(t, 1, h.s.Health().Reconnects)
	assert.True(t, h.s.NextDeadline().IsZero())
}

func TestReportedPingFailureAndStaleSeq(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Detection.MaxFailures = 2
	h := connectedCore(t, cfg)
	h.tick()
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 7}), "unknown seq")
	assert.Equal(t, 0, h.s.Health().ConsecutiveFailures)
	assert.Empty(t, h.at(21*time.Second).step(Event{Kind: EventHeartbeatFailed, Seq: 1}))
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
	assert.Equal(t, 41*time.Second, h.deadline())
	// A reply to the failed ping is stale.
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatAck, Seq: 1}))
	assert.Equal(t, 1, h.s.Health().ConsecutiveFailures)
}

func TestSeqFromPreviousConnectionIsIgnored(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect.Mode = ReconnectImmediate
	h := connectedCore(t, cfg)
	h.tick() // ping 1
	h.at(21 * time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	require.Equal(t, StateConnecting, h.s.State())
	h.at(22 * time.Second).ev(EventConnected)
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatAck, Seq: 1}))
	assert.Empty(t, h.step(Event{Kind: EventHeartbeatFailed, Seq: 1}))
	assert.Equal(t, 42*time.Second, h.deadline())
	assert.True(t, h.s.Health().LastSuccess.IsZero())
}

func TestMaxTimeWithoutSuccess(t *testing.T) {
	cfg := Config{Strategy: StrategyPing, Interval: 25 * time.Second, ReplyDeadline: 10 * time.Second,
		Detection: DetectionConfig{MaxFailures: -1, MaxTimeWithoutSuccess: 3 * time.Minute}}
	h := connectedCore(t, cfg)
	// Pings at 25, 60, 95, 130, 165 (+10 s deadlines): failures at 35, 70, 105, 140, 175.
	for i := 0; i < 5; i++ {
		h.tick()
		acts := h.tick()
		assert.Empty(t, acts, "failure %d at %v keeps the connection", i+1, h.elapsed())
	}
	assert.Equal(t, 175*time.Second, h.elapsed())
	h.tick() // ping at 200
	acts := h.tick()
	assert.Equal(t, 210*time.Second, h.elapsed())
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseHeartbeatTimeout}, stateChange(StateConnected, StateConnecting)}, acts)
	assert.Equal(t, 6, h.s.Health().ConsecutiveFailures)
}

func TestMaxTimeWithoutSuccessResetBySuccess(t *testing.T) {
	cfg := Config{Strategy: StrategyPing, Interval: 25 * time.Second, ReplyDeadline: 10 * time.Second,
		Detection: DetectionConfig{MaxFailures: -1, MaxTimeWithoutSuccess: time.Minute}}
	h := connectedCore(t, cfg)
	h.tick()                                                            // ping 1 at 25
	h.at(26 * time.Second).step(Event{Kind: EventHeartbeatAck, Seq: 1}) // success at 26
	h.tick()                                                            // ping 2 at 51
	assert.Empty(t, h.tick(), "failure at 61: 35 s since success")      // at 61
	h.tick()                                                            // ping 3 at 86
	acts := h.tick()                                                    // failure at 96: 70 s
	assert.Equal(t, 96*time.Second, h.elapsed())
	_, ok := findAct(acts, ActionConnect)
	assert.True(t, ok)
}

func TestMaxSilenceDeadline(t *testing.T) {
	cfg := Config{Strategy: StrategyPresence, Interval: 60 * time.Second,
		Detection: DetectionConfig{MaxFailures: -1, MaxSilence: 35 * time.Second}}
	h := connectedCore(t, cfg)
	assert.Equal(t, 35*time.Second, h.deadline())
	h.at(30 * time.Second).ev(EventInbound)
	assert.Equal(t, 60*time.Second, h.deadline(), "heartbeat first")
	h.tick()
	assert.Equal(t, 65*time.Second, h.deadline(), "silence deadline")
	acts := h.tick()
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseSilence}, stateChange(StateConnected, StateConnecting)}, acts)
}

func TestMaxSilenceOnHeartbeatLikeBaileys(t *testing.T) {
	h := connectedCore(t, PresetBaileys)
	acts := h.tick() // 30 s: 30 s silent, not > 35 s
	require.Len(t, acts, 1)
	assert.Equal(t, ActionSendPing, acts[0].Kind)
	acts = h.tick() // 60 s: the ping deadline (interval) and the next tick
	assert.Equal(t, 60*time.Second, h.elapsed())
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseSilence}, stateChange(StateConnected, StateConnecting)}, acts)
}

func TestInboundIsLivenessExcusesAMissedReply(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.InboundIsLiveness = true
	h := connectedCore(t, cfg)
	h.tick() // ping 1 at 20 s
	assert.Empty(t, h.at(22*time.Second).ev(EventInbound))
	assert.Equal(t, ct0.Add(22*time.Second), h.s.Health().LastSuccess)
	assert.Equal(t, 25*time.Second, h.deadline(), "the ping stays outstanding until its deadline")
	assert.Empty(t, h.tick(), "no failure: the read proved the connection alive")
	assert.Equal(t, uint64(0), h.s.Health().HeartbeatsFailed)
	assert.Equal(t, 45*time.Second, h.deadline())
	// Without a read since the ping, the deadline is a failure.
	h.tick()
	_, ok := findAct(h.tick(), ActionConnect)
	assert.True(t, ok)
}

func TestInboundWithoutLivenessDoesNotClearPing(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	h.tick()
	h.at(22 * time.Second).ev(EventInbound)
	assert.Equal(t, 25*time.Second, h.deadline())
	_, ok := findAct(h.tick(), ActionConnect)
	assert.True(t, ok)
}

func TestMeasureFromLastRead(t *testing.T) {
	cfg := pingFixed(10 * time.Second)
	cfg.MeasureFromLastRead = true
	h := connectedCore(t, cfg)
	h.at(8 * time.Second).ev(EventInbound)
	assert.Equal(t, 18*time.Second, h.deadline())
	h.at(15 * time.Second).ev(EventInbound)
	assert.Equal(t, 25*time.Second, h.deadline(), "a busy connection sends no pings")
	acts := h.tick()
	require.Len(t, acts, 1)
	assert.Equal(t, ActionSendPing, acts[0].Kind)
}

func TestDisconnectHandsOverToBackoff(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	acts := h.at(5 * time.Second).step(Event{Kind: EventDisconnected, Cause: CauseReset})
	assert.Equal(t, []Action{stateChange(StateConnected, StateWaiting)}, acts)
	d := h.deadline() - 5*time.Second
	assert.GreaterOrEqual(t, d, 800*time.Millisecond)
	assert.LessOrEqual(t, d, 1200*time.Millisecond)
	acts = h.tick()
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseReset}, stateChange(StateWaiting, StateConnecting)}, acts)
	acts = h.step(Event{Kind: EventConnectFailed})
	assert.Equal(t, []Action{stateChange(StateConnecting, StateWaiting)}, acts)
	d = h.deadline() - h.elapsed()
	assert.GreaterOrEqual(t, d, 1280*time.Millisecond, "second delay 1.6 s −20 %%")
	assert.LessOrEqual(t, d, 1920*time.Millisecond)
	assert.Equal(t, 1, h.s.Health().Reconnects)
}

func TestBackoffResetsAfterStableConnection(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect = ReconnectConfig{Jitter: -1, StableAfter: time.Minute}
	cfg.Detection.MaxFailures = -1
	h := connectedCore(t, cfg)
	// Unstable: down after 10 s, three times: delays 1, 1.6, 2.56 s.
	want := []time.Duration{time.Second, 1600 * time.Millisecond, 2560 * time.Millisecond}
	for _, w := range want {
		h.at(h.elapsed() + 10*time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
		assert.Equal(t, w, h.deadline()-h.elapsed())
		h.tick()
		h.ev(EventConnected)
	}
	// Stable for a minute: back to 1 s.
	h.at(h.elapsed() + time.Minute).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	assert.Equal(t, time.Second, h.deadline()-h.elapsed())
}

func TestImmediateFirstAttempt(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect = ReconnectConfig{Immediate: true, Jitter: -1}
	h := connectedCore(t, cfg)
	acts := h.at(time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	assert.Equal(t, []Action{{Kind: ActionConnect, Cause: CauseClosed}, stateChange(StateConnected, StateConnecting)}, acts)
	h.ev(EventConnectFailed)
	assert.Equal(t, time.Second, h.deadline()-h.elapsed())
}

func TestLinearReconnectLikeWhatsmeow(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect = ReconnectConfig{Mode: ReconnectLinear}
	h := connectedCore(t, cfg)
	acts := h.at(10 * time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	_, ok := findAct(acts, ActionConnect)
	assert.True(t, ok, "first attempt at once (0 × 2 s)")
	for _, w := range []time.Duration{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22} {
		h.ev(EventConnectFailed)
		assert.Equal(t, w*time.Second, h.deadline()-h.elapsed(), "no cap, no jitter")
		h.tick()
	}
	h.ev(EventConnected)
	acts = h.at(h.elapsed() + time.Second).step(Event{Kind: EventDisconnected})
	_, ok = findAct(acts, ActionConnect)
	assert.True(t, ok, "reset on login success")
}

func TestPollReconnectLikeSeed(t *testing.T) {
	h := newCore(t, PresetSeed)
	h.ev(EventStart)
	h.ev(EventConnected)
	h.at(70 * time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	assert.Equal(t, StateWaiting, h.s.State())
	assert.Equal(t, 90*time.Second, h.deadline(), "the monitor's next 30 s tick")
	h.tick()
	assert.Equal(t, StateConnecting, h.s.State())
	h.ev(EventConnectFailed)
	assert.Equal(t, 120*time.Second, h.deadline())
	h.at(120 * time.Second).ev(EventConnected)
	h.at(150 * time.Second).step(Event{Kind: EventDisconnected})
	assert.Equal(t, 180*time.Second, h.deadline(), "strictly after now")
}

func TestNeverReconnectWaitsForStart(t *testing.T) {
	cfg := pingFixed(20 * time.Second)
	cfg.Reconnect.Mode = ReconnectNever
	h := connectedCore(t, cfg)
	h.at(time.Second).step(Event{Kind: EventDisconnected})
	assert.Equal(t, StateWaiting, h.s.State())
	assert.True(t, h.s.NextDeadline().IsZero())
	acts := h.ev(EventStart)
	assert.Equal(t, ActionConnect, acts[0].Kind)
}

func TestTerminalEventsStopForGood(t *testing.T) {
	for _, tc := range []struct {
		ev    EventKind
		cause Cause
	}{
		{EventLoggedOut, CauseLoggedOut},
		{EventReplaced, CauseReplaced},
		{EventBanned, CauseBanned},
		{EventStop, CauseStopped},
	} {
		t.Run(tc.ev.String(), func(t *testing.T) {
			h := connectedCore(t, pingFixed(20*time.Second))
			h.tick() // a ping is outstanding
			acts := h.ev(tc.ev)
			assert.Equal(t, []Action{{Kind: ActionClose, Cause: tc.cause}, stateChange(StateConnected, StateStopped)}, acts)
			assert.True(t, h.s.NextDeadline().IsZero())
			for k := EventStart; k <= EventStop; k++ {
				assert.Nil(t, h.s.Step(h.now.Add(time.Hour), Event{Kind: k, Seq: 1}), "after %v: %v", tc.ev, k)
			}
			assert.Equal(t, StateStopped, h.s.State())
			assert.True(t, h.s.NextDeadline().IsZero())
		})
	}
}

func TestNextDeadlineNeverInThePast(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	// An event arrives late, after the heartbeat was due: the deadline is now.
	h.at(50 * time.Second).ev(EventInbound)
	assert.Equal(t, 50*time.Second, h.deadline())
	acts := h.ev(EventTick)
	require.Len(t, acts, 1)
	assert.Equal(t, ActionSendPing, acts[0].Kind)
}

func TestAppendStepUsesCallerBuffer(t *testing.T) {
	p := MustPolicy(pingFixed(20 * time.Second))
	s := NewSession(p, nil)
	buf := make([]Action, 0, 8)
	out := s.AppendStep(buf, ct0, Event{Kind: EventStart})
	assert.Equal(t, []Action{{Kind: ActionConnect}, stateChange(StateIdle, StateConnecting)}, out)
	assert.Same(t, &buf[:1][0], &out[0])
	out = s.AppendStep(out, ct0, Event{Kind: EventConnected})
	assert.Len(t, out, 3)
}

func TestStepDoesNotAllocateInSteadyState(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	now := h.now
	seq := uint64(0)
	// Warm up buffers and the latency window.
	for i := 0; i < 3; i++ {
		now = h.s.NextDeadline()
		seq = h.s.Step(now, Event{Kind: EventTick})[0].Seq
		h.s.Step(now, Event{Kind: EventHeartbeatAck, Seq: seq, RTT: time.Millisecond})
	}
	allocs := testing.AllocsPerRun(100, func() {
		now = h.s.NextDeadline()
		seq = h.s.Step(now, Event{Kind: EventTick})[0].Seq
		h.s.Step(now, Event{Kind: EventHeartbeatAck, Seq: seq, RTT: time.Millisecond})
	})
	assert.Zero(t, allocs)
}

func TestHealthSnapshot(t *testing.T) {
	h := connectedCore(t, pingFixed(20*time.Second))
	for i, rtt := range []time.Duration{10, 20, 30, 40} {
		acts := h.tick()
		h.step(Event{Kind: EventHeartbeatAck, Seq: acts[0].Seq, RTT: rtt * time.Millisecond})
		_ = i
	}
	hl := h.s.Health()
	assert.Equal(t, StateConnected, hl.State)
	assert.Equal(t, 20*time.Second, hl.Interval)
	assert.Equal(t, 20*time.Millisecond, hl.RTTP50)
	assert.Equal(t, 40*time.Millisecond, hl.RTTP99)
	assert.Equal(t, uint64(4), hl.HeartbeatsSent)
	assert.Equal(t, h.now, hl.LastSuccess)
	assert.False(t, hl.LatencyAlert)
}
