package wa

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// The engine on a fake clock: the heartbeat schedule and the reply deadline move
// only when the test advances the clock, so the sequence "heartbeat due → ping at
// the mock → deadline passes unanswered → reconnect" is deterministic although the
// connection itself is real.
func TestFakeClockPingDeadlineReconnects(t *testing.T) {
	srv := startMock(t, mockwa.Config{DropPings: true})
	clk := clockwork.NewFakeClock()
	cfg := keepalive.Config{
		Strategy:      keepalive.StrategyPing,
		Interval:      time.Minute,
		ReplyDeadline: 10 * time.Second,
		Detection:     keepalive.DetectionConfig{MaxFailures: 1},
		Reconnect:     keepalive.ReconnectConfig{Mode: keepalive.ReconnectBackoff, Immediate: true},
	}
	r := newRigClock(t, srv, cfg, clk)
	ctx := ctxT(t)

	// Connected: the engine's one timer waits for the first heartbeat.
	require.NoError(t, clk.BlockUntilContext(ctx, 1))
	assert.Equal(t, 0, r.sess.Counters().Pings, "nothing before the interval")
	clk.Advance(time.Minute)
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Pings == 1 }))
	// The ping is outstanding; its deadline is the engine's timer now.
	require.NoError(t, clk.BlockUntilContext(ctx, 1))
	assert.Equal(t, 1, r.sess.Counters().Logins, "no reconnect before the deadline")
	clk.Advance(10 * time.Second)
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Logins == 2 }))
	r.waitState(t, keepalive.StateConnected)
	h, _ := r.eng.SessionHealthOf(r.id)
	assert.Equal(t, uint64(1), h.HeartbeatsFailed)
	assert.Equal(t, 1, h.Reconnects)
	assert.Equal(t, 0, r.sess.Counters().PingsAnswered)
}
