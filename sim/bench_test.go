package sim

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// benchDay is the day both benchmarks simulate: one session of the whatsmeow
// preset behind nginx (60 s, both directions, close), 30 inbound messages per hour.
func benchDay(tb testing.TB) Run {
	cfg, ok := keepalive.Preset("whatsmeow")
	require.True(tb, ok)
	nginx, ok := middlebox.Lookup("nginx")
	require.True(tb, ok)
	return Run{
		Scenario: "bench", Client: "whatsmeow",
		Policy:   cfg,
		Path:     []middlebox.Spec{nginx},
		Server:   Server{InboundPerHour: 30},
		Duration: 24 * time.Hour,
		Seed:     1,
	}
}

func reportRealtime(b *testing.B, simulated time.Duration) {
	b.ReportMetric(simulated.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkSimDay: the day in the simulator. Metric x-realtime = simulated seconds
// per wall second (target ≥ 10,000,000).
func BenchmarkSimDay(b *testing.B) {
	run := benchDay(b)
	r, err := Simulate(run)
	require.NoError(b, err)
	require.Greater(b, r.Pings, 3000)
	require.Greater(b, r.MessagesDelivered, 600)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Simulate(run); err != nil {
			b.Fatal(err)
		}
	}
	reportRealtime(b, run.Duration)
	b.ReportMetric(float64(r.Pings), "pings/day")
}

// BenchmarkSimDayFakeClock: the same day the way one would run it without a
// simulator — the engine's driver (keepalive.Engine: its goroutine, its timer, its
// Conn calls) on a clockwork fake clock, with a fake connection that models the
// same path: a ping's reply comes one RTT (105 ms) later on the fake clock, the
// connection closes after 60 s idle like nginx, and inbound messages (same Poisson
// rate) arrive one way (50 ms) after they were sent, reported with Notify. The clock
// advances in steps no larger than the run's smallest period (the one-way delay,
// as STYLE.md advises for clockwork), and after each step the benchmark waits until
// the engine and the connection are quiet. Metric x-realtime, as BenchmarkSimDay.
func BenchmarkSimDayFakeClock(b *testing.B) {
	benchFakeClock(b, DefaultRTT/2, true)
}

// BenchmarkSimDayFakeClockCoarse is BenchmarkSimDayFakeClock with 1 s steps (as
// the driver's own tests advance): the fake connection can then only report the
// RTT, not wait for it, and the day is quantised to the step (about 5 % fewer
// pings) — cheaper, but no longer the same run.
func BenchmarkSimDayFakeClockCoarse(b *testing.B) {
	benchFakeClock(b, time.Second, false)
}

func benchFakeClock(b *testing.B, step time.Duration, waitRTT bool) {
	run := benchDay(b)
	var pings, stalls int
	b.ResetTimer()
	for b.Loop() {
		pings, stalls = fakeClockDay(b, run, step, waitRTT)
	}
	b.StopTimer()
	require.Greater(b, pings, 3000)
	reportRealtime(b, run.Duration)
	b.ReportMetric(float64(pings), "pings/day")
	b.ReportMetric(float64(stalls), "stalls/day")
}

func fakeClockDay(b *testing.B, run Run, step time.Duration, waitRTT bool) (pings, stalls int) {
	clk := clockwork.NewFakeClockAt(Epoch)
	eng, err := keepalive.NewEngine(keepalive.EngineOptions{
		Clock: clk, Seed: run.Seed, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(b, err)
	conn := &idleConn{clk: clk, idle: run.Path[0].Timeout, rtt: DefaultRTT + DefaultPingServiceTime, waitRTT: waitRTT}
	conn.notify = func(ev keepalive.Event) { _ = eng.Notify("bench", ev) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = eng.Run(ctx)
	}()
	require.NoError(b, eng.Add("bench", conn, run.Policy))

	rng := rand.New(rand.NewPCG(run.Seed, streamServer))
	rate := run.Server.InboundPerHour / float64(time.Hour)
	oneWay := DefaultRTT / 2
	next := time.Duration(rng.ExpFloat64()/rate) + oneWay // arrival of the next message
	for elapsed := time.Duration(0); elapsed < run.Duration; elapsed += step {
		settle(ctx, b, clk, eng, conn)
		clk.Advance(step)
		conn.deliverReplies()
		for next <= elapsed+step {
			conn.inbound()
			next += time.Duration(rng.ExpFloat64() / rate)
		}
	}
	settle(ctx, b, clk, eng, conn)
	eng.Stop()
	<-done
	conn.mu.Lock()
	defer conn.mu.Unlock()
	return conn.pings, conn.stalls
}

// maxOutcomeWait bounds, in real time, how long settle waits for a returned
// reply to show in the session's health once everything else is quiet. A safety
// bound, not a measurement: the engine takes microseconds, a goroutine
// descheduled on a loaded machine some milliseconds (a bound in spins, a few
// milliseconds long, counted those as stalls); only a reply the driver dropped
// waits this long.
const maxOutcomeWait = time.Second

// settle waits until the engine has finished reacting at the current fake time:
// every heartbeat it dispatched reached the connection, every call that returned
// has its outcome visible in the session's health, a ping in flight waits for a
// reply that is not due yet, and the engine's one timer is armed again.
// (synctest.Wait would do this, but it needs a *testing.T.)
func settle(ctx context.Context, b *testing.B, clk *clockwork.FakeClock, eng *keepalive.Engine, c *idleConn) {
	start := time.Now()       // a safety bound in real time: never a timing assertion
	var unseenSince time.Time // when the engine went calm without the reply's outcome
	for spins := 0; ; spins++ {
		if spins%1024 == 1023 && time.Since(start) > time.Minute {
			h, _ := eng.SessionHealthOf("bench")
			c.mu.Lock()
			b.Fatalf("settle: the engine never went quiet at %v: health %+v; conn pings=%d failed=%d inflight=%d lastOK=%v replyDue=%v",
				clk.Now().Sub(Epoch), h, c.pings, c.failed, c.inflight, c.lastOK.Sub(Epoch), c.replyDue.Sub(Epoch))
		}
		h, ok := eng.SessionHealthOf("bench")
		if !ok {
			b.Fatal("session gone")
		}
		c.mu.Lock()
		// The latest reply is visible once the engine counted it as a success, or
		// as a failure (late, by its own deadline) since the last quiet point.
		// (If the driver drops a reply — it ignores one it no longer waits for — the
		// outcome never shows: after maxOutcomeWait the step goes on and counts a
		// stall.)
		calm := uint64(c.pings) == h.HeartbeatsSent &&
			h.HeartbeatsFailed >= uint64(c.failed) &&
			h.State != keepalive.StateConnecting &&
			(c.inflight == 0 || (c.waitRTT && clk.Now().Before(c.replyDue)))
		visible := c.lastOK.IsZero() || !h.LastSuccess.Before(c.lastOK) || h.HeartbeatsFailed > c.failSeen
		if calm && !visible && unseenSince.IsZero() {
			unseenSince = time.Now()
		}
		quiet := calm && (visible || (!unseenSince.IsZero() && time.Since(unseenSince) > maxOutcomeWait))
		if quiet {
			c.failSeen = h.HeartbeatsFailed
			if !visible {
				c.stalls++
				c.lastOK = time.Time{}
			}
		}
		c.mu.Unlock()
		if quiet {
			break
		}
		runtime.Gosched()
	}
	if err := clk.BlockUntilContext(ctx, 1); err != nil {
		b.Fatal(err)
	}
}

// idleConn is a fake keepalive.Conn on the fake clock: a ping is answered after
// rtt (with waitRTT the reply is delivered by deliverReplies once the fake clock
// reaches it, else the rtt is only reported) unless the connection idled longer
// than idle (then it was closed, as nginx does).
type idleConn struct {
	clk     clockwork.Clock
	idle    time.Duration
	rtt     time.Duration
	waitRTT bool
	notify  func(keepalive.Event)

	mu       sync.Mutex
	last     time.Time
	up       bool
	inflight int           // pings waiting for their reply (the engine keeps at most one)
	replyDue time.Time     // when the in-flight ping's reply comes
	reply    chan struct{} // delivers that reply
	pings    int
	failed   int
	lastOK   time.Time // when the latest successful reply came
	failSeen uint64    // the engine's failure count at the last quiet point (settle)
	stalls   int       // settle gave up waiting for a reply's outcome
}

var errClosed = errors.New("idleConn: closed by the proxy")

// touch records traffic now and reports whether the connection was still open
// (false once it idled out: the first such call also reports the disconnect).
func (c *idleConn) touch() (ok, idledOut bool) {
	now := c.clk.Now()
	if c.up && now.Sub(c.last) > c.idle {
		c.up = false
		idledOut = true
	}
	c.last = now
	return c.up, idledOut
}

func (c *idleConn) Connect(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up, c.last = true, c.clk.Now()
	return nil
}

func (c *idleConn) SendPresence(context.Context, keepalive.PresenceType) error {
	c.mu.Lock()
	ok, out := c.touch()
	c.mu.Unlock()
	if out {
		c.notify(keepalive.Event{Kind: keepalive.EventDisconnected, Cause: keepalive.CauseClosed})
	}
	if !ok {
		return errClosed
	}
	return nil
}

func (c *idleConn) Ping(ctx context.Context) (time.Duration, error) {
	c.mu.Lock()
	c.pings++
	ok, out := c.touch()
	var reply chan struct{}
	if ok && c.waitRTT {
		c.inflight++
		c.replyDue = c.clk.Now().Add(c.rtt)
		reply = make(chan struct{}, 1)
		c.reply = reply
	}
	c.mu.Unlock()
	if out {
		c.notify(keepalive.Event{Kind: keepalive.EventDisconnected, Cause: keepalive.CauseClosed})
	}
	if !ok {
		c.mu.Lock()
		c.failed++
		c.mu.Unlock()
		return 0, errClosed
	}
	if reply != nil {
		select {
		case <-reply:
		case <-ctx.Done():
			c.mu.Lock()
			c.inflight--
			c.failed++
			c.reply = nil
			c.mu.Unlock()
			return 0, ctx.Err()
		}
	}
	c.mu.Lock()
	if reply != nil {
		c.inflight--
		c.touch()
	}
	c.lastOK = c.clk.Now()
	c.mu.Unlock()
	return c.rtt, nil
}

// deliverReplies hands the in-flight ping its reply once the fake clock reached it.
func (c *idleConn) deliverReplies() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reply != nil && !c.clk.Now().Before(c.replyDue) {
		c.reply <- struct{}{}
		c.reply = nil
	}
}

func (c *idleConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = false
	return nil
}

func (c *idleConn) inbound() {
	c.mu.Lock()
	ok, _ := c.touch()
	c.mu.Unlock()
	if ok {
		c.notify(keepalive.Event{Kind: keepalive.EventInbound})
	}
}
