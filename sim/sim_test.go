package sim

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// whatsmeowLike is whatsmeow's policy (FACTS.md §2) spelled out, so these tests do
// not depend on the preset table.
var whatsmeowLike = keepalive.Config{
	Strategy:     keepalive.StrategyPing,
	IntervalMode: keepalive.IntervalRandom,
	IntervalMin:  20 * time.Second,
	IntervalMax:  30 * time.Second,
	Detection:    keepalive.DetectionConfig{MaxFailures: -1, MaxTimeWithoutSuccess: 3 * time.Minute},
	Reconnect:    linear,
}

// richRun exercises every source of randomness and every model part at once.
func richRun(seed uint64) Run {
	nlb := idleBox("nlb", 350*time.Second, middlebox.Both, middlebox.Blackhole)
	nlb.ResetOnNextPacket = true
	return Run{
		Scenario: "rich",
		Client:   "whatsmeow-like",
		Policy:   whatsmeowLike,
		Path: []middlebox.Spec{
			idleBox("nginx", 60*time.Second, middlebox.Both, middlebox.Close),
			nlb,
			{Name: "gcp", Kind: middlebox.KindLifetime, Timeout: 6 * time.Hour, AtExpiry: middlebox.Close},
		},
		Network: Network{RTT: 80 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.02},
		Server:  Server{InboundPerHour: 60, InboundMode: InboundBursts, BurstSize: 3, IdleClose: 10 * time.Minute},
		Faults: []Fault{
			{Kind: FaultStreamError515, At: 2 * time.Hour, Every: 5 * time.Hour},
			{Kind: FaultPartition, At: 3 * time.Hour, Duration: 4 * time.Minute},
			{Kind: FaultLatencySpike, At: 5 * time.Hour, Duration: 2 * time.Minute, Extra: 12 * time.Second},
			{Kind: FaultRestart, At: 7 * time.Hour, Duration: 90 * time.Second},
			{Kind: FaultStreamError503, At: 9 * time.Hour},
		},
		Duration: 12 * time.Hour,
		Seed:     seed,
	}
}

func TestDeterministic(t *testing.T) {
	for _, seed := range []uint64{1, 2, 42} {
		a := simulate(t, richRun(seed))
		b := simulate(t, richRun(seed))
		require.True(t, reflect.DeepEqual(a, b), "seed %d: two runs differ", seed)
		ja, err := json.Marshal(a)
		require.NoError(t, err)
		jb, err := json.Marshal(b)
		require.NoError(t, err)
		assert.Equal(t, string(ja), string(jb), "seed %d", seed)
		// The rich run does exercise the model.
		assert.Positive(t, a.Disconnects, "seed %d", seed)
		assert.Positive(t, a.MessagesDelivered, "seed %d", seed)
		assert.Positive(t, a.Faults, "seed %d", seed)
	}
	a := simulate(t, richRun(1))
	b := simulate(t, richRun(2))
	assert.NotEqual(t, a.RTTP99, b.RTTP99, "different seeds draw different jitter")
	// Runs reuse pooled buffers: nothing of one run may leak into the next.
	simulate(t, Run{Policy: whatsmeowLike, Duration: 3 * day, Server: Server{InboundPerHour: 300}, Seed: 9})
	again := simulate(t, richRun(1))
	assert.Equal(t, a, again)
}

// Simulate is safe for concurrent use (kalab run runs scenarios in parallel).
func TestSimulateConcurrently(t *testing.T) {
	want := simulate(t, richRun(4))
	results := make([]Result, 8)
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = Simulate(richRun(4)) })
	}
	wg.Wait()
	for i := range results {
		require.NoError(t, errs[i])
		assert.Equal(t, want, results[i], "run %d", i)
	}
}

// The engine's random draws come from their own stream: adding inbound traffic
// (server draws, receipts on the link) must not change the intervals it draws.
func TestEngineDrawsIndependentOfTraffic(t *testing.T) {
	intervals := func(perHour float64) []string {
		var out []string
		_, err := SimulateWithTrace(Run{Policy: whatsmeowLike, Duration: 2 * time.Hour, Seed: 7,
			Server: Server{InboundPerHour: perHour}, Network: Network{Jitter: 20 * time.Millisecond}},
			func(e TraceEvent) {
				if e.Kind == "action:send_ping" {
					_, iv, _ := strings.Cut(e.Detail, "interval=")
					out = append(out, iv)
				}
			})
		require.NoError(t, err)
		return out
	}
	quiet, busy := intervals(0), intervals(120)
	require.Greater(t, len(quiet), 200)
	n := min(len(quiet), len(busy))
	assert.Equal(t, quiet[:n], busy[:n])
	assert.Greater(t, len(uniq(quiet)), 100, "intervals are random")
}

func uniq(xs []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func TestTraceIsOrderedAndComplete(t *testing.T) {
	var events []TraceEvent
	run := richRun(3)
	run.Duration = 4 * time.Hour
	r, err := SimulateWithTrace(run, func(e TraceEvent) { events = append(events, e) })
	require.NoError(t, err)
	require.NotEmpty(t, events)
	counts := map[string]int{}
	for i, e := range events {
		if i > 0 {
			require.GreaterOrEqual(t, e.At, events[i-1].At, "trace line %d goes back in time", i)
		}
		counts[e.Kind]++
		assert.NotEmpty(t, e.String())
	}
	assert.Equal(t, r.Pings, counts["action:send_ping"])
	assert.Equal(t, r.ConnectAttempts, counts["action:connect"])
	assert.Equal(t, r.Faults, counts["fault"])
	assert.Positive(t, counts["frame_arrive"])
	assert.Equal(t, "end", events[len(events)-1].Kind)
	// Tracing does not change the result.
	plain := simulate(t, run)
	assert.Equal(t, plain, r)
}

func TestNormalizeDefaultsAndErrors(t *testing.T) {
	run, err := Normalize(Run{})
	require.NoError(t, err)
	assert.Equal(t, DefaultDuration, run.Duration)
	assert.Equal(t, DefaultRTT, run.Network.RTT)
	assert.Equal(t, DefaultTCPGiveUp, run.Network.TCPGiveUp)
	assert.Equal(t, DefaultConnectTimeout, run.Network.ConnectTimeout)
	assert.Equal(t, DefaultPingServiceTime, run.Server.PingServiceTime)
	assert.Equal(t, InboundPoisson, run.Server.InboundMode)
	assert.Equal(t, DefaultBurstSize, run.Server.BurstSize)
	assert.Equal(t, DefaultMessageBytes, run.Server.MessageBytes)

	bad := []struct {
		name string
		run  Run
		want string
	}{
		{"duration", Run{Duration: -time.Second}, "duration"},
		{"loss", Run{Network: Network{Loss: 1}}, "network.loss"},
		{"jitter", Run{Network: Network{Jitter: -1}}, "network.jitter"},
		{"mode", Run{Server: Server{InboundMode: "waves"}}, "server.inbound_mode"},
		{"rate", Run{Server: Server{InboundPerHour: -1}}, "server.inbound_per_hour"},
		{"rate cap", Run{Server: Server{InboundPerHour: 1e9}}, "server.inbound_per_hour: at most"},
		{"every", Run{Faults: []Fault{{Kind: FaultStreamError515, Every: time.Millisecond}}}, "faults[0] (stream_error_515): every"},
		{"box kind", Run{Path: []middlebox.Spec{{Name: "x", Kind: "sometimes"}}}, `path[0]: middlebox "x": kind`},
		{"box timeout", Run{Path: []middlebox.Spec{{Name: "y", Kind: middlebox.KindIdle, Watches: middlebox.Both, AtExpiry: middlebox.Close}}}, `path[0]: middlebox "y": timeout`},
		{"box watches", Run{Path: []middlebox.Spec{{Name: "z", Kind: middlebox.KindIdle, Timeout: time.Second, AtExpiry: middlebox.Close}}}, `path[0]: middlebox "z": watches`},
		{"box expiry", Run{Path: []middlebox.Spec{{Name: "w", Kind: middlebox.KindLifetime, Timeout: time.Second}}}, `path[0]: middlebox "w": at_expiry`},
		{"fault kind", Run{Faults: []Fault{{Kind: "meteor"}}}, "faults[0] (meteor): kind"},
		{"partition", Run{Faults: []Fault{{Kind: FaultPartition}}}, "faults[0] (partition): duration"},
		{"spike", Run{Faults: []Fault{{Kind: FaultLatencySpike, Duration: time.Second}}}, "faults[0] (latency_spike): extra"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			tc.run.Scenario, tc.run.Client = "s", "c"
			_, err := Simulate(tc.run)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "run s/c")
		})
	}
	_, err = Simulate(Run{Policy: keepalive.Config{Reconnect: keepalive.ReconnectConfig{Multiplier: 0.5}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "policy")
}

func TestPercentilesNearestRank(t *testing.T) {
	xs := make([]int64, 200)
	for i := range xs {
		xs[i] = int64(200 - i) // 200 … 1, unsorted
	}
	p50, p99, mx := percentiles(xs)
	assert.Equal(t, time.Duration(100), p50)
	assert.Equal(t, time.Duration(198), p99)
	assert.Equal(t, time.Duration(200), mx)
	p50, p99, mx = percentiles([]int64{7})
	assert.Equal(t, []time.Duration{7, 7, 7}, []time.Duration{p50, p99, mx})
	p50, p99, mx = percentiles(nil)
	assert.Zero(t, p50+p99+mx)
}

func TestTimelineDownsampling(t *testing.T) {
	// 3000 alternating bands of 10 s up, 1 s down, 1 s zombie.
	var bands []Band
	var at time.Duration
	for i := range 1000 {
		_ = i
		for _, b := range []struct {
			d  time.Duration
			st string
		}{{10 * time.Second, BandUp}, {time.Second, BandDown}, {time.Second, BandZombie}} {
			bands = append(bands, Band{Start: at, End: at + b.d, State: b.st})
			at += b.d
		}
	}
	marks := make([]Mark, 2500)
	for i := range marks {
		marks[i] = Mark{At: time.Duration(i) * time.Second, Cause: "c"}
	}
	tl := timeline(bands, marks, int64(at))
	assert.True(t, tl.Downsampled)
	assert.LessOrEqual(t, len(tl.Bands), MaxTimelineBands)
	assert.Equal(t, time.Duration(0), tl.Bands[0].Start)
	assert.Equal(t, at, tl.Bands[len(tl.Bands)-1].End)
	for i := 1; i < len(tl.Bands); i++ {
		assert.Equal(t, tl.Bands[i-1].End, tl.Bands[i].Start, "bands are contiguous")
		assert.NotEqual(t, tl.Bands[i-1].State, tl.Bands[i].State, "equal neighbours merge")
	}
	assert.Len(t, tl.Marks, MaxTimelineMarks)
	assert.Equal(t, 2500, tl.MarksTotal)
	assert.Equal(t, marks[0], tl.Marks[0])
	assert.Equal(t, marks[len(marks)-1], tl.Marks[len(tl.Marks)-1])

	short := timeline(bands[:3], marks[:2], int64(12*time.Second))
	assert.False(t, short.Downsampled)
	assert.Equal(t, bands[:3], short.Bands)
}

// A random-interval run changes its interval at every heartbeat: the trajectory
// stays bounded, starts at the first point and spans the run.
func TestTrajectoryBounded(t *testing.T) {
	r := simulate(t, Run{Policy: whatsmeowLike, Duration: 3 * day, Seed: 1})
	require.Greater(t, r.Pings, 3*MaxTrajectoryPoints)
	assert.LessOrEqual(t, len(r.IntervalTrajectory), MaxTrajectoryPoints)
	assert.Greater(t, len(r.IntervalTrajectory), MaxTrajectoryPoints/4)
	assert.Equal(t, connectDur+r.IntervalTrajectory[0].Interval, r.IntervalTrajectory[0].At)
	assert.Greater(t, r.IntervalTrajectory[len(r.IntervalTrajectory)-1].At, 2*day)
	for _, p := range r.IntervalTrajectory {
		assert.GreaterOrEqual(t, p.Interval, 20*time.Second)
		assert.LessOrEqual(t, p.Interval, 30*time.Second)
	}
}

func TestTimelineBandsMatchUptime(t *testing.T) {
	r := simulate(t, richRun(5))
	var up, zombie time.Duration
	for i, b := range r.Timeline.Bands {
		if i > 0 {
			require.Equal(t, r.Timeline.Bands[i-1].End, b.Start)
		}
		switch b.State {
		case BandUp:
			up += b.End - b.Start
		case BandZombie:
			zombie += b.End - b.Start
		}
	}
	require.False(t, r.Timeline.Downsampled)
	assert.InDelta(t, r.TrueUptime, float64(up)/float64(r.Duration), 1e-12)
	assert.Equal(t, r.ZombieTime, zombie)
	assert.Equal(t, r.Disconnects, r.Timeline.MarksTotal)
}
