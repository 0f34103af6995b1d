package keepalive

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func adaptiveCfg() Config {
	return Config{
		Strategy:      StrategyPing,
		IntervalMode:  IntervalAdaptive,
		ReplyDeadline: 5 * time.Second,
		Reconnect:     ReconnectConfig{Mode: ReconnectImmediate},
		Adaptive:      AdaptiveConfig{Floor: 5 * time.Second, Ceiling: 30 * time.Minute, Initial: 25 * time.Second},
	}
}

// okPing ticks to the next heartbeat and acknowledges it at once: the idle gap
// before it is exactly the interval.
func okPing(t *testing.T, h *core) {
	t.Helper()
	acts := h.tick()
	p, ok := findAct(acts, ActionSendPing)
	require.True(t, ok, "expected a ping at %v, got %v", h.elapsed(), actKinds(acts))
	h.step(Event{Kind: EventHeartbeatAck, Seq: p.Seq})
}

// lostPing ticks to the next heartbeat, lets its reply deadline pass (the
// connection is replaced) and reconnects.
func lostPing(t *testing.T, h *core) {
	t.Helper()
	acts := h.tick()
	_, ok := findAct(acts, ActionSendPing)
	require.True(t, ok, "expected a ping at %v", h.elapsed())
	acts = h.tick()
	_, ok = findAct(acts, ActionConnect)
	require.True(t, ok, "expected a reconnect at %v", h.elapsed())
	h.ev(EventConnected)
}

// closedAfter lets the connection idle for gap, then a middlebox closes it; the
// session reconnects at once.
func closedAfter(t *testing.T, h *core, gap time.Duration) {
	t.Helper()
	h.at(h.elapsed() + gap).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	require.Equal(t, StateConnecting, h.s.State())
	h.ev(EventConnected)
}

func bounds(h *core) (lo, hi time.Duration, settled bool) { return h.s.AdaptiveBounds() }

func TestAdaptiveStartsAtInitialAndGrowsAfterGrowAfterSuccesses(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	assert.Equal(t, 25*time.Second, h.s.Interval())
	for i := 0; i < 4; i++ {
		okPing(t, h)
		assert.Equal(t, 25*time.Second, h.s.Interval(), "success %d", i+1)
	}
	okPing(t, h)
	assert.Equal(t, 31250*time.Millisecond, h.s.Interval(), "× 1.25 after 5 successes")
	lo, hi, settled := bounds(h)
	assert.Equal(t, 25*time.Second, lo)
	assert.Zero(t, hi)
	assert.False(t, settled)
}

func TestAdaptiveGrowStepIsAdditive(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.Adaptive.GrowStep = time.Minute
	h := connectedCore(t, cfg)
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	assert.Equal(t, 85*time.Second, h.s.Interval())
}

func TestAdaptiveMissedReplyWithNothingKnownDividesByThree(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	lostPing(t, h)
	lo, hi, _ := bounds(h)
	assert.Zero(t, lo)
	assert.Equal(t, 25*time.Second, hi)
	assert.Equal(t, 25*time.Second/3, h.s.Interval())
}

func TestAdaptiveCloseNearIntervalShrinksBelowTheGap(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	closedAfter(t, h, 22*time.Second) // ≥ 0.8 × 25 s: an idle timeout
	lo, hi, _ := bounds(h)
	assert.Zero(t, lo)
	assert.Equal(t, 22*time.Second, hi)
	assert.Equal(t, 17600*time.Millisecond, h.s.Interval(), "22 s × (1 − 0.2)")
}

func TestAdaptiveCloseFarBelowIntervalNeedsARepeat(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	closedAfter(t, h, 10*time.Second)
	assert.Equal(t, 25*time.Second, h.s.Interval(), "one early close may be a random fault")
	_, hi, _ := bounds(h)
	assert.Zero(t, hi)
	closedAfter(t, h, 10*time.Second)
	_, hi, _ = bounds(h)
	assert.Equal(t, 10*time.Second, hi)
	assert.Equal(t, 8*time.Second, h.s.Interval(), "the 10 s proxy: 10 s × 0.8")
	// A success at 8 s proves it: lo = 8 ≥ 0.8 × hi, converged at lo × 0.8.
	okPing(t, h)
	lo, hi, settled := bounds(h)
	assert.Equal(t, 8*time.Second, lo)
	assert.Equal(t, 10*time.Second, hi)
	assert.True(t, settled)
	assert.Equal(t, 6400*time.Millisecond, h.s.Interval())
}

func TestAdaptiveEarlyCloseForgottenAfterSuccess(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	closedAfter(t, h, 3*time.Second) // random fault
	okPing(t, h)                     // 25 s works
	closedAfter(t, h, 3*time.Second) // another, unrelated
	assert.Equal(t, 25*time.Second, h.s.Interval())
	_, hi, _ := bounds(h)
	assert.Zero(t, hi)
}

func TestAdaptiveFailureWithLoKnownFallsBackToLoAndProbesMidpoint(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	for i := 0; i < 5; i++ {
		okPing(t, h) // 25 s proven
	}
	require.Equal(t, 31250*time.Millisecond, h.s.Interval())
	for i := 0; i < 5; i++ {
		okPing(t, h) // 31.25 s proven
	}
	require.Equal(t, 39062500*time.Microsecond, h.s.Interval())
	// Suppose the timeout is 39 s and the path blackholes: the 39.0625 s ping is lost…
	// but make hi far above lo first: a close at 60 s gap is impossible here, so use
	// a lost ping at 39.0625 s: lo 31.25 ≥ 0.8 × 39.0625 = 31.25 → converged.
	lostPing(t, h)
	lo, hi, settled := bounds(h)
	assert.Equal(t, 31250*time.Millisecond, lo)
	assert.Equal(t, 39062500*time.Microsecond, hi)
	assert.True(t, settled)
	assert.Equal(t, 25*time.Second, h.s.Interval(), "settled at lo × 0.8")
}

func TestAdaptiveBinarySearchBetweenLoAndHi(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	lostPing(t, h) // hi = 25 s, interval 8.333 s
	okPing(t, h)   // lo = 8.333 s
	lo, hi, settled := bounds(h)
	require.Equal(t, 25*time.Second/3, lo)
	require.Equal(t, 25*time.Second, hi)
	require.False(t, settled)
	for i := 0; i < 4; i++ {
		okPing(t, h)
	}
	// Growth is min(lo × 1.25, (lo + hi) / 2) = min(10.417, 16.667) = 10.417 s.
	assert.Equal(t, 10416666666*time.Nanosecond, h.s.Interval())
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	// lo = 10.417: growth to min(13.02, 17.7) = 13.02 s.
	assert.Equal(t, 13020833332*time.Nanosecond, h.s.Interval())
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	// lo = 13.02 ≥ 0.8 × 25 = 20? No: growth to min(16.276, (13.02+25)/2 = 19.01).
	assert.Equal(t, 16276041665*time.Nanosecond, h.s.Interval())
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	// lo = 16.276: growth to min(20.345, 20.638) = 20.345 s; its first success
	// gives lo = 20.345 ≥ 20: converged at 16.276 s.
	assert.Equal(t, 20345052081*time.Nanosecond, h.s.Interval())
	okPing(t, h)
	_, _, settled = bounds(h)
	assert.True(t, settled)
	assert.Equal(t, 16276041664*time.Nanosecond, h.s.Interval())
}

func TestAdaptiveMidpointCapsGrowthAndFailureReturnsToLo(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.Adaptive.GrowFactor = 3
	h := connectedCore(t, cfg)
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	require.Equal(t, 75*time.Second, h.s.Interval())
	lostPing(t, h) // hi = 75, lo = 25: not converged, back to lo
	lo, hi, settled := bounds(h)
	assert.Equal(t, 25*time.Second, lo)
	assert.Equal(t, 75*time.Second, hi)
	assert.False(t, settled)
	assert.Equal(t, 25*time.Second, h.s.Interval())
	for i := 0; i < 5; i++ {
		okPing(t, h)
	}
	assert.Equal(t, 50*time.Second, h.s.Interval(), "min(25 × 3, (25 + 75) / 2)")
}

func TestAdaptiveSettledIgnoresOneFailureAtSafeGapButNotTwo(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	closedAfter(t, h, 22*time.Second) // hi 22, interval 17.6
	okPing(t, h)                      // lo 17.6 ≥ 17.6: settled at 14.08
	_, _, settled := bounds(h)
	require.True(t, settled)
	require.Equal(t, 14080*time.Millisecond, h.s.Interval())
	lostPing(t, h) // gap 14.08 ≤ lo: a random loss
	lo, hi, settled := bounds(h)
	assert.Equal(t, 17600*time.Millisecond, lo)
	assert.Equal(t, 22*time.Second, hi)
	assert.True(t, settled)
	assert.Equal(t, 14080*time.Millisecond, h.s.Interval())
	lostPing(t, h) // again, with no success between: the path changed
	lo, hi, settled = bounds(h)
	assert.Zero(t, lo)
	assert.Equal(t, 14080*time.Millisecond, hi)
	assert.False(t, settled)
	assert.Equal(t, 5*time.Second, h.s.Interval(), "14.08 / 3 = 4.69, clamped to the floor")
}

func TestAdaptiveSuccessAboveHiDisprovesIt(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.MeasureFromLastRead = false
	h := connectedCore(t, cfg)
	closedAfter(t, h, 22*time.Second) // hi = 22, interval 17.6
	// The next ping goes out late (the driver was busy): gap 30 s, and it works.
	h.at(h.elapsed() + 30*time.Second)
	acts := h.ev(EventTick)
	p, ok := findAct(acts, ActionSendPing)
	require.True(t, ok)
	h.step(Event{Kind: EventHeartbeatAck, Seq: p.Seq})
	lo, hi, settled := bounds(h)
	assert.Equal(t, 30*time.Second, lo)
	assert.Zero(t, hi)
	assert.False(t, settled)
}

func TestAdaptiveReprobesAfterReprobeAfter(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.Adaptive.ReprobeAfter = time.Hour
	h := connectedCore(t, cfg)
	closedAfter(t, h, 22*time.Second)
	okPing(t, h) // settled at 14.08 s
	settledAt := h.elapsed()
	for h.elapsed()-settledAt < time.Hour-20*time.Second {
		okPing(t, h)
		require.Equal(t, 14080*time.Millisecond, h.s.Interval())
	}
	for h.elapsed()-settledAt < time.Hour {
		okPing(t, h)
	}
	_, hi, settled := bounds(h)
	assert.False(t, settled)
	assert.Zero(t, hi, "the bound is forgotten")
	assert.Equal(t, 17600*time.Millisecond, h.s.Interval(), "growth resumes: 14.08 × 1.25")
}

func TestAdaptiveRespectsDetectionBudgetAndFloor(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.Adaptive.DetectionBudget = 45 * time.Second // ceiling 40 s
	h := connectedCore(t, cfg)
	for i := 0; i < 40; i++ {
		okPing(t, h)
		assert.LessOrEqual(t, h.s.Interval(), 40*time.Second)
	}
	assert.Equal(t, 40*time.Second, h.s.Interval())

	h = connectedCore(t, adaptiveCfg())
	lostPing(t, h) // 8.33
	lostPing(t, h) // 2.78 → floor 5
	assert.Equal(t, 5*time.Second, h.s.Interval())
}

func TestAdaptiveIgnoresStreamErrorsAndLocalCloses(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	for _, c := range []Cause{CauseStreamError, CauseLocal, CauseTCPTimeout} {
		h.at(h.elapsed() + 24*time.Second).step(Event{Kind: EventDisconnected, Cause: c})
		h.ev(EventConnected)
	}
	_, hi, _ := bounds(h)
	assert.Zero(t, hi)
	assert.Equal(t, 25*time.Second, h.s.Interval())
}

// idlePath is a tiny model of a middlebox with an idle timeout on both
// directions, for the convergence test: a connection idle for ≥ timeout is closed
// (close) or silently dropped (blackhole: the next ping gets no reply).
type idlePath struct {
	timeout   time.Duration
	blackhole bool
	resetNext bool // blackhole that answers the next packet with an RST (AWS NLB)
	rtt       time.Duration
}

// runIdlePath runs the policy for dur behind path and returns the final interval
// and the number of connections lost.
func runIdlePath(t *testing.T, cfg Config, path idlePath, dur time.Duration) (time.Duration, int) {
	t.Helper()
	h := connectedCore(t, cfg)
	lastTraffic := h.elapsed()
	losses := 0
	for h.elapsed() < dur {
		next := h.s.NextDeadline().Sub(ct0)
		require.Equal(t, StateConnected, h.s.State())
		if !path.blackhole && next-lastTraffic >= path.timeout {
			losses++
			h.at(lastTraffic + path.timeout).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
			require.Equal(t, StateConnecting, h.s.State())
			h.at(h.elapsed() + path.rtt).ev(EventConnected)
			lastTraffic = h.elapsed()
			continue
		}
		acts := h.tick()
		if p, ok := findAct(acts, ActionSendPing); ok {
			if path.blackhole && h.elapsed()-lastTraffic >= path.timeout {
				if path.resetNext {
					losses++
					h.at(h.elapsed() + path.rtt/2).step(Event{Kind: EventDisconnected, Cause: CauseReset})
					require.Equal(t, StateConnecting, h.s.State())
					h.at(h.elapsed() + path.rtt).ev(EventConnected)
					lastTraffic = h.elapsed()
				}
				continue // no reply; the deadline fires next
			}
			h.at(h.elapsed() + path.rtt).step(Event{Kind: EventHeartbeatAck, Seq: p.Seq, RTT: path.rtt})
			lastTraffic = h.elapsed()
			continue
		}
		if _, ok := findAct(acts, ActionConnect); ok {
			losses++
			h.at(h.elapsed() + path.rtt).ev(EventConnected)
			lastTraffic = h.elapsed()
		}
	}
	return h.s.Interval(), losses
}

func TestAdaptiveConvergesBehindUnknownIdleTimeouts(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.ReplyDeadline = 10 * time.Second
	cfg.Reconnect = ReconnectConfig{} // default backoff: immediate is not needed here
	cfg.Reconnect.Mode = ReconnectImmediate
	for _, timeout := range []time.Duration{10, 45, 60, 100, 350, 900} {
		for _, expiry := range []string{"close", "blackhole", "reset-next"} {
			name := fmt.Sprintf("%ds/%s", timeout, expiry)
			t.Run(name, func(t *testing.T) {
				T := timeout * time.Second
				path := idlePath{timeout: T, blackhole: expiry != "close", resetNext: expiry == "reset-next", rtt: 150 * time.Millisecond}
				iv, losses := runIdlePath(t, cfg, path, 24*time.Hour)
				ratio := float64(iv) / float64(T)
				t.Logf("interval %v (%.2f × timeout), %d connections lost", iv, ratio, losses)
				assert.GreaterOrEqual(t, ratio, 0.5, "interval %v", iv)
				assert.LessOrEqual(t, ratio, 0.95, "interval %v", iv)
				assert.LessOrEqual(t, losses, 3, "connections lost to probing")
			})
		}
	}
}

func TestAdaptiveResetAnsweringAPingIsAFailureOfThePing(t *testing.T) {
	h := connectedCore(t, adaptiveCfg())
	_, ok := findAct(h.tick(), ActionSendPing) // after a 25 s gap
	require.True(t, ok)
	// The box dropped the state silently and resets the ping: a failure after 25 s.
	h.at(h.elapsed() + 100*time.Millisecond).step(Event{Kind: EventDisconnected, Cause: CauseReset})
	lo, hi, _ := bounds(h)
	assert.Zero(t, lo)
	assert.Equal(t, 25*time.Second, hi, "the gap before the ping, not since it")
	assert.Equal(t, 25*time.Second/3, h.s.Interval())
}

func TestAdaptiveLearnsOnlyFromTheFirstFailureOfAConnection(t *testing.T) {
	cfg := adaptiveCfg()
	cfg.Detection.MaxFailures = 3
	h := connectedCore(t, cfg)
	// A blackholed connection: every ping fails, whatever the gap.
	for i := 0; i < 2; i++ {
		_, ok := findAct(h.tick(), ActionSendPing)
		require.True(t, ok)
		assert.Empty(t, h.tick(), "failure %d kept the connection", i+1)
	}
	_, hi, _ := bounds(h)
	assert.Equal(t, 25*time.Second, hi)
	assert.Equal(t, 25*time.Second/3, h.s.Interval(), "shrunk once, not once per failure")
	// The close of the failing connection teaches nothing either.
	h.at(h.elapsed() + time.Second).step(Event{Kind: EventDisconnected, Cause: CauseClosed})
	_, hi, _ = bounds(h)
	assert.Equal(t, 25*time.Second, hi)
	assert.Equal(t, 25*time.Second/3, h.s.Interval())
}
