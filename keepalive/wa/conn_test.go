package wa

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

func TestPingHeartbeatsReachMock(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	r := newRig(t, srv, pingCfg())
	ctx := ctxT(t)
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.PingsAnswered >= 5 }))
	r.waitHealth(t, "5 acknowledged pings", func(h keepalive.Health) bool { return h.HeartbeatsSent >= 5 && h.RTT > 0 })
	h, ok := r.eng.SessionHealthOf(r.id)
	require.True(t, ok)
	assert.Equal(t, keepalive.StateConnected, h.State)
	assert.Zero(t, h.HeartbeatsFailed)
	assert.Positive(t, h.RTTP50)
	k := r.sess.Counters()
	assert.Equal(t, 1, k.Logins, "no reconnect while pings are answered")
	assert.Zero(t, k.Presence["available"], "a ping strategy sends no presence")
	// Every ping reply is a received node: the tap reported inbound traffic.
	assert.Positive(t, r.note.count(keepalive.EventInbound))
}

func TestPresenceHeartbeatsReachMock(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	cfg := keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 30 * time.Millisecond,
		Detection: keepalive.DetectionConfig{MaxFailures: -1}}
	r := newRig(t, srv, cfg)
	ctx := ctxT(t)
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Presence["available"] >= 4 }))
	k := r.sess.Counters()
	assert.Zero(t, k.Pings, "a presence strategy sends no ping")
	assert.Equal(t, 1, k.Logins)
}

func TestUnansweredPingsReconnect(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	r := newRig(t, srv, pingCfg())
	ctx := ctxT(t)
	srv.SetPingPolicy(0, true)
	// The engine's deadline passes, the ping fails, the engine replaces the
	// connection: the mock sees a second login.
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Logins >= 2 }))
	srv.SetPingPolicy(0, false)
	r.waitState(t, keepalive.StateConnected)
	h, _ := r.eng.SessionHealthOf(r.id)
	assert.Positive(t, h.HeartbeatsFailed)
	assert.GreaterOrEqual(t, h.Reconnects, 1)
	k := r.sess.Counters()
	assert.Positive(t, k.Pings-k.PingsAnswered, "some pings went unanswered")
	assert.GreaterOrEqual(t, k.Disconnects, 1, "the old connection was closed")
	assert.GreaterOrEqual(t, r.conn.Connects(), 2)
}

func TestStreamError515Reconnects(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	cfg := pingCfg()
	cfg.Interval = time.Hour // no heartbeat: the reconnect is the 515's alone
	r := newRig(t, srv, cfg)
	ctx := ctxT(t)
	require.NoError(t, srv.Inject(*r.cli.Store.ID, mockwa.Event{Kind: mockwa.StreamError515}))
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Logins >= 2 }))
	require.NoError(t, r.note.wait(ctx, func(evs []keepalive.Event) bool {
		for _, ev := range evs {
			if ev.Kind == keepalive.EventDisconnected {
				return true
			}
		}
		return false
	}))
	r.waitState(t, keepalive.StateConnected)
	for _, ev := range r.note.events() {
		if ev.Kind == keepalive.EventDisconnected {
			assert.Equal(t, keepalive.CauseStreamError, ev.Cause)
		}
	}
	assert.Equal(t, 2, r.conn.Connects(), "the engine, not whatsmeow, reconnected")
	assert.Equal(t, 1, r.note.count(keepalive.EventDisconnected))
}

func TestRemoteCloseAndResetReconnect(t *testing.T) {
	for _, tc := range []struct {
		kind  mockwa.EventKind
		cause keepalive.Cause
	}{{mockwa.CleanClose, keepalive.CauseClosed}, {mockwa.AbruptClose, keepalive.CauseReset}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			srv := startMock(t, mockwa.Config{})
			cfg := pingCfg()
			cfg.Interval = time.Hour
			r := newRig(t, srv, cfg)
			ctx := ctxT(t)
			require.NoError(t, srv.Inject(*r.cli.Store.ID, mockwa.Event{Kind: tc.kind}))
			require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Logins >= 2 }))
			r.waitState(t, keepalive.StateConnected)
			require.Equal(t, 1, r.note.count(keepalive.EventDisconnected))
			for _, ev := range r.note.events() {
				if ev.Kind == keepalive.EventDisconnected {
					assert.Equal(t, tc.cause, ev.Cause)
				}
			}
		})
	}
}

func TestLogoutStopsSession(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	r := newRig(t, srv, pingCfg())
	ctx := ctxT(t)
	require.NoError(t, srv.Inject(*r.cli.Store.ID, mockwa.Event{Kind: mockwa.DeviceRemoved}))
	r.waitState(t, keepalive.StateStopped)
	require.NoError(t, r.note.wait(ctx, func(evs []keepalive.Event) bool { return countKind(evs, keepalive.EventLoggedOut) == 1 }))
	// Stop the engine: every Conn call it started has returned. No Connect
	// after the logout.
	r.eng.Stop()
	assert.Equal(t, 1, r.conn.Connects())
	assert.Equal(t, 1, r.sess.Counters().Logins)
	assert.False(t, r.conn.Up())
}

func TestReplacedStopsSession(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	r := newRig(t, srv, pingCfg())
	require.NoError(t, srv.Inject(*r.cli.Store.ID, mockwa.Event{Kind: mockwa.Replaced}))
	r.waitState(t, keepalive.StateStopped)
	r.eng.Stop()
	assert.Equal(t, 1, r.note.count(keepalive.EventReplaced))
	assert.Equal(t, 1, r.conn.Connects())
}

func TestTemporaryBanOnReconnectStopsSession(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	cfg := pingCfg()
	cfg.Interval = time.Hour
	r := newRig(t, srv, cfg)
	jid := *r.cli.Store.ID
	require.NoError(t, srv.Inject(jid, mockwa.FailLogin(402)))
	require.NoError(t, srv.Inject(jid, mockwa.Event{Kind: mockwa.CleanClose}))
	r.waitState(t, keepalive.StateStopped)
	r.eng.Stop()
	assert.Equal(t, 1, r.note.count(keepalive.EventBanned))
	assert.Equal(t, 2, r.conn.Connects(), "one reconnect, refused with a ban, then none")
	assert.Equal(t, 1, r.sess.Counters().LoginFailures)
}

func TestInboundTrafficSeen(t *testing.T) {
	srv := startMock(t, mockwa.Config{})
	cfg := keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: time.Hour, InboundIsLiveness: true,
		Detection: keepalive.DetectionConfig{MaxFailures: -1}}
	r := newRig(t, srv, cfg)
	ctx := ctxT(t)
	before := r.note.count(keepalive.EventInbound)
	for range 3 {
		_, err := srv.SendInbound(*r.cli.Store.ID)
		require.NoError(t, err)
	}
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.InboundSent == 3 }))
	require.NoError(t, r.note.wait(ctx, func(evs []keepalive.Event) bool {
		return countKind(evs, keepalive.EventInbound) >= before+3
	}))
	assert.Equal(t, 0, r.sess.Counters().Pings, "nothing was sent to provoke the traffic")
	// The engine steps notifications on its own goroutine: wait for it.
	r.waitHealth(t, "inbound counted as liveness", func(h keepalive.Health) bool { return !h.LastSuccess.IsZero() })
}

func TestConnectHonoursContext(t *testing.T) {
	// A listener that accepts TCP and never answers the WebSocket upgrade: Connect
	// must return once its ctx ends, and report nothing to the engine.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		for c := range accepted {
			_ = c.Close()
		}
	})
	mc, err := mockwa.NewClient(ctxT(t), mockwa.ClientConfig{Addr: ln.Addr().String()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = mc.Close() })
	note := newRecNotifier()
	conn, err := New(mc.Client, Options{ID: "x", Notifier: note})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	require.ErrorIs(t, conn.Connect(ctx), context.Canceled, "an ended ctx fails at once")

	ctx, cancel = context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { done <- conn.Connect(ctx) }()
	c := <-accepted // the dial reached the listener; the upgrade hangs
	require.NotNil(t, c)
	cancel()
	err = <-done
	require.Error(t, err)
	assert.False(t, conn.Up())
	assert.Empty(t, note.events(), "a failed attempt is the Connect's error, not a notification")
}
