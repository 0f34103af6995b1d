package sim

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// unknownTimeouts are the idle timeouts the adaptive controller must find without
// being told (issue 3): from a residential proxy to Docker Swarm's IPVS.
var unknownTimeouts = []time.Duration{
	10 * time.Second, 45 * time.Second, 60 * time.Second,
	100 * time.Second, 350 * time.Second, 900 * time.Second,
}

// expiries are the ways an unknown idle timer can end a connection: an orderly
// close (nginx, ALB) and a silent drop (Azure, Swarm, NAT).
var expiries = []struct {
	name string
	box  func(time.Duration) middlebox.Spec
}{
	{"close", func(d time.Duration) middlebox.Spec { return idleBox("unknown", d, middlebox.Both, middlebox.Close) }},
	{"blackhole", func(d time.Duration) middlebox.Spec {
		return idleBox("unknown", d, middlebox.Both, middlebox.Blackhole)
	}},
}

// resetOnNext is a silent drop answered by an RST on the next packet (AWS NLB).
func resetOnNext(d time.Duration) middlebox.Spec {
	b := idleBox("unknown", d, middlebox.Both, middlebox.Blackhole)
	b.ResetOnNextPacket = true
	return b
}

func trajectoryString(r Result) string {
	var b strings.Builder
	for i, p := range r.IntervalTrajectory {
		if i > 0 {
			b.WriteString(" → ")
		}
		fmt.Fprintf(&b, "%v@%v", p.Interval.Round(100*time.Millisecond), p.At.Round(time.Second))
	}
	return b.String()
}

// The adaptive controller, with a ceiling above the timeout and no detection
// budget, behind an idle close it does not know: after 24 h its interval is within
// [0.5, 0.95] × the timeout, and its probing cost at most 3 idle disconnects.
func TestAdaptiveFindsUnknownIdleTimeouts(t *testing.T) {
	for _, timeout := range unknownTimeouts {
		for _, expiry := range expiries {
			t.Run(fmt.Sprintf("%v/%s", timeout, expiry.name), func(t *testing.T) {
				cfg := keepalive.Config{
					Strategy:     keepalive.StrategyPing,
					IntervalMode: keepalive.IntervalAdaptive,
					Adaptive:     keepalive.AdaptiveConfig{Ceiling: 30 * time.Minute},
				}
				r := simulate(t, Run{
					Policy: cfg,
					Path:   []middlebox.Spec{expiry.box(timeout)},
					Seed:   1,
				})
				t.Logf("timeout %v (%s): final interval %v = %.3f × timeout, %d idle disconnects, true uptime %.5f; trajectory: %s",
					timeout, expiry.name, r.FinalInterval, float64(r.FinalInterval)/float64(timeout),
					r.IdleDisconnects, r.TrueUptime, trajectoryString(r))
				assert.GreaterOrEqual(t, r.FinalInterval, timeout/2)
				assert.LessOrEqual(t, float64(r.FinalInterval), 0.95*float64(timeout))
				assert.LessOrEqual(t, r.IdleDisconnects, 3)
				assert.Equal(t, r.Disconnects, r.IdleDisconnects, "nothing else disconnects it")
			})
		}
	}
}

// The kalab preset behind the same unknown timeouts: it never lets a dead
// connection go unnoticed longer than its detection budget, never uses an interval
// the budget forbids, and holds ≥ 99.9 % true uptime.
func TestKalabPresetHoldsUptimeWithinDetectionBudget(t *testing.T) {
	cfg, ok := keepalive.Preset("kalab")
	require.True(t, ok)
	pol, err := keepalive.NewPolicy(cfg)
	require.NoError(t, err)
	budget := pol.Config().Adaptive.DetectionBudget
	deadline := pol.Config().ReplyDeadline
	require.Positive(t, budget)
	for _, timeout := range unknownTimeouts {
		for _, expiry := range expiries {
			t.Run(fmt.Sprintf("%v/%s", timeout, expiry.name), func(t *testing.T) {
				r := simulate(t, Run{
					Client: "kalab",
					Policy: cfg,
					Path:   []middlebox.Spec{expiry.box(timeout)},
					Server: Server{InboundPerHour: 30},
					Seed:   1,
				})
				t.Logf("timeout %v (%s): final interval %v, max %v, %d disconnects, detect max %v, true uptime %.5f; trajectory: %s",
					timeout, expiry.name, r.FinalInterval, r.MaxInterval, r.Disconnects, r.TimeToDetectMax, r.TrueUptime, trajectoryString(r))
				assert.LessOrEqual(t, r.MaxInterval+deadline, budget, "interval + reply deadline within the budget")
				assert.LessOrEqual(t, r.TimeToDetectMax, budget, "every loss noticed within the budget")
				assert.Zero(t, r.DetectedBy["undetected"])
				assert.GreaterOrEqual(t, r.TrueUptime, 0.999)
			})
		}
	}
}

// Behind a box that answers the next packet with an RST (AWS NLB), the ping that
// probes too long a gap is answered by the RST: the controller must learn from it
// as from a missed reply (the gap before that ping was too long).
func TestAdaptiveLearnsFromResetOnNextPacket(t *testing.T) {
	kalab, ok := keepalive.Preset("kalab")
	require.True(t, ok)
	adaptive := keepalive.Config{
		Strategy:     keepalive.StrategyPing,
		IntervalMode: keepalive.IntervalAdaptive,
		Adaptive:     keepalive.AdaptiveConfig{Ceiling: 30 * time.Minute},
	}
	for _, timeout := range unknownTimeouts {
		t.Run(timeout.String(), func(t *testing.T) {
			r := simulate(t, Run{Policy: adaptive, Path: []middlebox.Spec{resetOnNext(timeout)}, Seed: 1})
			t.Logf("adaptive: final interval %v = %.3f × timeout, %d idle disconnects; trajectory: %s",
				r.FinalInterval, float64(r.FinalInterval)/float64(timeout), r.IdleDisconnects, trajectoryString(r))
			assert.GreaterOrEqual(t, r.FinalInterval, timeout/2)
			assert.LessOrEqual(t, float64(r.FinalInterval), 0.95*float64(timeout))
			assert.LessOrEqual(t, r.IdleDisconnects, 3)
			k := simulate(t, Run{Policy: kalab, Path: []middlebox.Spec{resetOnNext(timeout)}, Seed: 1})
			t.Logf("kalab: final interval %v, %d disconnects, true uptime %.5f", k.FinalInterval, k.Disconnects, k.TrueUptime)
			assert.GreaterOrEqual(t, k.TrueUptime, 0.999)
			assert.LessOrEqual(t, k.TimeToDetectMax, kalab.Adaptive.DetectionBudget)
			assert.LessOrEqual(t, k.MaxInterval+kalab.ReplyDeadline, kalab.Adaptive.DetectionBudget)
		})
	}
}
