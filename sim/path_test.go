package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// simulateWithin runs r and fails the test if the simulation does not return within
// limit (a wall-clock guard against an event loop that stops advancing).
func simulateWithin(t *testing.T, r Run, limit time.Duration) Result {
	t.Helper()
	type out struct {
		res Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		res, err := Simulate(r)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		require.NoError(t, o.err)
		return o.res
	case <-time.After(limit):
		t.Fatalf("Simulate(%s/%s) did not return within %s: the event loop stopped advancing", r.Scenario, r.Client, limit)
		return Result{}
	}
}

func catalogPath(t *testing.T, names ...string) []middlebox.Spec {
	t.Helper()
	var path []middlebox.Spec
	for _, n := range names {
		s, ok := middlebox.Lookup(n)
		require.True(t, ok, n)
		path = append(path, s)
	}
	return path
}

// A box whose timer runs out after another box already broke the connection (a
// blackhole the client has not noticed) must still drop its state: frames that reach
// it later are decided, not deferred for ever.
func TestBoxExpiringOnBrokenConnection(t *testing.T) {
	r := Run{
		Scenario: "swarm-then-nlb",
		Client:   "ping-1000s",
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 1000 * time.Second},
		Path:     catalogPath(t, "docker-swarm", "aws-nlb"),
		Duration: 24 * time.Hour,
		Seed:     1,
	}
	res := simulateWithin(t, r, time.Minute)
	assert.Positive(t, res.Disconnects, "the 1000 s ping outlives both idle timers")
	assert.Less(t, res.TrueUptime, 1.0)
}

// The loop's stall guard ends a run whose virtual time stops advancing with an error
// naming the instant, instead of spinning for ever: here more events are queued at
// one instant than the (lowered) bound allows.
func TestLoopStopsWhenTimeStopsAdvancing(t *testing.T) {
	run, err := Normalize(Run{Scenario: "stall", Client: "kalab", Policy: keepalive.PresetKalab, Duration: time.Hour, Seed: 3})
	require.NoError(t, err)
	pol, err := keepalive.NewPolicy(run.Policy)
	require.NoError(t, err)

	pileUp := func(s *sim, n int) {
		for range n {
			s.schedule(&event{at: int64(time.Minute), kind: evFaultEnd}) // a no-op event
		}
	}
	s := newSim(run, pol, nil)
	defer s.release()
	s.maxStuck = 10
	pileUp(s, 20)
	err = s.loop()
	require.ErrorIs(t, err, errStalled)
	assert.Contains(t, err.Error(), "at 1m0s: 11 events without time advancing")

	ok := newSim(run, pol, nil)
	defer ok.release()
	ok.maxStuck = 10
	pileUp(ok, 5)
	assert.NoError(t, ok.loop(), "fewer events than the bound at one instant are fine")
}
