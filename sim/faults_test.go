package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// pingClient: ping every 25 s, one missed reply (10 s) forces a reconnect, linear
// reconnect (first attempt at once).
var pingClient = keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 25 * time.Second, Reconnect: linear}

func TestStreamErrorsDisconnectAndReconnect(t *testing.T) {
	for _, kind := range []FaultKind{FaultStreamError515, FaultStreamError503} {
		r := simulate(t, Run{Policy: pingClient, Duration: 2 * time.Hour, Seed: 1,
			Faults: []Fault{{Kind: kind, At: time.Hour}}})
		assert.Equal(t, 1, r.Disconnects, kind)
		assert.Equal(t, map[string]int{"fault:" + string(kind): 1}, r.DisconnectsByCause, kind)
		assert.Equal(t, map[string]int{"stream_error": 1}, r.DetectedBy, kind)
		// The error frame travels one way (50 ms); reconnecting takes 500 ms.
		assert.Equal(t, DefaultRTT/2, r.TimeToDetectMax, kind)
		assert.Equal(t, 1, r.Reconnects, kind)
		down := connectDur + DefaultRTT/2 + connectDur
		assert.InDelta(t, float64(2*time.Hour-down)/float64(2*time.Hour), r.TrueUptime, 1e-12, kind)
	}
}

func TestLogoutAndReplacedStopTheClient(t *testing.T) {
	for kind, how := range map[FaultKind]string{FaultLogout: "logged_out", FaultReplaced: "replaced"} {
		r := simulate(t, Run{Policy: pingClient, Duration: 2 * time.Hour, Seed: 1,
			Faults: []Fault{{Kind: kind, At: time.Hour}}})
		assert.Equal(t, "stopped", r.FinalState, kind)
		assert.Equal(t, map[string]int{how: 1}, r.DetectedBy, kind)
		assert.Equal(t, 1, r.ConnectAttempts, kind, "no reconnect after a terminal event")
		want := float64(time.Hour-connectDur) / float64(2*time.Hour)
		assert.InDelta(t, want, r.TrueUptime, 1e-12, kind)
		assert.InDelta(t, want+float64(DefaultRTT/2)/float64(2*time.Hour), r.ReportedUptime, 1e-12, kind)
	}
}

func TestRestartRefusesLoginsForItsDuration(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 2 * time.Hour, Seed: 1,
		Faults: []Fault{{Kind: FaultRestart, At: time.Hour, Duration: 30 * time.Second}}})
	assert.Equal(t, map[string]int{"fault:restart": 1}, r.DisconnectsByCause)
	assert.Equal(t, map[string]int{"closed": 1}, r.DetectedBy)
	// Linear reconnect: at once, then after 2 s, 4 s, 6 s, 8 s, 10 s (each refusal
	// takes one RTT) until the server is back 30 s after the restart.
	require.Positive(t, r.ConnectFailures)
	assert.Equal(t, r.ConnectFailures+2, r.ConnectAttempts)
	downtime := time.Duration((1 - r.TrueUptime) * float64(2*time.Hour))
	assert.Greater(t, downtime, 30*time.Second)
	assert.Less(t, downtime, 45*time.Second)
}

func TestShortPartitionSurvivedByPresenceClient(t *testing.T) {
	// A presence-only client cannot notice a 5-minute partition; TCP retransmits its
	// presence, which gets through after the partition, well before TCP gives up.
	r := simulate(t, Run{
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 60 * time.Second, Reconnect: linear},
		Duration: 2 * time.Hour, Seed: 1,
		Server: Server{InboundPerHour: 120},
		Faults: []Fault{{Kind: FaultPartition, At: time.Hour, Duration: 5 * time.Minute}},
	})
	assert.Zero(t, r.Disconnects)
	assert.Equal(t, 1, r.Connects)
	assert.InDelta(t, float64(2*time.Hour-connectDur-5*time.Minute)/float64(2*time.Hour), r.TrueUptime, 1e-12)
	assert.Equal(t, 5*time.Minute, r.ZombieTime)
	// Messages created during the partition wait for its end (plus a retransmission).
	assert.Greater(t, r.DeliveryDelayMax, 2*time.Minute)
	assert.Equal(t, r.MessagesSent, r.MessagesDelivered)
}

func TestPartitionDetectedByPingAndQueueDelivered(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 2 * time.Hour, Seed: 1,
		Server: Server{InboundPerHour: 120},
		Faults: []Fault{{Kind: FaultPartition, At: time.Hour, Duration: 5 * time.Minute}}})
	assert.Equal(t, map[string]int{"fault:partition": 1}, r.DisconnectsByCause)
	assert.Equal(t, map[string]int{"heartbeat_timeout": 1}, r.DetectedBy)
	// Detected by the first ping after the partition began, 10 s after it was sent.
	assert.LessOrEqual(t, r.TimeToDetectMax, 25*time.Second+10*time.Second+DefaultRTT)
	assert.Greater(t, r.ConnectFailures, 0, "logins fail while partitioned")
	assert.Equal(t, r.MessagesSent, r.MessagesDelivered)
	assert.Greater(t, r.DeliveryDelayMax, 4*time.Minute)
	assert.Less(t, r.DeliveryDelayMax, 5*time.Minute+time.Minute)
}

func TestLatencySpikeMakesPingsMiss(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 2 * time.Hour, Seed: 1,
		Faults: []Fault{{Kind: FaultLatencySpike, At: time.Hour, Duration: time.Minute, Extra: 6 * time.Second}}})
	// Each way takes 6.05 s: a 12.1 s RTT misses the 10 s deadline; the connection
	// is fine, so the client's reconnect is a false alarm blamed on the spike.
	require.Positive(t, r.Disconnects)
	assert.Equal(t, r.Disconnects, r.DisconnectsByCause["fault:latency_spike"])
	assert.Equal(t, r.Disconnects, r.DetectedBy["heartbeat_timeout"])
	assert.LessOrEqual(t, r.RTTMax, 10*time.Second, "late replies are not RTT samples")
}

func TestServerIdleClose(t *testing.T) {
	r := simulate(t, Run{
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 90 * time.Second, Reconnect: linear},
		Duration: time.Hour, Seed: 1,
		Server: Server{IdleClose: time.Minute},
	})
	// The server closes every connection 60 s after its login (the first ping would
	// come at 90 s); its FIN takes 50 ms; reconnecting takes 500 ms.
	cycle := time.Minute + DefaultRTT/2 + connectDur
	want := int((time.Hour-connectDur-time.Minute)/cycle) + 1
	assert.Equal(t, map[string]int{"server_idle_close": want}, r.DisconnectsByCause)
	assert.Zero(t, r.Pings)
}

func TestRepeatingFaults(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 10 * time.Hour, Seed: 1,
		Faults: []Fault{{Kind: FaultStreamError515, At: 30 * time.Minute, Every: time.Hour}}})
	assert.Equal(t, 10, r.Faults)
	assert.Equal(t, map[string]int{"fault:stream_error_515": 10}, r.DisconnectsByCause)
}

func TestBlackholeQueuesMessagesUntilReconnect(t *testing.T) {
	r := simulate(t, Run{
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 60 * time.Second, Reconnect: linear},
		Path:     []middlebox.Spec{idleBox("nat", 50*time.Second, middlebox.Both, middlebox.Blackhole)},
		Duration: 6 * time.Hour, Seed: 1,
		Server: Server{InboundPerHour: 60},
	})
	// Messages sent into the blackhole wait for the next login, up to a whole
	// zombie episode (934.6 s) later.
	require.Positive(t, r.MessagesDelivered)
	assert.Greater(t, r.DeliveryDelayMax, 10*time.Minute)
	assert.LessOrEqual(t, r.DeliveryDelayMax, 60*time.Second-50*time.Second+DefaultTCPGiveUp+connectDur+DefaultRTT)
	assert.Greater(t, r.DeliveryDelayP50, time.Minute)
}
