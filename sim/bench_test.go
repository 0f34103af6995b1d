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
// simulator — the engine's driver (keepalive.Engine, its goroutine, its timer) on a
// clockwork fake clock advanced in 1 s steps, a fake connection that answers pings
// after the path's RTT and closes after 60 s of idleness like nginx, and inbound
// messages at the same Poisson rate reported with Notify. After each step it waits
// until the engine's timer is armed again (its work is done) before the next.
func BenchmarkSimDayFakeClock(b *testing.B) {
	run := benchDay(b)
	var pings int
	b.ResetTimer()
	for b.Loop() {
		pings = fakeClockDay(b, run)
	}
	b.StopTimer()
	require.Greater(b, pings, 3000)
	reportRealtime(b, run.Duration)
	b.ReportMetric(float64(pings), "pings/day")
}

func fakeClockDay(b *testing.B, run Run) int {
	clk := clockwork.NewFakeClockAt(Epoch)
	eng, err := keepalive.NewEngine(keepalive.EngineOptions{
		Clock: clk, Seed: run.Seed, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(b, err)
	conn := &idleConn{clk: clk, idle: run.Path[0].Timeout, rtt: DefaultRTT + DefaultPingServiceTime}
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
	next := time.Duration(rng.ExpFloat64() / rate)
	const step = time.Second
	for elapsed := time.Duration(0); elapsed < run.Duration; elapsed += step {
		settle(ctx, b, clk, eng, conn)
		clk.Advance(step)
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
	return conn.pings
}

// settle waits until the engine has finished reacting at the current fake time:
// every heartbeat it dispatched reached the connection, no call is in flight,
// every call's outcome is visible in the session's health, and its one timer is
// armed again. (synctest.Wait would do this, but it needs a *testing.T.)
func settle(ctx context.Context, b *testing.B, clk *clockwork.FakeClock, eng *keepalive.Engine, c *idleConn) {
	for spins := 0; ; spins++ {
		if spins > 10_000_000 {
			b.Fatal("settle: the engine never went quiet")
		}
		h, ok := eng.SessionHealthOf("bench")
		if !ok {
			b.Fatal("session gone")
		}
		c.mu.Lock()
		quiet := c.inflight == 0 && uint64(c.pings) == h.HeartbeatsSent &&
			h.HeartbeatsFailed >= uint64(c.failed) &&
			(c.lastOK.IsZero() || !h.LastSuccess.Before(c.lastOK)) &&
			h.State != keepalive.StateConnecting
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

// idleConn is a fake keepalive.Conn on the fake clock: pings are answered after rtt
// (reported, not waited for) unless the connection idled longer than idle (then it
// was closed, as nginx does).
type idleConn struct {
	clk    clockwork.Clock
	idle   time.Duration
	rtt    time.Duration
	notify func(keepalive.Event)

	mu       sync.Mutex
	last     time.Time
	up       bool
	inflight int
	pings    int
	failed   int
	lastOK   time.Time
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

func (c *idleConn) Ping(context.Context) (time.Duration, error) {
	c.mu.Lock()
	c.pings++
	c.inflight++
	ok, out := c.touch()
	if ok {
		c.lastOK = c.clk.Now()
	} else {
		c.failed++
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inflight--
		c.mu.Unlock()
	}()
	if out {
		c.notify(keepalive.Event{Kind: keepalive.EventDisconnected, Cause: keepalive.CauseClosed})
	}
	if !ok {
		return 0, errClosed
	}
	return c.rtt, nil
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
