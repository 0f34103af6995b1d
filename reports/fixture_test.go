package reports

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
)

// The fixed results file the golden tests render: testdata/results.json. It is
// synthetic (built below, not by the simulator) so that these tests do not move
// when the simulator's model changes, and it is regenerated only on purpose:
//
//	go test ./reports -run TestFixture -regen-fixture
var regenFixture = flag.Bool("regen-fixture", false, "rewrite testdata/results.json from fixtureResults")

const fixturePath = "testdata/results.json"

func TestFixtureUpToDate(t *testing.T) {
	want, err := fixtureResults().Marshal()
	require.NoError(t, err)
	if *regenFixture {
		require.NoError(t, os.MkdirAll(filepath.Dir(fixturePath), 0o755))
		require.NoError(t, os.WriteFile(fixturePath, want, 0o644))
	}
	got, err := os.ReadFile(fixturePath)
	require.NoError(t, err, "run: go test ./reports -run TestFixture -regen-fixture")
	require.Equal(t, string(want), string(got), "testdata/results.json is stale: go test ./reports -run TestFixture -regen-fixture")
}

// loadFixture reads testdata/results.json through Load, as kalab report does.
func loadFixture(t *testing.T) *Results {
	t.Helper()
	r, err := Load(fixturePath)
	require.NoError(t, err)
	return r
}

// clientModel describes how a synthetic client behaves on a synthetic path.
type clientModel struct {
	name     string
	cfg      keepalive.Config
	interval time.Duration
	// Every blackholeEvery of uptime the path drops the connection silently; the
	// client notices after detect (zombie), then is down for a reconnect.
	blackholeEvery, detect time.Duration
	// Every closeEvery of uptime the path closes the connection (client sees it).
	closeEvery time.Duration
	cause      string
	detectedBy string
	ping       bool
	adaptive   bool
}

// fixtureRun simulates, crudely, one client × seed: alternating up, zombie and down
// stretches, with metrics consistent with the timeline.
func fixtureRun(scenario string, m clientModel, seed uint64, dur time.Duration) sim.Result {
	r := rand.New(rand.NewPCG(seed, 42))
	res := sim.Result{Scenario: scenario, Client: m.name, Seed: seed, Duration: dur,
		DisconnectsByCause: map[string]int{}, DetectedBy: map[string]int{}}
	var at, up, zombie, down time.Duration
	var detects []time.Duration
	add := func(from, to time.Duration, st string) {
		if to > from {
			res.Timeline.Bands = append(res.Timeline.Bands, sim.Band{Start: from, End: to, State: st})
		}
	}
	for at < dur {
		life := dur
		switch {
		case m.blackholeEvery > 0:
			life = m.blackholeEvery/2 + time.Duration(r.Int64N(int64(m.blackholeEvery)))
		case m.closeEvery > 0:
			life = m.closeEvery + time.Duration(r.Int64N(int64(time.Second)))
		}
		end := min(dur, at+life)
		add(at, end, sim.BandUp)
		up += end - at
		at = end
		if at >= dur {
			break
		}
		res.Disconnects++
		res.DisconnectsByCause[m.cause]++
		res.DetectedBy[m.detectedBy]++
		res.Timeline.Marks = append(res.Timeline.Marks, sim.Mark{At: at, Cause: m.cause, DetectedBy: m.detectedBy})
		if m.blackholeEvery > 0 {
			z := min(dur, at+m.detect)
			add(at, z, sim.BandZombie)
			zombie += z - at
			res.ZombieEvents++
			res.ZombieMax = max(res.ZombieMax, z-at)
			detects = append(detects, z-at)
			at = z
		} else {
			detects = append(detects, 50*time.Millisecond)
		}
		d := min(dur, at+300*time.Millisecond+time.Duration(r.Int64N(int64(700*time.Millisecond))))
		add(at, d, sim.BandDown)
		down += d - at
		at = d
		res.Reconnects++
	}
	res.Timeline.MarksTotal = len(res.Timeline.Marks)
	perDay := float64(24*time.Hour) / float64(dur)
	res.TrueUptime = float64(up) / float64(dur)
	res.ReportedUptime = float64(up+zombie) / float64(dur)
	res.ZombieTime = zombie
	res.ZombieFraction = float64(zombie) / float64(dur)
	if res.ZombieEvents > 0 {
		res.ZombieMean = zombie / time.Duration(res.ZombieEvents)
	}
	res.DisconnectsPerDay = float64(res.Disconnects) * perDay
	for _, d := range detects {
		res.TimeToDetectMean += d / time.Duration(len(detects))
		res.TimeToDetectMax = max(res.TimeToDetectMax, d)
	}
	res.Connects = res.Reconnects + 1
	res.ConnectAttempts = res.Connects
	res.Heartbeats = int(dur / m.interval)
	res.HeartbeatsPerDay = float64(res.Heartbeats) * perDay
	if m.ping {
		res.Pings = res.Heartbeats
		res.PingsPerDay = res.HeartbeatsPerDay
	} else {
		res.Presences = res.Heartbeats
		res.PresencePerDay = res.HeartbeatsPerDay
	}
	res.BytesUp = int64(res.Heartbeats) * 90
	res.BytesDown = int64(res.Heartbeats) * 60
	res.BytesPerDay = float64(res.BytesUp+res.BytesDown) * perDay
	// Messages: 30 an hour; those sent during a zombie stretch wait for its end.
	res.MessagesSent = int(dur / (2 * time.Minute))
	res.MessagesDelivered = res.MessagesSent
	var delays []time.Duration
	for i := 0; i < res.MessagesSent; i++ {
		d := time.Duration(50+r.IntN(40)) * time.Millisecond
		if m.blackholeEvery > 0 && r.Float64() < res.ZombieFraction {
			d += time.Duration(r.Int64N(int64(m.detect)))
		}
		delays = append(delays, d)
	}
	sort.Slice(delays, func(i, j int) bool { return delays[i] < delays[j] })
	res.DeliveryDelayHistogram = fixtureHistogram(delays)
	if n := len(delays); n > 0 {
		res.DeliveryDelayP50, res.DeliveryDelayP99, res.DeliveryDelayMax = delays[(n-1)/2], delays[(n*99+99)/100-1], delays[n-1]
	}
	if m.ping {
		// RTT over time: about 105 ms, with a slow evening rise.
		w := dur / sim.RTTTimelineBuckets
		for i := 0; i < sim.RTTTimelineBuckets; i += 3 {
			mean := 100*time.Millisecond + time.Duration(r.IntN(10))*time.Millisecond
			if i > sim.RTTTimelineBuckets*3/4 {
				mean += 40 * time.Millisecond
			}
			res.RTTTimeline = append(res.RTTTimeline, sim.RTTPoint{At: time.Duration(i) * w, Mean: mean, Max: mean + 80*time.Millisecond, N: max(1, int(w/m.interval))})
		}
		res.RTTSamples = res.Pings
		res.RTTP50, res.RTTP99, res.RTTMax = 105*time.Millisecond, 180*time.Millisecond, 410*time.Millisecond
	}
	// Interval trajectory: fixed clients hold one value, adaptive ones grow.
	iv := m.interval
	if m.adaptive {
		iv = m.interval / 2
	}
	for t := time.Duration(0); t < dur; t += dur / 8 {
		res.IntervalTrajectory = append(res.IntervalTrajectory, sim.IntervalPoint{At: t, Interval: iv})
		if !m.adaptive {
			break
		}
		iv = min(m.interval, iv+m.interval/8)
	}
	res.FinalInterval, res.MaxInterval = iv, iv
	res.FinalState = "connected"
	return res
}

// fixtureHistogram buckets sorted delays the way the simulator does: ten buckets
// per decade from 1 ms, each closed at its upper edge.
func fixtureHistogram(sorted []time.Duration) []sim.DelayBucket {
	var out []sim.DelayBucket
	k := 0
	edge := func(k int) time.Duration {
		return time.Duration(math.Round(float64(time.Millisecond) * math.Pow(10, float64(k)/10)))
	}
	for _, d := range sorted {
		for d > edge(k) {
			k++
		}
		if n := len(out); n > 0 && out[n-1].UpTo == edge(k) {
			out[n-1].Count++
		} else {
			out = append(out, sim.DelayBucket{UpTo: edge(k), Count: 1})
		}
	}
	return out
}

// fixtureClient runs a client model over the seeds and checks its expectations.
func fixtureClient(scenario string, m clientModel, seeds []uint64, dur time.Duration, checks ...fixtureCheck) Client {
	c := Client{Name: m.name, Preset: m.name, Config: m.cfg, Aggregate: map[string]Stat{}, Passed: true}
	for _, s := range seeds {
		run := fixtureRun(scenario, m, s, dur)
		if s != seeds[0] {
			run.Timeline, run.IntervalTrajectory, run.RTTTimeline = sim.Timeline{}, nil, nil
		}
		c.Runs = append(c.Runs, run)
	}
	for _, ch := range checks {
		v := Verdict{Expectation: ch.text, Metric: ch.metric, Op: ch.op, Bound: ch.bound, Unit: ch.unit}
		for i, run := range c.Runs {
			x := ch.value(run)
			worse := i == 0 || (ch.op == ">=" && x < v.Measured) || (ch.op == "<=" && x > v.Measured)
			if worse {
				v.Measured, v.WorstSeed = x, run.Seed
			}
		}
		v.Passed = (ch.op == ">=" && v.Measured >= v.Bound) || (ch.op == "<=" && v.Measured <= v.Bound)
		c.Passed = c.Passed && v.Passed
		c.Verdicts = append(c.Verdicts, v)
	}
	for name, f := range map[string]func(sim.Result) float64{
		"true_uptime":         func(r sim.Result) float64 { return r.TrueUptime },
		"disconnects_per_day": func(r sim.Result) float64 { return r.DisconnectsPerDay },
		"zombie_time":         func(r sim.Result) float64 { return r.ZombieTime.Seconds() },
	} {
		st := Stat{}
		for i, run := range c.Runs {
			x := f(run)
			st.Mean += x / float64(len(c.Runs))
			if i == 0 || x < st.Min {
				st.Min = x
			}
			if i == 0 || x > st.Max {
				st.Max = x
			}
		}
		c.Aggregate[name] = st
	}
	return c
}

type fixtureCheck struct {
	text, metric, op, unit string
	bound                  float64
	value                  func(sim.Result) float64
}

func uptimeAtLeast(p float64) fixtureCheck {
	return fixtureCheck{text: "true_uptime >= " + fmtNumber(p*100) + "%", metric: "true_uptime", op: ">=", unit: "ratio", bound: p,
		value: func(r sim.Result) float64 { return r.TrueUptime }}
}

func zombieAtMost(d time.Duration) fixtureCheck {
	return fixtureCheck{text: "zombie_time <= " + d.String(), metric: "zombie_time", op: "<=", unit: "seconds", bound: d.Seconds(),
		value: func(r sim.Result) float64 { return r.ZombieTime.Seconds() }}
}

func disconnectsAtMost(n float64) fixtureCheck {
	return fixtureCheck{text: "disconnects_per_day <= " + fmtNumber(n), metric: "disconnects_per_day", op: "<=", unit: "count", bound: n,
		value: func(r sim.Result) float64 { return r.DisconnectsPerDay }}
}

// fixtureResults builds the synthetic results: an NLB that blackholes (presence-only
// goes zombie), a residential proxy that closes idle tunnels after ~12 s (slow
// heartbeats churn), and a quiet nginx where everyone passes.
func fixtureResults() *Results {
	presence60 := keepalive.Config{Strategy: keepalive.StrategyPresence, IntervalMode: keepalive.IntervalFixed, Interval: 60 * time.Second}
	ping30 := keepalive.Config{Strategy: keepalive.StrategyPing, IntervalMode: keepalive.IntervalFixed, Interval: 30 * time.Second}
	adaptive := keepalive.Config{Strategy: keepalive.StrategyPing, IntervalMode: keepalive.IntervalAdaptive,
		Adaptive: keepalive.AdaptiveConfig{Floor: 5 * time.Second, Ceiling: 5 * time.Minute}}
	nlbCause := "idle_timeout:aws-nlb"
	resCause := "idle_timeout:residential"

	day := 24 * time.Hour
	nlbSeeds := []uint64{1, 2, 3}
	nlb := Scenario{Name: "AWS NLB (blackhole)", Description: "An AWS Network Load Balancer forgets flows idle for 350 s without telling either end.",
		File: "suite/aws-nlb.yaml", Duration: day, Seeds: nlbSeeds, PathText: "aws-nlb"}
	nlb.Clients = []Client{
		fixtureClient(nlb.Name, clientModel{name: "seed", cfg: presence60, interval: 60 * time.Second, blackholeEvery: 5 * time.Hour, detect: 924600 * time.Millisecond, cause: nlbCause, detectedBy: "tcp_timeout"}, nlbSeeds, day,
			zombieAtMost(5*time.Minute)),
		fixtureClient(nlb.Name, clientModel{name: "whatsmeow", cfg: ping30, interval: 30 * time.Second, cause: nlbCause, ping: true}, nlbSeeds, day),
		fixtureClient(nlb.Name, clientModel{name: "kalab", cfg: adaptive, interval: 4 * time.Minute, cause: nlbCause, ping: true, adaptive: true}, nlbSeeds, day,
			uptimeAtLeast(0.999), zombieAtMost(time.Minute)),
	}

	hour := time.Hour
	half := 30 * time.Minute
	resSeeds := []uint64{1, 2}
	res := Scenario{Name: "Residential proxy", Description: "A rotating residential proxy closes CONNECT tunnels idle for about 12 s.",
		File: "suite/residential.yaml", Duration: half, Seeds: resSeeds, PathText: "residential"}
	res.Clients = []Client{
		fixtureClient(res.Name, clientModel{name: "seed", cfg: presence60, interval: 60 * time.Second, closeEvery: 12 * time.Second, cause: resCause, detectedBy: "closed"}, resSeeds, half),
		fixtureClient(res.Name, clientModel{name: "whatsmeow", cfg: ping30, interval: 30 * time.Second, closeEvery: 12 * time.Second, cause: resCause, detectedBy: "closed", ping: true}, resSeeds, half,
			disconnectsAtMost(1)),
		fixtureClient(res.Name, clientModel{name: "kalab", cfg: adaptive, interval: 9 * time.Second, cause: resCause, ping: true, adaptive: true}, resSeeds, half,
			uptimeAtLeast(0.999)),
	}

	ngSeeds := []uint64{7}
	ng := Scenario{Name: "nginx default", Description: "nginx proxies the WebSocket with proxy_read_timeout 60 s, re-armed by traffic either way.",
		File: "suite/nginx.yaml", Duration: 6 * hour, Seeds: ngSeeds, PathText: "nginx"}
	ng.Clients = []Client{
		fixtureClient(ng.Name, clientModel{name: "whatsmeow", cfg: ping30, interval: 30 * time.Second, ping: true}, ngSeeds, 6*hour, uptimeAtLeast(0.999)),
		fixtureClient(ng.Name, clientModel{name: "kalab", cfg: adaptive, interval: 50 * time.Second, ping: true, adaptive: true}, ngSeeds, 6*hour, uptimeAtLeast(0.999)),
	}

	out := &Results{SchemaVersion: SchemaVersion, Scenarios: []Scenario{nlb, res, ng}, Passed: true}
	for i := range out.Scenarios {
		s := &out.Scenarios[i]
		s.Passed = true
		for _, c := range s.Clients {
			s.Passed = s.Passed && c.Passed
		}
		out.Passed = out.Passed && s.Passed
	}
	return out
}
