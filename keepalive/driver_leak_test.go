package keepalive

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const leakCycles = 10_000

// TestEngineAddRemoveCyclesVirtualTime runs 10,000 add/remove cycles in batches on
// the fake clock: every session connects, is removed, and is closed exactly once.
func TestEngineAddRemoveCyclesVirtualTime(t *testing.T) {
	defer goleak.VerifyNone(t)
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 7})
		const batch = 500
		cfg := pingCfg(30 * time.Second)
		conns := make([]*fakeConn, 0, batch)
		for cycle := 0; cycle < leakCycles; cycle += batch {
			conns = conns[:0]
			for i := range batch {
				c := newFakeConn(h.clk)
				conns = append(conns, c)
				require.NoError(t, h.eng.Add(fmt.Sprintf("s%d", cycle+i), c, cfg))
			}
			synctest.Wait()
			h.advance(31*time.Second, 31*time.Second) // one heartbeat each
			assert.Equal(t, batch, h.eng.StateCounts()[StateConnected])
			for i := range batch {
				require.NoError(t, h.eng.Remove(fmt.Sprintf("s%d", cycle+i)))
			}
			synctest.Wait()
			for i, c := range conns {
				require.Equal(t, 1, c.count("close"), "session %d closed once", cycle+i)
				require.Equal(t, 1, c.count("ping"), "session %d pinged once", cycle+i)
			}
			require.Zero(t, h.eng.Len())
			h.eng.stateMu.Lock()
			require.Empty(t, h.eng.heap, "removed sessions leave the heap")
			h.eng.stateMu.Unlock()
		}
	})
}

// TestEngineAddRemoveCyclesRealClock does the same on the real clock, outside any
// bubble, and checks with goleak that Stop leaves no goroutine behind.
func TestEngineAddRemoveCyclesRealClock(t *testing.T) {
	defer goleak.VerifyNone(t)
	eng, err := NewEngine(EngineOptions{Seed: 7, Logger: discardLogger()})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- eng.Run(context.Background()) }()
	cfg := pingCfg(time.Hour) // no heartbeat during the test: only connect and close
	for i := range leakCycles {
		id := fmt.Sprintf("s%d", i)
		require.NoError(t, eng.Add(id, newFakeConn(eng.clock), cfg))
		require.NoError(t, eng.Remove(id))
	}
	eng.Stop()
	require.NoError(t, <-done)
	assert.Zero(t, eng.Len())
}
