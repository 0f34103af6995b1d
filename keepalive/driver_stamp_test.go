package keepalive

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// staleClock is a fake clock whose next Now reading, once armed, goes stale at
// once: the reading is taken, then race runs (time moves on, a Conn call returns)
// before the reader gets it back. It plays, deterministically, a loop goroutine
// that reads the clock and is descheduled while the clock and the connections go
// on.
type staleClock struct {
	*clockwork.FakeClock

	mu   sync.Mutex
	race func()
}

func (c *staleClock) Now() time.Time {
	now := c.FakeClock.Now()
	c.mu.Lock()
	race := c.race
	c.race = nil
	c.mu.Unlock()
	if race != nil {
		race()
	}
	return now
}

func (c *staleClock) arm(race func()) {
	c.mu.Lock()
	c.race = race
	c.mu.Unlock()
}

// replyConn answers a ping when the test releases its reply, reporting no RTT
// (the driver measures it) and recording when on its clock the reply came back.
type replyConn struct {
	clk   clockwork.Clock
	reply chan struct{}

	mu        sync.Mutex
	pings     int
	repliedAt time.Time
}

func (c *replyConn) Connect(context.Context) error                    { return nil }
func (c *replyConn) SendPresence(context.Context, PresenceType) error { return nil }
func (c *replyConn) Close() error                                     { return nil }

func (c *replyConn) Ping(ctx context.Context) (time.Duration, error) {
	c.mu.Lock()
	c.pings++
	c.mu.Unlock()
	select {
	case <-c.reply:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	c.mu.Lock()
	c.repliedAt = c.clk.Now()
	c.mu.Unlock()
	return 0, nil
}

// A ping reply is accounted at a time no earlier than the moment the connection
// returned it, even when the loop began its round before the reply came back:
// the round reads the clock after taking its inbox. (Reading it before stamped
// the reply with a time it had not reached: LastSuccess before the reply, RTT 0.
// The fake-clock day benchmark saw that as a reply that never showed up.)
func TestEngineStampsOutcomesNoEarlierThanTheyCame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fake := clockwork.NewFakeClockAt(t0)
		clk := &staleClock{FakeClock: fake}
		eng, err := NewEngine(EngineOptions{Clock: clk, Logger: discardLogger()})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- eng.Run(context.Background()) }()
		defer func() {
			eng.Stop()
			require.NoError(t, <-done)
		}()
		conn := &replyConn{clk: fake, reply: make(chan struct{})}
		require.NoError(t, eng.Add("a", conn, pingCfg(30*time.Second)))
		synctest.Wait()
		for range 30 {
			fake.Advance(time.Second)
			synctest.Wait()
		}
		conn.mu.Lock()
		pings := conn.pings
		conn.mu.Unlock()
		require.Equal(t, 1, pings, "one ping waits for its reply")
		sentAt := fake.Now()

		// The loop wakes for an inbound message and reads the clock; before it
		// goes on, 50 ms pass and the ping's reply comes back.
		const late = 50 * time.Millisecond
		raced := make(chan struct{})
		clk.arm(func() {
			fake.Advance(late)
			close(conn.reply)
			synctest.Wait() // the reply's outcome is queued for the loop
			close(raced)
		})
		require.NoError(t, eng.Notify("a", Event{Kind: EventInbound}))
		<-raced
		synctest.Wait()

		conn.mu.Lock()
		repliedAt := conn.repliedAt
		conn.mu.Unlock()
		require.Equal(t, sentAt.Add(late), repliedAt)
		h, ok := eng.SessionHealthOf("a")
		require.True(t, ok)
		assert.Zero(t, h.HeartbeatsFailed)
		assert.Equal(t, repliedAt, h.LastSuccess, "the reply proves the connection alive when it came, not before")
		assert.Equal(t, late, h.RTT, "the driver measures the RTT from dispatch to the reply's return")
	})
}
