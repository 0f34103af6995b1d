package mockwa

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

func connectClient(t *testing.T, s *Server, cfg ClientConfig) (*Client, *recorder, *Session) {
	t.Helper()
	c, rec := newTestClient(t, s, cfg)
	require.NoError(t, c.Connect())
	waitFor[*events.Connected](t, rec, nil)
	sess, err := s.WaitSession(ctxT(t), *c.Store.ID)
	require.NoError(t, err)
	return c, rec, sess
}

func TestPresenceCountedByType(t *testing.T) {
	s := startServer(t, Config{})
	c, _, sess := connectClient(t, s, ClientConfig{})
	ctx := ctxT(t)
	require.NoError(t, c.SendPresence(ctx, types.PresenceAvailable))
	require.NoError(t, c.SendPresence(ctx, types.PresenceUnavailable))
	require.NoError(t, c.SendPresence(ctx, types.PresenceUnavailable))
	require.NoError(t, sess.Wait(ctx, func(k Counters) bool {
		return k.Presence["available"]+k.Presence["unavailable"] == 3
	}))
	k := sess.Counters()
	assert.Equal(t, 1, k.Presence["available"])
	assert.Equal(t, 2, k.Presence["unavailable"])
}

func TestKeepAliveAnsweredAndUnanswered(t *testing.T) {
	s := startServer(t, Config{})
	c, _, sess := connectClient(t, s, ClientConfig{})
	ctx := ctxT(t)

	ok, cont := c.DangerousInternals().SendKeepAlive(ctx)
	assert.True(t, ok, "ping answered at once succeeds")
	assert.True(t, cont)

	s.SetPingPolicy(keepAliveDeadline/5, false)
	ok, _ = c.DangerousInternals().SendKeepAlive(ctx)
	assert.True(t, ok, "ping answered within the deadline succeeds")

	s.SetPingPolicy(0, true)
	ok, cont = c.DangerousInternals().SendKeepAlive(ctx)
	assert.False(t, ok, "unanswered ping fails")
	assert.True(t, cont, "the connection is still up")

	s.SetPingPolicy(4*keepAliveDeadline, false)
	ok, _ = c.DangerousInternals().SendKeepAlive(ctx)
	assert.False(t, ok, "ping answered after the deadline fails")

	require.NoError(t, sess.Wait(ctx, func(k Counters) bool { return k.Pings >= 4 }))
	k := sess.Counters()
	assert.GreaterOrEqual(t, k.PingsAnswered, 2)
	assert.LessOrEqual(t, k.PingsAnswered, 3, "the dropped ping was never answered")
}

func TestPingDelayOnFakeClock(t *testing.T) {
	// The service time runs on the server clock: with a fake clock the reply
	// comes only when the clock is advanced past the delay.
	clk := newFakeClock()
	s := startServer(t, Config{Clock: clk, PingDelay: time.Hour})
	c, _, sess := connectClient(t, s, ClientConfig{})
	ctx := ctxT(t)
	done := make(chan bool, 1)
	go func() {
		ok, _ := c.DangerousInternals().SendKeepAlive(ctx)
		done <- ok
	}()
	require.NoError(t, sess.Wait(ctx, func(k Counters) bool { return k.Pings == 1 }))
	require.NoError(t, clk.BlockUntilContext(ctx, 1))
	assert.Equal(t, 0, sess.Counters().PingsAnswered)
	clk.Advance(time.Hour)
	select {
	case ok := <-done:
		assert.True(t, ok)
	case <-ctx.Done():
		t.Fatal("keep-alive did not return")
	}
	require.NoError(t, sess.Wait(ctx, func(k Counters) bool { return k.PingsAnswered == 1 }))
}
