package keepalive

import (
	"container/heap"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// Benchmarks of the driver against the seed's design (a goroutine and a ticker
// per session), in the same run: the same sessions, the same presence heartbeat
// every benchInterval, started in benchInterval/time.Second staggered groups,
// driven through the same virtual hours on the same fake clock.
//
// Metrics:
//   - B/session: heap and goroutine stacks added per session (HeapAlloc +
//     StackInuse after a GC, minus what the connection fakes and IDs take, which
//     exist before the measurement starts).
//   - ns/heartbeat: wall time to advance the virtual hours divided by the
//     heartbeats the connections received: the cost to schedule, dispatch and
//     account one heartbeat.
//
// The clock is benchClock, a clockwork.Clock whose timers sit in a heap. clockwork's
// FakeClock re-sorts all its waiters on every timer it sets, which costs the
// goroutine-per-session design O(n log n) per tick and would measure clockwork,
// not the design. The engine has a single timer either way.

const (
	benchInterval = 30 * time.Second
	benchGroups   = int(benchInterval / time.Second)
)

// benchHours is the virtual time each benchmark runs for.
func benchHours(n int) time.Duration {
	if n > 10_000 {
		return time.Hour
	}
	return 2 * time.Hour
}

func BenchmarkEngineSessions(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			benchEngine(b, n, Config{Strategy: StrategyPresence, IntervalMode: IntervalFixed, Interval: benchInterval})
		})
	}
}

// BenchmarkEngineSessionsPing is BenchmarkEngineSessions with ping heartbeats:
// every heartbeat also carries a reply deadline, a result back to the loop, an
// RTT sample and the latency window it fills.
func BenchmarkEngineSessionsPing(b *testing.B) {
	b.Run("n=10000", func(b *testing.B) {
		benchEngine(b, 10_000, Config{Strategy: StrategyPing, IntervalMode: IntervalFixed, Interval: benchInterval})
	})
}

func BenchmarkGoroutinePerSession(b *testing.B) {
	b.Run("n=10000", func(b *testing.B) { benchGoroutines(b, 10_000) })
}

// benchConn counts heartbeats and does nothing else.
type benchConn struct{ beats atomic.Int64 }

func (c *benchConn) Connect(context.Context) error { return nil }
func (c *benchConn) SendPresence(context.Context, PresenceType) error {
	c.beats.Add(1)
	return nil
}
func (c *benchConn) Ping(context.Context) (time.Duration, error) {
	c.beats.Add(1)
	return 20 * time.Millisecond, nil
}
func (c *benchConn) Close() error { return nil }

func beats(conns []benchConn) int64 {
	var t int64
	for i := range conns {
		t += conns[i].beats.Load()
	}
	return t
}

// memNow returns heap plus stack bytes in use after a full GC.
func memNow() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

func benchIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("session-%06d", i)
	}
	return ids
}

func benchEngine(b *testing.B, n int, cfg Config) {
	clk := newBenchClock(t0)
	conns := make([]benchConn, n)
	ids := benchIDs(n)
	before := memNow()

	eng, err := NewEngine(EngineOptions{Clock: clk, Seed: 1, Logger: discardLogger(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(context.Background()) }()
	settle := func() { eng.settleForBench(clk) }
	// Stagger the starts over one interval, one group per virtual second.
	added := 0
	for g := 0; g < benchGroups; g++ {
		for i := g; i < n; i += benchGroups {
			if err := eng.Add(ids[i], &conns[i], cfg); err != nil {
				b.Fatal(err)
			}
			added++
		}
		for eng.StateCounts()[StateConnected] < added {
			runtime.Gosched()
		}
		clk.advanceBy(time.Second, settle)
	}
	clk.advanceBy(benchInterval, settle) // every session has sent a heartbeat
	if c := eng.StateCounts()[StateConnected]; c != n {
		b.Fatalf("%d of %d sessions connected", c, n)
	}
	perSession := float64(memNow()-before) / float64(n)

	nsPerBeat := measureBeats(b, clk, settle, conns)
	eng.Stop()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	reportBench(b, perSession, nsPerBeat)
	runtime.KeepAlive(ids)
}

// measureBeats is the timed part shared by both designs: b.N rounds of
// benchHours of virtual time over every session, each instant settled. It
// fails the benchmark if fewer than 99% of the due heartbeats were sent, and
// returns the wall time per heartbeat in nanoseconds.
func measureBeats(b *testing.B, clk *benchClock, settle func(), conns []benchConn) float64 {
	n := len(conns)
	hours := benchHours(n)
	b.ResetTimer()
	start := beats(conns)
	t := time.Now()
	for range b.N {
		clk.advanceBy(hours, settle)
	}
	elapsed := time.Since(t)
	b.StopTimer()
	hb := beats(conns) - start
	if want := int64(b.N) * int64(n) * int64(hours/benchInterval); hb < want*99/100 {
		b.Fatalf("%d heartbeats, want about %d", hb, want)
	}
	return float64(elapsed.Nanoseconds()) / float64(hb)
}

// reportBench reports the two figures of the issue, memory per session (bytes)
// and wall time per heartbeat (ns), and reports ns/op as 0: ns/heartbeat is the
// figure.
func reportBench(b *testing.B, perSession, nsPerBeat float64) {
	b.ReportMetric(perSession, "B/session")
	b.ReportMetric(nsPerBeat, "ns/heartbeat")
	b.ReportMetric(0, "ns/op")
}

// settleForBench waits until the loop has handled the instant clk stopped at: it
// re-armed its timer (the clock's mutex orders its dispatches before us), every
// Conn call it started returned, and their results were stepped.
func (e *Engine) settleForBench(clk *benchClock) {
	clk.waitTimers(1)
	e.ops.Wait()
	for {
		e.stateMu.Lock()
		e.mu.Lock()
		empty := len(e.inbox) == 0
		e.mu.Unlock()
		e.stateMu.Unlock()
		if empty {
			return
		}
		runtime.Gosched()
	}
}

// benchGoroutines is the seed's design: one goroutine and one ticker per session.
func benchGoroutines(b *testing.B, n int) {
	clk := newBenchClock(t0)
	conns := make([]benchConn, n)
	ids := benchIDs(n)
	before := memNow()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	ctx := context.Background()
	var delivered sync.WaitGroup
	clk.delivered = &delivered
	settle := delivered.Wait // every tick was taken and its heartbeat sent
	for g := 0; g < benchGroups; g++ {
		var started sync.WaitGroup
		for i := g; i < n; i += benchGroups {
			wg.Add(1)
			started.Add(1)
			go func(c *benchConn) {
				defer wg.Done()
				t := clk.NewTicker(benchInterval)
				defer t.Stop()
				started.Done()
				for {
					select {
					case <-stop:
						return
					case <-t.Chan():
						_ = c.SendPresence(ctx, PresenceAvailable)
						delivered.Done()
					}
				}
			}(&conns[i])
		}
		started.Wait()
		clk.advanceBy(time.Second, settle)
	}
	clk.advanceBy(benchInterval, settle)
	perSession := float64(memNow()-before) / float64(n)

	nsPerBeat := measureBeats(b, clk, settle, conns)
	close(stop)
	wg.Wait()
	reportBench(b, perSession, nsPerBeat)
	runtime.KeepAlive(ids)
}

// benchClock is a fake clockwork.Clock with its timers in a heap. Time moves only
// through advanceBy, one deadline at a time.
type benchClock struct {
	mu      sync.Mutex
	changed sync.Cond // signalled when a timer is scheduled
	now     time.Time
	timers  benchTimers
	// delivered counts the ticks and expiries sent: Add(1) before each send, for
	// a consumer that calls Done once it has acted on one (see benchGoroutines).
	delivered *sync.WaitGroup
}

var _ clockwork.Clock = (*benchClock)(nil)

func newBenchClock(t time.Time) *benchClock {
	c := &benchClock{now: t}
	c.changed.L = &c.mu
	return c
}

// advanceBy moves time forward by d, stopping at every deadline on the way: it
// fires every timer due at that instant, then calls settle (which waits for the
// code under test to react) before looking for the next deadline.
func (c *benchClock) advanceBy(d time.Duration, settle func()) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		if len(c.timers) == 0 || c.timers[0].when.After(end) {
			c.now = end
			c.mu.Unlock()
			return
		}
		at := c.timers[0].when
		c.now = at
		for len(c.timers) > 0 && c.timers[0].when.Equal(at) {
			t := c.timers[0]
			if c.delivered != nil {
				c.delivered.Add(1)
			}
			select {
			case t.ch <- at:
			default:
				if c.delivered != nil {
					c.delivered.Done()
				}
			}
			if t.period > 0 {
				t.when = at.Add(t.period)
				heap.Fix(&c.timers, 0)
			} else {
				heap.Pop(&c.timers)
			}
		}
		c.mu.Unlock()
		settle()
	}
}

// waitTimers waits until at least n timers are scheduled.
func (c *benchClock) waitTimers(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		c.changed.Wait()
	}
}

func (c *benchClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}
func (c *benchClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *benchClock) Until(t time.Time) time.Duration { return t.Sub(c.Now()) }
func (c *benchClock) After(d time.Duration) <-chan time.Time {
	return c.NewTimer(d).Chan()
}
func (c *benchClock) Sleep(d time.Duration) { <-c.After(d) }
func (c *benchClock) AfterFunc(time.Duration, func()) clockwork.Timer {
	panic("benchClock: AfterFunc is not used by the code under benchmark")
}

func (c *benchClock) NewTimer(d time.Duration) clockwork.Timer {
	t := &benchTimer{c: c, ch: make(chan time.Time, 1), idx: -1}
	t.Reset(d)
	return t
}

func (c *benchClock) NewTicker(d time.Duration) clockwork.Ticker {
	t := &benchTimer{c: c, ch: make(chan time.Time, 1), idx: -1, period: d}
	t.Reset(d)
	return benchTicker{t}
}

// benchTimer is a timer (period 0) or a ticker of a benchClock.
type benchTimer struct {
	c      *benchClock
	ch     chan time.Time
	when   time.Time
	period time.Duration
	idx    int // in c.timers; -1 when not scheduled
}

func (t *benchTimer) Chan() <-chan time.Time { return t.ch }

func (t *benchTimer) Reset(d time.Duration) bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	active := t.idx >= 0
	if active {
		heap.Remove(&t.c.timers, t.idx)
	}
	select { // like time.Timer since Go 1.23: no stale value after Reset
	case <-t.ch:
	default:
	}
	if t.period > 0 {
		t.period = d
	}
	t.when = t.c.now.Add(d)
	heap.Push(&t.c.timers, t)
	t.c.changed.Broadcast()
	return active
}

func (t *benchTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.idx < 0 {
		return false
	}
	heap.Remove(&t.c.timers, t.idx)
	return true
}

type benchTicker struct{ t *benchTimer }

func (k benchTicker) Chan() <-chan time.Time { return k.t.ch }
func (k benchTicker) Reset(d time.Duration)  { k.t.Reset(d) }
func (k benchTicker) Stop()                  { k.t.Stop() }

// benchTimers is a container/heap of timers by deadline.
type benchTimers []*benchTimer

func (h benchTimers) Len() int           { return len(h) }
func (h benchTimers) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h benchTimers) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *benchTimers) Push(x any) {
	t := x.(*benchTimer)
	t.idx = len(*h)
	*h = append(*h, t)
}
func (h *benchTimers) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.idx = -1
	return t
}
