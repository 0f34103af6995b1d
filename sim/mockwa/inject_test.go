package mockwa

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"
)

// Injected events that end in a reconnect: the client logs in a second time.
func TestInjectReconnects(t *testing.T) {
	for _, kind := range []EventKind{StreamError515, StreamError503, CleanClose, AbruptClose} {
		t.Run(string(kind), func(t *testing.T) {
			s := startServer(t, Config{})
			c, rec, sess := connectClient(t, s, ClientConfig{})
			require.NoError(t, s.Inject(*c.Store.ID, Event{Kind: kind}))
			if kind != StreamError515 {
				// 515 is a restart the client performs itself; the others are
				// seen as a remote disconnect.
				waitFor[*events.Disconnected](t, rec, nil)
			}
			waitFor[*events.Connected](t, rec, nil)
			require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Logins == 2 }))
			k := sess.Counters()
			assert.Equal(t, 1, k.Injected[string(kind)])
			assert.GreaterOrEqual(t, k.Disconnects, 1)
			assert.True(t, c.IsLoggedIn())
		})
	}
}

func TestInjectDeviceRemoved(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{})
	jid := *c.Store.ID
	require.NoError(t, s.Inject(jid, Event{Kind: DeviceRemoved}))
	lo := waitFor[*events.LoggedOut](t, rec, nil)
	assert.Equal(t, events.ConnectFailureLoggedOut, lo.Reason)
	assert.True(t, sess.Removed())
	waitReaderExit(t, rec.pump)
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Disconnects >= 1 }))
	// whatsmeow deleted the device from its store.
	require.Eventually(t, func() bool {
		d, err := c.Container.GetDevice(ctxT(t), jid)
		return err == nil && d == nil
	}, waitTimeout, pollEvery)
}

func TestInjectReplaced(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{})
	require.NoError(t, s.Inject(*c.Store.ID, Event{Kind: Replaced}))
	waitFor[*events.StreamReplaced](t, rec, nil)
	waitReaderExit(t, rec.pump)
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Disconnects == 1 }))
	assert.False(t, sess.Connected())
}

func TestLoginFailures(t *testing.T) {
	cases := []struct {
		reason int
		check  func(t *testing.T, rec *recorder)
	}{
		{401, func(t *testing.T, rec *recorder) {
			lo := waitFor[*events.LoggedOut](t, rec, nil)
			assert.True(t, lo.OnConnect)
			assert.Equal(t, events.ConnectFailureLoggedOut, lo.Reason)
		}},
		{402, func(t *testing.T, rec *recorder) {
			tb := waitFor[*events.TemporaryBan](t, rec, nil)
			assert.Equal(t, events.TempBanReason(101), tb.Code)
		}},
		{403, func(t *testing.T, rec *recorder) {
			lo := waitFor[*events.LoggedOut](t, rec, nil)
			assert.Equal(t, events.ConnectFailureMainDeviceGone, lo.Reason)
		}},
		{405, func(t *testing.T, rec *recorder) {
			waitFor[*events.ClientOutdated](t, rec, nil)
		}},
		{500, func(t *testing.T, rec *recorder) {
			// An internal server error is retried: the next login succeeds.
			waitFor[*events.Disconnected](t, rec, nil)
			waitFor[*events.Connected](t, rec, nil)
		}},
	}
	for _, tc := range cases {
		t.Run(FailLogin(tc.reason).String(), func(t *testing.T) {
			s := startServer(t, Config{})
			c, rec := newTestClient(t, s, ClientConfig{})
			jid := *c.Store.ID
			require.NoError(t, s.Inject(jid, FailLogin(tc.reason)))
			require.NoError(t, c.Connect())
			tc.check(t, rec)
			if tc.reason != 500 {
				waitReaderExit(t, rec.pump)
			}
			sess, ok := s.Session(jid)
			require.True(t, ok)
			assert.Equal(t, 1, sess.Counters().LoginFailures)
		})
	}
}

func TestInjectNeedsLiveConnection(t *testing.T) {
	s := startServer(t, Config{})
	c, _ := newTestClient(t, s, ClientConfig{})
	err := s.Inject(*c.Store.ID, Event{Kind: StreamError503})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no live connection")
	assert.Error(t, s.Inject(*c.Store.ID, Event{Kind: "bogus"}))
	assert.Error(t, s.Inject(*c.Store.ID, FailLogin(200)))
}

func TestHangFailsKeepAlive(t *testing.T) {
	s := startServer(t, Config{})
	c, rec, sess := connectClient(t, s, ClientConfig{DisableAutoReconnect: true})
	require.NoError(t, s.Inject(*c.Store.ID, Event{Kind: Hang}))
	ok, cont := c.DangerousInternals().SendKeepAlive(ctxT(t))
	assert.False(t, ok, "a hung server answers nothing")
	assert.True(t, cont, "the TCP connection stays open")
	assert.True(t, sess.Connected(), "the server still holds the connection")
	assert.Equal(t, 0, sess.Counters().Pings, "a hung server reads nothing")
	// Close the server first: a client closing towards a hung server waits
	// out its WebSocket close handshake (5 s).
	require.NoError(t, s.Close())
	waitFor[*events.Disconnected](t, rec, nil)
}
