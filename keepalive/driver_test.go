package keepalive

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnginePingsAtTheConfiguredInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		c := h.add("a", pingCfg(30*time.Second), nil)

		require.Equal(t, 1, c.count("connect"), "the first action of a new session is Connect")
		connectedAt := c.ops("connect")[0].at
		require.Equal(t, StateConnected, h.state("a"))

		h.advance(5*time.Minute, time.Second)

		pings := c.ops("ping")
		require.Len(t, pings, 10, "5 min at 30 s")
		assert.Equal(t, connectedAt.Add(30*time.Second), pings[0].at, "first ping one interval after connecting")
		for i, g := range gaps(pings) {
			assert.Equal(t, 30*time.Second, g, "gap %d", i)
		}
		for i, p := range pings {
			assert.Equal(t, p.at.Add(5*time.Second), p.deadline, "ping %d ctx carries the reply deadline on the engine clock", i)
		}
		assert.Zero(t, c.count("presence"))
		assert.Equal(t, 1, c.count("connect"), "no reconnect while pings succeed")
	})
}

func TestEngineSendsPresenceAtTheConfiguredInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		cfg := Config{Strategy: StrategyPresence, Presence: PresenceComposing, IntervalMode: IntervalFixed, Interval: time.Minute}
		c := h.add("seed", cfg, nil)

		h.advance(10*time.Minute, 5*time.Second)

		sends := c.ops("presence")
		require.Len(t, sends, 10)
		for i, g := range gaps(sends) {
			assert.Equal(t, time.Minute, g, "gap %d", i)
		}
		for _, s := range sends {
			assert.Equal(t, PresenceComposing, s.presence)
		}
		assert.Zero(t, c.count("ping"))
		assert.Equal(t, 10.0, testutil.ToFloat64(h.eng.metrics.sentPresence))
	})
}

func TestEngineMissedReplyFailsAndReconnects(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		c := h.add("a", pingCfg(30*time.Second), func(c *fakeConn) { c.pingHang = true })

		h.advance(30*time.Second, time.Second)
		require.Equal(t, 1, c.count("ping"))
		assert.Zero(t, testutil.ToFloat64(h.eng.metrics.failedPing), "no failure before the deadline")

		// The reply deadline passes: the driver cancels the ping, reports the failure,
		// and the session replaces the connection.
		c.set(func(c *fakeConn) { c.pingHang = false })
		h.advance(5*time.Second, time.Second)
		assert.Equal(t, 1.0, testutil.ToFloat64(h.eng.metrics.failedPing))
		failed := withMsg(h.logs.records(t), LogHeartbeatFailed, "a")
		require.Len(t, failed, 1)
		assert.Equal(t, "ping", failed[0]["strategy"])

		h.advance(10*time.Second, time.Second) // longer than the 4 s MaxDelay
		assert.GreaterOrEqual(t, c.count("connect"), 2, "a reconnect follows the failure")
		assert.Equal(t, StateConnected, h.state("a"))
		assert.GreaterOrEqual(t, testutil.ToFloat64(h.eng.metrics.reconnects.WithLabelValues(CauseHeartbeatTimeout.String())), 1.0)
		assert.NotEmpty(t, withMsg(h.logs.records(t), LogReconnecting, "a"))
	})
}

func TestEngineSlowConnectionDoesNotBlockOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: time.Hour})
		gate := make(chan struct{})
		slowConnect := h.add("slow-connect", pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })
		slowPing := h.add("slow-ping", pingCfg(30*time.Second), func(c *fakeConn) { c.pingHang = true })
		fast := h.add("fast", pingCfg(30*time.Second), nil)

		h.advance(2*time.Minute, time.Second)

		assert.Len(t, fast.ops("ping"), 4, "the fast session keeps its schedule")
		assert.Equal(t, StateConnected, h.state("fast"))
		assert.Equal(t, StateConnecting, h.state("slow-connect"))
		assert.Zero(t, slowConnect.count("ping"))
		assert.GreaterOrEqual(t, slowPing.count("ping"), 1)

		close(gate)
		synctest.Wait()
		assert.Equal(t, StateConnected, h.state("slow-connect"))
		h.advance(30*time.Second, time.Second)
		assert.Equal(t, 1, slowConnect.count("ping"))
	})
}

func TestEngineSlowPresenceDoesNotBlockOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		cfg := Config{Strategy: StrategyPresence, IntervalMode: IntervalFixed, Interval: time.Minute}
		gate := make(chan struct{})
		stuck := make([]*fakeConn, 3)
		for i := range stuck {
			stuck[i] = h.add(fmt.Sprintf("stuck-%d", i), cfg, func(c *fakeConn) { c.presenceGate = gate })
		}
		fast := h.add("fast", cfg, nil)

		h.advance(5*time.Minute, time.Second)
		assert.Len(t, fast.ops("presence"), 5, "sends stuck on other connections do not hold this one up")
		for i, c := range stuck {
			assert.Equal(t, 1, c.count("presence"), "stuck-%d: one send in flight per connection, never a pile", i)
		}
		assert.GreaterOrEqual(t, testutil.ToFloat64(h.eng.metrics.failedPresence), 3.0,
			"a heartbeat due while the previous send is stuck fails")
		close(gate)
	})
}

func TestEngineConnectStormIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: time.Hour})
		gate := make(chan struct{})
		const n = maxPoolWorkers + 6
		conns := make([]*fakeConn, n)
		for i := range conns {
			conns[i] = h.add(fmt.Sprintf("s%02d", i), pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })
		}
		inFlight := 0
		for _, c := range conns {
			inFlight += c.count("connect")
		}
		assert.Equal(t, maxPoolWorkers, inFlight, "at most maxPoolWorkers Connect calls at once")

		close(gate)
		synctest.Wait()
		assert.Equal(t, n, h.eng.StateCounts()[StateConnected], "the queued connects run as workers free up")
	})
}

func TestEnginePingsAreNeverQueuedBehindStuckOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		cfg := pingCfg(30 * time.Second)
		cfg.ReplyDeadline = 20 * time.Second
		for i := range maxPoolWorkers + 6 {
			h.add(fmt.Sprintf("dead-%02d", i), cfg, func(c *fakeConn) { c.pingHang = true })
		}
		fast := h.add("fast", cfg, nil)
		h.advance(31*time.Second, time.Second)

		pings := fast.ops("ping")
		require.Len(t, pings, 1)
		assert.Equal(t, t0.Add(30*time.Second), pings[0].at, "sent on time while every other ping hangs")
		assert.Zero(t, testutil.ToFloat64(h.eng.metrics.failedPing), "nothing failed yet: the deadlines are 20 s away")
		h.advance(20*time.Second, time.Second)
		assert.Equal(t, float64(maxPoolWorkers+6), testutil.ToFloat64(h.eng.metrics.failedPing))
	})
}

func TestEngineConnectTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: 10 * time.Second})
		gate := make(chan struct{})
		c := h.add("a", pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })
		first := c.ops("connect")[0]
		assert.Equal(t, first.at.Add(10*time.Second), first.deadline, "Connect's ctx carries ConnectTimeout")

		h.advance(10*time.Second, time.Second)
		assert.Equal(t, 1.0, testutil.ToFloat64(h.eng.metrics.connectFailures))
		assert.Len(t, withMsg(h.logs.records(t), LogConnectFailed, "a"), 1)

		close(gate)
		h.advance(10*time.Second, time.Second)
		assert.GreaterOrEqual(t, c.count("connect"), 2)
		assert.Equal(t, StateConnected, h.state("a"))
	})
}

func TestEngineAddRemoveReconfigureAtRunTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		a := h.add("a", pingCfg(30*time.Second), nil)
		h.advance(time.Minute, time.Second)

		b := h.add("b", pingCfg(30*time.Second), nil)
		h.eng.stateMu.Lock()
		samePolicy := h.eng.sessions["a"].sess.Policy() == h.eng.sessions["b"].sess.Policy()
		h.eng.stateMu.Unlock()
		assert.True(t, samePolicy, "equal configs share one *Policy")
		h.advance(time.Minute, time.Second)
		assert.Len(t, b.ops("ping"), 2)

		require.NoError(t, h.eng.Reconfigure("a", pingCfg(10*time.Second)))
		synctest.Wait()
		before := a.count("ping")
		h.advance(2*time.Minute, time.Second)
		pings := a.ops("ping")[before:]
		require.GreaterOrEqual(t, len(pings), 10)
		for i, g := range gaps(pings) {
			assert.Equal(t, 10*time.Second, g, "gap %d after reconfigure", i)
		}

		require.NoError(t, h.eng.Remove("b"))
		synctest.Wait()
		assert.Equal(t, 1, b.count("close"), "Remove closes the connection")
		nb := b.total()
		h.advance(2*time.Minute, time.Second)
		assert.Equal(t, nb, b.total(), "no call on a removed session")
		assert.Equal(t, 1, h.eng.Len())
		snap := h.eng.Snapshot()
		require.Len(t, snap, 1)
		assert.Equal(t, "a", snap[0].ID)

		assert.Error(t, h.eng.Remove("b"))
		assert.Error(t, h.eng.Reconfigure("b", pingCfg(time.Second)))
		assert.Error(t, h.eng.Add("a", newFakeConn(h.clk), pingCfg(time.Second)), "duplicate ID")
		require.NoError(t, h.eng.Add("b", newFakeConn(h.clk), pingCfg(30*time.Second)), "an ID can be reused after Remove")
	})
}

func TestEngineNotify(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		c := h.add("a", pingCfg(30*time.Second), nil)

		require.NoError(t, h.eng.Notify("a", Event{Kind: EventDisconnected, Cause: CauseReset}))
		synctest.Wait()
		assert.NotEqual(t, StateConnected, h.state("a"))
		assert.Equal(t, 1.0, testutil.ToFloat64(h.eng.metrics.disconnects.WithLabelValues("reset")))
		assert.Len(t, withMsg(h.logs.records(t), LogKeepAliveStopped, "a"), 1)
		h.advance(10*time.Second, time.Second)
		assert.Equal(t, 2, c.count("connect"))
		assert.Equal(t, StateConnected, h.state("a"))

		require.NoError(t, h.eng.Notify("a", Event{Kind: EventLoggedOut}))
		synctest.Wait()
		assert.Equal(t, StateStopped, h.state("a"))
		assert.Equal(t, 1, c.count("close"))
		n := c.total()
		h.advance(time.Hour, 30*time.Second)
		assert.Equal(t, n, c.total(), "nothing after logout")
		stopped := withMsg(h.logs.records(t), LogSessionStopped, "a")
		require.Len(t, stopped, 1)
		assert.Equal(t, "logged_out", stopped[0]["reason"])

		require.NoError(t, h.eng.Remove("a"))
		synctest.Wait()
		assert.Equal(t, 1, c.count("close"), "Remove after logout does not close twice")

		assert.Error(t, h.eng.Notify("a", Event{Kind: EventTick}), "ticks are the driver's")
		assert.Error(t, h.eng.Notify("nobody", Event{Kind: EventInbound}))
	})
}

func TestEngineStopClosesEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: time.Hour})
		gate := make(chan struct{})
		up := h.add("up", pingCfg(30*time.Second), nil)
		connecting := h.add("connecting", pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })
		hanging := h.add("hanging", pingCfg(30*time.Second), func(c *fakeConn) { c.pingHang = true })
		h.advance(31*time.Second, time.Second)

		h.stop()
		for name, c := range map[string]*fakeConn{"up": up, "connecting": connecting, "hanging": hanging} {
			assert.Equal(t, 1, c.count("close"), "%s closed once", name)
		}
		assert.Equal(t, 1, connecting.count("connect"), "the cancelled Connect is not retried")
		assert.ErrorIs(t, h.eng.Add("late", newFakeConn(h.clk), pingCfg(time.Second)), ErrEngineStopped)
		assert.ErrorIs(t, h.eng.Notify("up", Event{Kind: EventInbound}), ErrEngineStopped)
		assert.ErrorIs(t, h.eng.Reconfigure("up", pingCfg(time.Second)), ErrEngineStopped)
		for _, s := range h.eng.Snapshot() {
			assert.Equal(t, StateStopped, s.State, s.ID)
		}
		// synctest.Test fails if a goroutine of the bubble is left blocked.
	})
}

func TestEngineRunTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{})
		assert.Error(t, h.eng.Run(context.Background()))
	})
}

// pingTimes runs one engine with seed over ten virtual minutes of whatsmeow-style
// random intervals and returns each session's ping times.
func pingTimes(t *testing.T, seed uint64) map[string][]time.Time {
	out := map[string][]time.Time{}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: seed})
		cfg := Config{Strategy: StrategyPing, IntervalMode: IntervalRandom,
			IntervalMin: 20 * time.Second, IntervalMax: 30 * time.Second, ReplyDeadline: 5 * time.Second}
		conns := map[string]*fakeConn{}
		for _, id := range []string{"x", "y"} {
			conns[id] = h.add(id, cfg, nil)
		}
		h.advance(10*time.Minute, time.Second)
		for id, c := range conns {
			for _, p := range c.ops("ping") {
				out[id] = append(out[id], p.at)
			}
			for i, g := range gaps(c.ops("ping")) {
				// The next ping is due an interval after the previous reply (40 ms).
				assert.GreaterOrEqual(t, g, 20*time.Second, "%s gap %d", id, i)
				assert.LessOrEqual(t, g, 31*time.Second, "%s gap %d", id, i)
			}
		}
	})
	return out
}

func TestEngineSeedMakesRandomIntervalsReproducible(t *testing.T) {
	a, b, c := pingTimes(t, 5), pingTimes(t, 5), pingTimes(t, 6)
	require.GreaterOrEqual(t, len(a["x"]), 19)
	assert.Equal(t, a, b, "same seed, same schedule")
	assert.NotEqual(t, a["x"], a["y"], "sessions draw from their own sources")
	assert.NotEqual(t, a, c, "another seed, another schedule")
}
