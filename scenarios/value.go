package scenarios

import (
	"time"

	"github.com/kalab-dev/kalab/sim"
)

// Value returns the metric called name from a run's result, in the metric's unit:
// ratios as fractions, durations in seconds, counts as numbers. ok is false for a
// name that is not in Metrics.
func Value(r sim.Result, name string) (v float64, ok bool) {
	secs := func(d time.Duration) float64 { return d.Seconds() }
	switch name {
	case "true_uptime":
		return r.TrueUptime, true
	case "reported_uptime":
		return r.ReportedUptime, true
	case "zombie_time":
		return secs(r.ZombieTime), true
	case "zombie_events":
		return float64(r.ZombieEvents), true
	case "zombie_max":
		return secs(r.ZombieMax), true
	case "disconnects":
		return float64(r.Disconnects), true
	case "disconnects_per_day":
		return r.DisconnectsPerDay, true
	case "idle_disconnects":
		return float64(r.IdleDisconnects), true
	case "reconnects":
		return float64(r.Reconnects), true
	case "connect_failures":
		return float64(r.ConnectFailures), true
	case "time_to_detect_mean":
		return secs(r.TimeToDetectMean), true
	case "time_to_detect_max":
		return secs(r.TimeToDetectMax), true
	case "delivery_delay_p50":
		return secs(r.DeliveryDelayP50), true
	case "delivery_delay_p99":
		return secs(r.DeliveryDelayP99), true
	case "delivery_delay_max":
		return secs(r.DeliveryDelayMax), true
	case "messages_queued":
		return float64(r.MessagesQueued), true
	case "heartbeats_per_day":
		return r.HeartbeatsPerDay, true
	case "heartbeats_failed":
		return float64(r.HeartbeatsFailed), true
	case "presence_per_day":
		return r.PresencePerDay, true
	case "bytes_per_day":
		return r.BytesPerDay, true
	case "rtt_p99":
		return secs(r.RTTP99), true
	case "alerts":
		return float64(r.Alerts), true
	}
	return 0, false
}
