package scenarios

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim"
)

func TestParseExpectation(t *testing.T) {
	cases := []struct {
		in   string
		want Expectation
	}{
		{"true_uptime >= 99.9%", Expectation{"true_uptime >= 99.9%", "true_uptime", OpGE, 0.999}},
		{"  true_uptime>=0.95 ", Expectation{"true_uptime >= 0.95", "true_uptime", OpGE, 0.95}},
		{"reported_uptime > 50 %", Expectation{"reported_uptime > 50 %", "reported_uptime", OpGT, 0.5}},
		{"zombie_time <= 0s", Expectation{"zombie_time <= 0s", "zombie_time", OpLE, 0}},
		{"zombie_time <= 0", Expectation{"zombie_time <= 0", "zombie_time", OpLE, 0}},
		{"time_to_detect_max < 1m30s", Expectation{"time_to_detect_max < 1m30s", "time_to_detect_max", OpLT, 90}},
		{"delivery_delay_p99 <= 250ms", Expectation{"delivery_delay_p99 <= 250ms", "delivery_delay_p99", OpLE, 0.25}},
		{"disconnects_per_day <= 1", Expectation{"disconnects_per_day <= 1", "disconnects_per_day", OpLE, 1}},
		{"bytes_per_day < 1e6", Expectation{"bytes_per_day < 1e6", "bytes_per_day", OpLT, 1e6}},
	}
	for _, c := range cases {
		got, err := ParseExpectation(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestParseExpectationErrors(t *testing.T) {
	cases := map[string]string{
		"true_uptime":                 "want METRIC OP VALUE",
		">= 99%":                      "missing the metric",
		"true_uptime >=":              "missing the value",
		"true_uptime => 99%":          "unknown operator",
		"true_uptime == 99%":          "want METRIC OP VALUE",
		"uptime >= 99%":               `did you mean "true_uptime"?`,
		"qqqqqqqqqqqqqqqqqqqq >= 1":   "valid: alerts, bytes_per_day",
		"true_uptime >= 101%":         "not a percentage",
		"true_uptime >= 1e2%":         "not a percentage",
		"true_uptime >= lots":         "not a ratio",
		"true_uptime >= 2":            "for a percentage write 2%",
		"zombie_time <= 5":            "has no unit",
		"zombie_time <= soon":         "not a duration",
		"zombie_time <= -5s":          "negative",
		"disconnects_per_day <= -1":   "negative",
		"disconnects_per_day <= many": "not a number",
		"disconnects_per_day <= NaN":  "not a number",
	}
	for in, want := range cases {
		_, err := ParseExpectation(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}

func TestHoldsAndWorst(t *testing.T) {
	ge := Expectation{Op: OpGE, Bound: 0.999}
	assert.True(t, ge.Holds(0.999))
	assert.False(t, ge.Holds(0.9989))
	assert.Equal(t, 0.99, ge.Worst([]float64{0.9995, 0.99, 1}))

	gt := Expectation{Op: OpGT, Bound: 5}
	assert.False(t, gt.Holds(5))
	assert.True(t, gt.Holds(5.1))
	assert.Equal(t, 1.0, gt.Worst([]float64{3, 1, 9}))

	le := Expectation{Op: OpLE, Bound: 0}
	assert.True(t, le.Holds(0))
	assert.False(t, le.Holds(1e-9))
	assert.Equal(t, 7.0, le.Worst([]float64{0, 7, 2}))

	lt := Expectation{Op: OpLT, Bound: 1}
	assert.False(t, lt.Holds(1))
	assert.True(t, lt.Holds(0.5))
	assert.True(t, math.IsNaN(lt.Worst(nil)))
}

// TestEveryMetricHasAValue keeps the metric list and Value in step with sim.Result.
func TestEveryMetricHasAValue(t *testing.T) {
	r := sim.Result{
		TrueUptime: 0.5, ReportedUptime: 0.75, ZombieTime: 90e9, ZombieEvents: 2, ZombieMax: 60e9,
		Disconnects: 3, DisconnectsPerDay: 3.5, IdleDisconnects: 1, Reconnects: 4, ConnectFailures: 5,
		TimeToDetectMean: 1.5e9, TimeToDetectMax: 2.5e9, DeliveryDelayP50: 0.1e9, DeliveryDelayP99: 0.2e9,
		DeliveryDelayMax: 0.3e9, MessagesQueued: 6, HeartbeatsPerDay: 7, HeartbeatsFailed: 8,
		PresencePerDay: 9, BytesPerDay: 10, RTTP99: 0.4e9, Alerts: 11,
	}
	want := map[string]float64{
		"true_uptime": 0.5, "reported_uptime": 0.75, "zombie_time": 90, "zombie_events": 2, "zombie_max": 60,
		"disconnects": 3, "disconnects_per_day": 3.5, "idle_disconnects": 1, "reconnects": 4, "connect_failures": 5,
		"time_to_detect_mean": 1.5, "time_to_detect_max": 2.5, "delivery_delay_p50": 0.1, "delivery_delay_p99": 0.2,
		"delivery_delay_max": 0.3, "messages_queued": 6, "heartbeats_per_day": 7, "heartbeats_failed": 8,
		"presence_per_day": 9, "bytes_per_day": 10, "rtt_p99": 0.4, "alerts": 11,
	}
	require.Len(t, Metrics(), len(want))
	for _, m := range Metrics() {
		v, ok := Value(r, m.Name)
		require.True(t, ok, m.Name)
		assert.InDelta(t, want[m.Name], v, 1e-12, m.Name)
		assert.NotEmpty(t, m.Doc, m.Name)
	}
	_, ok := Value(r, "nope")
	assert.False(t, ok)
}

func TestFormat(t *testing.T) {
	up, _ := LookupMetric("true_uptime")
	assert.Equal(t, "99.9%", up.Format(0.999))
	z, _ := LookupMetric("zombie_time")
	assert.Equal(t, "14m3s", z.Format(843.4))
	assert.Equal(t, "1.235s", z.Format(1.2345))
	assert.Equal(t, "0s", z.Format(0))
	assert.Equal(t, "24h", z.Format(86400))
	assert.Equal(t, "2h4m", z.Format(7440))
	assert.Equal(t, "5m", z.Format(300))
	assert.Equal(t, "1h0m1s", z.Format(3601))
	d, _ := LookupMetric("disconnects_per_day")
	assert.Equal(t, "3.25", d.Format(3.25))
}
