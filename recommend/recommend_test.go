package recommend

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sweep"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// cellAt returns the verification sweep's cell at interval iv.
func cellAt(t *testing.T, r *Recommendation, iv time.Duration) sweep.Cell {
	t.Helper()
	for _, c := range r.Cells() {
		if c.Interval == iv {
			return c
		}
	}
	require.Failf(t, "interval not swept", "%v not in the verification sweep of %s", iv, r.Path)
	return sweep.Cell{}
}

// hasWarning reports whether some warning contains every fragment.
func hasWarning(ws []string, fragments ...string) bool {
	for _, w := range ws {
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(w, f)
		}
		if all {
			return true
		}
	}
	return false
}

// For every catalog profile: the recommendation and the max safe interval hold
// ≥ 99.9 % true uptime with no idle-timeout disconnect on every seed over 7
// simulated days, the max safe interval uses at least half of the shortest timer
// the ping re-arms (unless the margin forbids it), and a path whose only timer is
// a lifetime says no interval can help.
func TestCatalogRecommendationsAreSafeAndNotWasteful(t *testing.T) {
	for _, name := range middlebox.Names() {
		t.Run(name, func(t *testing.T) {
			rec, err := Recommend(context.Background(), Request{Path: name})
			require.NoError(t, err)
			a := rec.Analysis()
			spec, _ := middlebox.Lookup(name)
			require.Equal(t, 7*24*time.Hour, DefaultDuration)
			require.Len(t, rec.Seeds, 3, "several seeds")

			if spec.Kind == middlebox.KindLifetime {
				assert.True(t, rec.NoIntervalHelps, "a lifetime timer: no interval can help")
				assert.True(t, hasWarning(rec.Warnings, "no interval can help"), "%q", rec.Warnings)
				assert.Nil(t, rec.MaxSafeIntervalSeconds)
				assert.Less(t, rec.ExpectedTrueUptime, 0.999, "the lifetime timer costs uptime whatever the interval")
				assert.Equal(t, "fixed", rec.IntervalMode, "lifetime closes would mislead the adaptive controller")
				assert.InDelta(t, rec.FixedAlternative.HeartbeatsPerDay, rec.HeartbeatsPerDay, 1)
				return
			}
			assert.False(t, rec.NoIntervalHelps)
			assert.True(t, rec.Verified, "verified: %+v", rec.Sweep)
			at := cellAt(t, rec, a.Interval)
			assert.True(t, at.Safe, "recommended %v: worst seed %.5f, %d idle disconnects", a.Interval, at.TrueUptimeMin, at.IdleDisconnects)
			assert.GreaterOrEqual(t, at.TrueUptimeMin, 0.999)
			assert.GreaterOrEqual(t, rec.Recommended.TrueUptimeMin, 0.999, "the adaptive policy capped at the interval")
			assert.LessOrEqual(t, a.Interval+10*time.Second, DefaultDetectWithin, "interval + reply deadline within the detection budget")

			if spec.Kind != middlebox.KindIdle {
				assert.True(t, a.Unbounded, "no timer: the detection budget alone sets the interval")
				assert.Nil(t, rec.MaxSafeIntervalSeconds)
				return
			}
			require.NotNil(t, a.Limiting)
			assert.Equal(t, spec.Timeout, a.Limiting.Timeout)
			ms := cellAt(t, rec, a.MaxSafe)
			assert.True(t, ms.Safe, "max safe %v: worst seed %.5f, %d idle disconnects", a.MaxSafe, ms.TrueUptimeMin, ms.IdleDisconnects)
			assert.GreaterOrEqual(t, ms.TrueUptimeMin, 0.999)
			if spec.Timeout-a.Margin >= spec.Timeout/2 {
				assert.GreaterOrEqual(t, a.MaxSafe, spec.Timeout/2, "not wasteful: at least half of the %v timer", spec.Timeout)
			}
			assert.Less(t, a.MaxSafe, spec.Timeout)
			require.NotNil(t, rec.FirstFailingIntervalSeconds, "the sweep reaches past the timer")
			assert.Greater(t, *rec.FirstFailingIntervalSeconds, a.MaxSafe.Seconds())
			assert.LessOrEqual(t, *rec.FirstFailingIntervalSeconds, spec.Timeout.Seconds(), "at the timer's own length the box fires")
			if spec.AtExpiry == middlebox.Blackhole {
				assert.True(t, hasWarning(rec.Warnings, "blackhole", "only a ping"), "%q", rec.Warnings)
			}
		})
	}
}

func TestAnalyzeNumbers(t *testing.T) {
	// nginx, 60 s: margin = RTT 100 ms + 2 × 20 ms + 5 ms + max(1 s, 3 s) = 3.145 s.
	a, err := Analyze(Request{Path: "nginx"})
	require.NoError(t, err)
	assert.Equal(t, 3145*time.Millisecond, a.Margin)
	assert.Equal(t, 56*time.Second, a.MaxSafe)
	assert.Equal(t, 50*time.Second, a.DetectionCap)
	assert.Equal(t, 50*time.Second, a.Interval, "the 60 s detection budget caps it")

	// A 10 s proxy: margin 1.145 s, rounded down to 100 ms.
	a, err = Analyze(Request{Path: "residential-proxy"})
	require.NoError(t, err)
	assert.Equal(t, 8800*time.Millisecond, a.MaxSafe)
	assert.Equal(t, 8800*time.Millisecond, a.Interval)

	// A longer detection budget lets the interval reach the bound.
	a, err = Analyze(Request{Path: "cloudflare", DetectWithin: 5 * time.Minute})
	require.NoError(t, err)
	assert.Equal(t, 94*time.Second, a.MaxSafe)
	assert.Equal(t, 94*time.Second, a.Interval)

	// A tighter one lowers it: interval + 10 s reply deadline ≤ 30 s.
	a, err = Analyze(Request{Path: "aws-nlb", DetectWithin: 30 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 20*time.Second, a.Interval)

	// Presence has no reply deadline to fit.
	a, err = Analyze(Request{Path: "aws-nlb", Strategy: keepalive.StrategyPresence})
	require.NoError(t, err)
	assert.Equal(t, 60*time.Second, a.Interval)
}

func TestAnalyzeMixedCustomPath(t *testing.T) {
	a, err := Analyze(Request{Path: "idle:45s:both:close,aws-nlb:timeout=600s,idle:350s:both:blackhole,lifetime:30m"})
	require.NoError(t, err)
	require.Len(t, a.Timers, 4)
	require.NotNil(t, a.Limiting)
	assert.Equal(t, 45*time.Second, a.Limiting.Timeout, "the shortest re-armed timer limits")
	// margin = 145 ms + max(1 s, 5 % of 45 s = 2.25 s) = 2.395 s; 42.605 s → 42 s.
	assert.Equal(t, 2395*time.Millisecond, a.Margin)
	assert.Equal(t, 42*time.Second, a.MaxSafe, "max safe = timer − margin, rounded down")
	assert.False(t, a.NoIntervalHelps, "the interval beats the idle timers")
	assert.True(t, hasWarning(a.Warnings, "lifetime:30m", "no interval can help against it"), "%q", a.Warnings)
	assert.True(t, hasWarning(a.Warnings, "idle:5m50s:both:blackhole", "blackhole", "only a ping"), "%q", a.Warnings)
	assert.Equal(t, "idle:45s:both:close,aws-nlb:timeout=600s,idle:5m50s:both:blackhole,lifetime:30m:close", a.PathText)
}

func TestAnalyzePresenceCannotRearmDownOnlyTimer(t *testing.T) {
	path := "idle:45s:down:close"
	p, err := Analyze(Request{Path: path, Strategy: keepalive.StrategyPresence})
	require.NoError(t, err)
	assert.Nil(t, p.Limiting)
	assert.True(t, p.NoIntervalHelps, "presence only travels client→server")
	assert.True(t, hasWarning(p.Warnings, "not re-armed by presence", "use ping"), "%q", p.Warnings)
	assert.True(t, hasWarning(p.Warnings, "stops push notifications"), "presence side effects: %q", p.Warnings)

	g, err := Analyze(Request{Path: path})
	require.NoError(t, err)
	require.NotNil(t, g.Limiting, "the ping's reply re-arms a down-only timer")
	assert.False(t, g.NoIntervalHelps)
	assert.Greater(t, g.MaxSafe, 40*time.Second)
	assert.False(t, hasWarning(g.Warnings, "push notifications"), "ping has no presence side effect")
}

func TestLifetimeOnlyPathSaysNoIntervalHelps(t *testing.T) {
	rec, err := Recommend(context.Background(), Request{Path: "lifetime:5m", Duration: 24 * time.Hour})
	require.NoError(t, err)
	assert.True(t, rec.NoIntervalHelps)
	assert.True(t, hasWarning(rec.Warnings, "no interval can help"))
	assert.Nil(t, rec.FirstFailingIntervalSeconds)
	// 288 lifetimes a day, each ending the connection.
	assert.InDelta(t, 288, rec.DisconnectsPerDay, 2)
	for _, p := range rec.Sweep {
		assert.InDelta(t, 288, p.DisconnectsPerDay, 2, "every interval sees the same disconnects: %+v", p)
	}
}

func TestPresenceRecommendationWarnsAndComparesWithSeed(t *testing.T) {
	rec, err := Recommend(context.Background(), Request{Path: "nginx", Strategy: keepalive.StrategyPresence, Duration: 24 * time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "fixed", rec.IntervalMode, "presence cannot learn from missed replies")
	assert.True(t, hasWarning(rec.Warnings, "stops push notifications"), "%q", rec.Warnings)
	assert.True(t, hasWarning(rec.Warnings, "presence expects no reply"), "%q", rec.Warnings)
	assert.Equal(t, 56.0, *rec.MaxSafeIntervalSeconds)
	assert.True(t, rec.Verified)
	// The seed's presence every 60 s races nginx's 60 s timer and loses.
	assert.Less(t, rec.Seed.TrueUptime, 0.99)
	assert.Greater(t, rec.Seed.DisconnectsPerDay, 100.0)
	assert.Greater(t, rec.ExpectedTrueUptime, rec.Seed.TrueUptime)
}

func TestRecommendJSONAndText(t *testing.T) {
	rec, err := Recommend(context.Background(), Request{Path: "nginx,docker-swarm", InboundPerHour: 6, Duration: 24 * time.Hour})
	require.NoError(t, err)
	b, err := json.Marshal(rec)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	for _, k := range []string{"strategy", "interval_seconds", "max_safe_interval_seconds", "expected_true_uptime", "disconnects_per_day", "heartbeats_per_day", "warnings", "fixed_alternative", "seed_presence_60s", "sweep"} {
		assert.Contains(t, m, k)
	}
	assert.Equal(t, "ping", m["strategy"])
	assert.Equal(t, 50.0, m["interval_seconds"])
	assert.Equal(t, 56.0, m["max_safe_interval_seconds"], "nginx's 60 s limits, not Swarm's 900 s")
	assert.Equal(t, "nginx", m["limiting_timer"])
	assert.True(t, hasWarning(rec.Warnings, "docker-swarm", "blackhole"))

	var sb strings.Builder
	require.NoError(t, rec.WriteText(&sb))
	out := sb.String()
	assert.Contains(t, out, "Recommended: ping, adaptive interval starting at and capped by 50s")
	assert.Contains(t, out, "fixed-interval alternative: ping every 50s")
	assert.Contains(t, out, "Max safe interval: 56s = 1m (nginx)")
	assert.Contains(t, out, "First failing interval: 1m")
	assert.Contains(t, out, "Instead of the seed's presence every 60s")

	sp := rec.Plot()
	require.Len(t, sp.Marks, 2, "both intervals marked")
	assert.Equal(t, 50*time.Second, sp.Marks[0].At)
	assert.Equal(t, 56*time.Second, sp.Marks[1].At)
	png, err := sp.PNG()
	require.NoError(t, err)
	assert.NotEmpty(t, png)
}

func TestRecommendErrors(t *testing.T) {
	for name, c := range map[string]struct {
		req  Request
		want string
	}{
		"typo":             {Request{Path: "nginx,docker-swram"}, `path element 2 "docker-swram"`},
		"empty":            {Request{Path: ""}, "empty path"},
		"bad custom":       {Request{Path: "idle:45x"}, `"idle:45x"`},
		"strategy":         {Request{Path: "nginx", Strategy: keepalive.StrategyFallback}, "ping, presence or combined"},
		"budget":           {Request{Path: "nginx", DetectWithin: 10 * time.Second}, "must exceed the reply deadline"},
		"negative inbound": {Request{Path: "nginx", InboundPerHour: -1}, "--inbound"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Recommend(context.Background(), c.req)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

// BenchmarkRecommend is one recommendation for an nginx path, including its
// verification sweep (3 seeds × 7 simulated days per interval).
func BenchmarkRecommend(b *testing.B) {
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		rec, err := Recommend(context.Background(), Request{Path: "nginx"})
		if err != nil || !rec.Verified {
			b.Fatalf("recommend: %v (verified %v)", err, rec != nil && rec.Verified)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/recommendation")
}
