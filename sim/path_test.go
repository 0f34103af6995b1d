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

// The same with a server fault: the server closed the connection (broken) before
// the path's lifetime timer fired.
func TestLifetimeExpiringAfterServerFault(t *testing.T) {
	r := Run{
		Scenario: "gcp-lb-faults",
		Client:   "ping-50s",
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 50 * time.Second},
		Path:     catalogPath(t, "gcp-lb"),
		Faults: []Fault{
			{Kind: FaultStreamError515, At: 12 * time.Hour, Every: 12 * time.Hour},
			{Kind: FaultStreamError503, At: 24 * time.Hour, Every: 24 * time.Hour},
		},
		Duration: 48 * time.Hour,
		Seed:     1,
	}
	res := simulateWithin(t, r, time.Minute)
	assert.Positive(t, res.Disconnects)
}
