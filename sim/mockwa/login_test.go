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
