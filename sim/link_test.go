package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
)

func TestJitterBoundsEveryRTT(t *testing.T) {
	const jitter = 40 * time.Millisecond
	r := simulate(t, Run{Policy: pingClient, Duration: 6 * time.Hour, Seed: 3,
		Network: Network{Jitter: jitter}})
	base := DefaultRTT + DefaultPingServiceTime
	require.Greater(t, r.RTTSamples, 800)
	// Each way adds uniform [0, 40 ms]; in-order delivery can only add to that.
	assert.GreaterOrEqual(t, r.RTTP50, base)
	assert.LessOrEqual(t, r.RTTMax, base+2*jitter)
	assert.Greater(t, r.RTTP50, base+jitter/2, "the median carries about one jitter")
	assert.Less(t, r.RTTP50, base+3*jitter/2)
}

func TestLossDelaysFramesButLosesNothing(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 6 * time.Hour, Seed: 3,
		Network: Network{Loss: 0.05}, Server: Server{InboundPerHour: 60}})
	base := DefaultRTT + DefaultPingServiceTime
	rto := 200*time.Millisecond + DefaultRTT
	// Most pings see no loss; the unlucky ones wait one RTO (or more) on the way.
	assert.Equal(t, base, r.RTTP50)
	assert.GreaterOrEqual(t, r.RTTMax, base+rto)
	assert.Zero(t, r.Disconnects, "a 300 ms retransmission is far below the 10 s deadline")
	assert.Equal(t, r.MessagesSent, r.MessagesDelivered)
	assert.Greater(t, r.DeliveryDelayMax, DefaultRTT/2+rto-time.Millisecond)
}

func TestInboundBurstsArriveTogether(t *testing.T) {
	r := simulate(t, Run{Policy: pingClient, Duration: 6 * time.Hour, Seed: 3,
		Server: Server{InboundPerHour: 60, InboundMode: InboundBursts, BurstSize: 4}})
	require.Positive(t, r.MessagesSent)
	assert.Zero(t, r.MessagesSent%4, "messages come in whole bursts")
	assert.Equal(t, r.MessagesSent, r.MessagesDelivered)
	// All four of a burst leave at once and arrive in order one way later.
	assert.Equal(t, DefaultRTT/2, r.DeliveryDelayMax)
	// About 60 an hour over 6 h.
	assert.InDelta(t, 360, r.MessagesSent, 120)
}

func TestInboundCountsAsTrafficForTheEngine(t *testing.T) {
	// gRPC-style: any read proves liveness and the next ping is measured from the
	// last read, so busy inbound traffic saves pings.
	cfg := keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 30 * time.Second,
		InboundIsLiveness: true, MeasureFromLastRead: true, Reconnect: linear}
	quiet := simulate(t, Run{Policy: cfg, Duration: 6 * time.Hour, Seed: 3})
	busy := simulate(t, Run{Policy: cfg, Duration: 6 * time.Hour, Seed: 3,
		Server: Server{InboundPerHour: 240}})
	assert.Less(t, busy.Pings, quiet.Pings*3/4)
	// The receipts the client sends keep the byte count honest.
	assert.Greater(t, busy.BytesUp, int64(busy.MessagesDelivered*receiptBytes))
}
