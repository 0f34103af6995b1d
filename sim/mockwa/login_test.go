package mockwa

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"
)

func TestLoginConnected(t *testing.T) {
	s := startServer(t, Config{})
	c, rec := newTestClient(t, s, ClientConfig{})
	require.NoError(t, c.Connect())
	waitFor[*events.Connected](t, rec, nil)
	assert.True(t, c.IsLoggedIn())

	sess, ok := s.Session(*c.Store.ID)
	require.True(t, ok, "server has a session for the device")
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Logins == 1 && k.IQs >= 2 }))
	k := sess.Counters()
	assert.Equal(t, 1, k.Connects)
	assert.Greater(t, k.BytesIn, int64(0))
	assert.Greater(t, k.BytesOut, int64(0))
	assert.True(t, sess.Connected())
	assert.Equal(t, int64(1), s.Stats().Logins)
}

func TestFreshDeviceUploadsPreKeys(t *testing.T) {
	// With honest prekey counts a fresh device uploads its 812 initial
	// prekeys in one ~40 KB frame: above coder/websocket's default 32 KiB read
	// limit, so this also checks the server raised it.
	s := startServer(t, Config{TrackPreKeys: true})
	_, _, sess := connectClient(t, s, ClientConfig{})
	k := sess.Counters()
	assert.Equal(t, 812, k.PreKeysUploaded)
	assert.Greater(t, k.BytesIn, int64(32<<10))
}

func TestFileStoreSurvivesRestart(t *testing.T) {
	s := startServer(t, Config{})
	path := t.TempDir() + "/device.db"
	c1, _, _ := connectClient(t, s, ClientConfig{StorePath: path, PushName: "bot"})
	jid := *c1.Store.ID
	require.NoError(t, c1.Close())

	c2, _, sess := connectClient(t, s, ClientConfig{StorePath: path})
	assert.Equal(t, jid, *c2.Store.ID, "the device comes back from the file")
	assert.Equal(t, "bot", c2.Store.PushName)
	require.NoError(t, sess.Wait(ctxT(t), func(k Counters) bool { return k.Logins == 2 }))
}
