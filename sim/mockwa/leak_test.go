package mockwa

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types/events"
)

// serverGoroutines returns the stacks of goroutines running server code.
func serverGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "mockwa.(*Server)") || strings.Contains(g, "mockwa.(*conn)") ||
			strings.Contains(g, "mockwa.(*Session)") {
			out = append(out, g)
		}
	}
	return out
}

// Close ends every server goroutine at once, whatever state the connections
// are in: logged in, hung, waiting for a delayed pong, pairing; with schedules
// and the idle policy armed. (TestMain's goleak check covers the rest of the
// process at exit.)
func TestCloseStopsServerGoroutines(t *testing.T) {
	s := startServer(t, Config{
		PingDelay:    time.Hour,
		IdleTimeout:  time.Hour,
		InboundEvery: time.Hour,
		Faults:       []ScheduledFault{{Event: Event{Kind: StreamError503}, At: time.Hour}},
	})
	// No auto-reconnect: a whatsmeow client that is reconnecting when it is
	// told to Disconnect keeps trying (its own goroutine, not the server's).
	a, recA, _ := connectClient(t, s, ClientConfig{DisableAutoReconnect: true})
	b, recB, sessB := connectClient(t, s, ClientConfig{DisableAutoReconnect: true})
	require.NoError(t, s.Inject(*b.Store.ID, Event{Kind: Hang}))
	p, recP := newTestClient(t, s, ClientConfig{Unpaired: true})
	require.NoError(t, p.Connect())
	waitFor[*events.QR](t, recP, nil)
	ok, _ := a.DangerousInternals().SendKeepAlive(ctxT(t)) // pong delayed an hour
	assert.False(t, ok)
	assert.True(t, sessB.Connected())
	assert.NotEmpty(t, serverGoroutines())

	require.NoError(t, s.Close())
	// A handler may still be returning from its deferred WaitGroup.Done, so
	// allow the scheduler a moment (as goleak does) before failing.
	if !assert.Eventually(t, func() bool { return len(serverGoroutines()) == 0 }, time.Second, pollEvery) {
		t.Errorf("server goroutines left after Close:\n%s", strings.Join(serverGoroutines(), "\n\n"))
	}
	waitFor[*events.Disconnected](t, recA, nil)
	waitFor[*events.Disconnected](t, recB, nil)
	waitFor[*events.Disconnected](t, recP, nil)
}
