package runner

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/scenarios"
	"github.com/kalab-dev/kalab/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func load(t *testing.T, src string) []scenarios.Scenario {
	t.Helper()
	ss, err := scenarios.Parse("test.yaml", []byte(src))
	require.NoError(t, err)
	return ss
}

// TestDeterministic runs real simulations: the same scenarios and seeds give
// byte-identical results.json whatever the worker count and GOMAXPROCS.
func TestDeterministic(t *testing.T) {
	ss, err := scenarios.Resolve([]string{"nginx", "residential-proxy", "aws-nlb"})
	require.NoError(t, err)
	opts := Options{Duration: 2 * time.Hour, Seeds: []uint64{1, 2}}

	encode := func(workers, procs int) []byte {
		prev := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(prev)
		o := opts
		o.Workers = workers
		res, err := Execute(context.Background(), ss, o)
		require.NoError(t, err)
		b, err := res.Marshal()
		require.NoError(t, err)
		return b
	}
	first := encode(1, 1)
	assert.Equal(t, first, encode(1, 1), "same run twice")
	assert.Equal(t, first, encode(4, 4), "4 workers, GOMAXPROCS 4")
	assert.Equal(t, first, encode(0, 2), "default workers, GOMAXPROCS 2")
	assert.Contains(t, string(first), `"schema_version": 1`)
	assert.Contains(t, string(first), `"name": "residential-proxy-15s"`)
}

// fakeSim returns results whose metrics encode the run: true uptime falls with the
// seed, zombie time grows with it.
func fakeSim(r sim.Run) (sim.Result, error) {
	return sim.Result{
		Scenario:           r.Scenario,
		Client:             r.Client,
		Seed:               r.Seed,
		Duration:           r.Duration,
		TrueUptime:         1 - float64(r.Seed)/1000,
		ZombieTime:         time.Duration(r.Seed) * time.Minute,
		Timeline:           sim.Timeline{Bands: []sim.Band{{Start: 0, End: r.Duration, State: sim.BandUp}}},
		IntervalTrajectory: []sim.IntervalPoint{{Interval: 25 * time.Second}},
		RTTTimeline:        []sim.RTTPoint{{Mean: 100 * time.Millisecond, Max: 120 * time.Millisecond, N: 3}},
	}, nil
}

const twoClients = `name: s
seeds: [1, 5, 3]
duration: 1h
clients:
  - preset: kalab
    expect: ["true_uptime >= 99.6%", "zombie_time <= 5m"]
  - preset: seed
    expect: ["true_uptime >= 99.8%", "zombie_time < 5m"]
`

func TestAssembleVerdicts(t *testing.T) {
	res, err := Execute(context.Background(), load(t, twoClients), Options{Simulate: fakeSim, Workers: 3})
	require.NoError(t, err)
	require.Len(t, res.Scenarios, 1)
	s := res.Scenarios[0]
	assert.False(t, res.Passed)
	assert.False(t, s.Passed)
	assert.Equal(t, 3, res.Failures())
	assert.Equal(t, "none", s.PathText)
	assert.Equal(t, []uint64{1, 5, 3}, s.Seeds)

	k := s.Clients[0]
	assert.Equal(t, "kalab", k.Name)
	assert.False(t, k.Passed)
	require.Len(t, k.Runs, 3)
	assert.Equal(t, []uint64{1, 5, 3}, []uint64{k.Runs[0].Seed, k.Runs[1].Seed, k.Runs[2].Seed}, "runs in seed order")
	assert.NotEmpty(t, k.Runs[0].Timeline.Bands, "the first seed keeps its timeline")
	assert.NotEmpty(t, k.Runs[0].IntervalTrajectory)
	assert.Empty(t, k.Runs[1].Timeline.Bands, "later seeds drop theirs")
	assert.Empty(t, k.Runs[2].IntervalTrajectory)
	assert.NotEmpty(t, k.Runs[0].RTTTimeline)
	assert.Empty(t, k.Runs[1].RTTTimeline)

	up := k.Aggregate["true_uptime"]
	assert.InDelta(t, 0.995, up.Min, 1e-12)
	assert.InDelta(t, 0.999, up.Max, 1e-12)
	assert.InDelta(t, 0.997, up.Mean, 1e-12)
	assert.Equal(t, 300.0, k.Aggregate["zombie_time"].Max, "durations in seconds")
	assert.Len(t, k.Aggregate, len(scenarios.Metrics()))

	require.Len(t, k.Verdicts, 2)
	assert.Equal(t, "true_uptime >= 99.6%", k.Verdicts[0].Expectation)
	assert.InDelta(t, 0.995, k.Verdicts[0].Measured, 1e-12)
	assert.Equal(t, uint64(5), k.Verdicts[0].WorstSeed)
	assert.Equal(t, "ratio", k.Verdicts[0].Unit)
	assert.False(t, k.Verdicts[0].Passed, "99.5% on seed 5 is below 99.6%")
	assert.True(t, k.Verdicts[1].Passed, "zombie 5m <= 5m")
	assert.Equal(t, "seconds", k.Verdicts[1].Unit)
	assert.Equal(t, 300.0, k.Verdicts[1].Measured)

	sd := s.Clients[1]
	assert.False(t, sd.Verdicts[0].Passed)
	assert.False(t, sd.Verdicts[1].Passed, "zombie 5m is not < 5m")
	assert.Equal(t, uint64(5), sd.Verdicts[1].WorstSeed)
}

func TestAssemblePassed(t *testing.T) {
	src := "name: ok\nseeds: [1, 2]\nclients:\n  - preset: grpc\n    expect: [\"true_uptime >= 99%\"]\n  - baileys\n"
	res, err := Execute(context.Background(), load(t, src), Options{Simulate: fakeSim})
	require.NoError(t, err)
	assert.True(t, res.Passed)
	assert.Zero(t, res.Failures())
	assert.True(t, res.Scenarios[0].Clients[1].Passed, "a client without expectations passes")
	assert.NotNil(t, res.Scenarios[0].Clients[1].Verdicts)
}

func TestPrepare(t *testing.T) {
	ss := load(t, twoClients+"---\nname: other\nclients: [grpc]\n")
	out, err := Prepare(ss, Options{Seeds: []uint64{9}, Duration: time.Minute, Only: []string{"seed"}})
	require.NoError(t, err)
	require.Len(t, out, 1, "a scenario without the client is dropped")
	assert.Equal(t, []uint64{9}, out[0].Seeds)
	assert.Equal(t, time.Minute, out[0].Duration)
	require.Len(t, out[0].Clients, 1)
	assert.Equal(t, "seed", out[0].Clients[0].Name)
	assert.Equal(t, []uint64{1, 5, 3}, ss[0].Seeds, "the input is not modified")

	_, err = Prepare(ss, Options{Only: []string{"whatsmeow"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no client of that name")
	assert.Contains(t, err.Error(), "grpc, kalab, seed")

	_, err = Prepare(ss, Options{Seeds: []uint64{1, 1}})
	require.ErrorContains(t, err, "seed 1 given twice")
	_, err = Prepare(ss, Options{Duration: -time.Second})
	require.ErrorContains(t, err, "must be > 0")
}

func TestSimulateError(t *testing.T) {
	boom := errors.New("boom")
	var calls atomic.Int64
	failing := func(r sim.Run) (sim.Result, error) {
		calls.Add(1)
		if r.Client == "seed" && r.Seed == 5 {
			return sim.Result{}, boom
		}
		return fakeSim(r)
	}
	_, err := Execute(context.Background(), load(t, twoClients), Options{Simulate: failing, Workers: 2})
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "s/seed seed 5")
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int64
	slow := func(r sim.Run) (sim.Result, error) {
		if calls.Add(1) == 1 {
			cancel()
		}
		return fakeSim(r)
	}
	_, err := Execute(ctx, load(t, twoClients), Options{Simulate: slow, Workers: 1})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, calls.Load(), int64(6), "runs stop after cancellation")
}

func TestProgress(t *testing.T) {
	var seen []string
	_, err := Execute(context.Background(), load(t, twoClients), Options{Simulate: fakeSim, Workers: 2,
		Progress: func(done, total int) { seen = append(seen, fmt.Sprintf("%d/%d", done, total)) }})
	require.NoError(t, err)
	assert.Equal(t, []string{"0/6", "1/6", "2/6", "3/6", "4/6", "5/6", "6/6"}, seen)
}

// BenchmarkSuite runs the whole built-in suite (every scenario × client × seed) on
// all cores; metric runs/s.
func BenchmarkSuite(b *testing.B) {
	ss, err := scenarios.Suite()
	require.NoError(b, err)
	runs := 0
	for _, s := range ss {
		runs += len(s.Clients) * len(s.Seeds)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := Execute(context.Background(), ss, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(runs*b.N)/b.Elapsed().Seconds(), "runs/s")
}
