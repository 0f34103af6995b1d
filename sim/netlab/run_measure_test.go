package netlab

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// A synthetic record of a run at scale 10 over 100 s of real time (1000 s of
// scenario time): connection 1 up at 1 s, blackholed at 41 s, dropped by the engine
// at 46 s; connection 2 up at 47 s and closed by the hop at 80 s, seen at once;
// connection 3 up at 81 s until the end.
func TestMeasurementFromRecords(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	p := &probe{attempts: 3, pings: 9, rtts: []time.Duration{time.Millisecond, 3 * time.Millisecond}}
	p.conns = []*connRec{
		{dial: 1, up: at(1), end: at(46), endHow: "local", believed: at(46), believedHow: "heartbeat_timeout"},
		{dial: 2, up: at(47), end: at(80.1), endHow: "closed", believed: at(80.1), believedHow: "closed"},
		{dial: 3, up: at(81)},
	}
	m := measurement{
		run:   sim.Run{Scenario: "s", Client: "c", Duration: 1000 * time.Second},
		scale: 10, start: t0, end: at(100), probe: p,
		expiries: []ExpiryRecord{
			{At: at(41), Hop: "nat", Conn: 1, Kind: middlebox.KindIdle, Action: middlebox.Blackhole},
			{At: at(80), Hop: "lb", Conn: 2, Kind: middlebox.KindLifetime, Action: middlebox.Close},
		},
		health: keepalive.Health{State: keepalive.StateConnected, Interval: 2 * time.Second},
	}
	r := m.result()
	assert.InDelta(t, (40.0+33+19)/100, r.TrueUptime, 1e-9)
	assert.InDelta(t, (45.0+33.1+19)/100, r.ReportedUptime, 1e-9)
	assert.Equal(t, 2, r.Disconnects)
	assert.Equal(t, map[string]int{"idle_timeout:nat": 1, "lifetime:lb": 1}, r.DisconnectsByCause)
	assert.Equal(t, map[string]int{"heartbeat_timeout": 1, "closed": 1}, r.DetectedBy)
	assert.Equal(t, 1, r.IdleDisconnects)
	assert.Equal(t, 51*time.Second, r.ZombieTime, "(5 s + 0.1 s) real × 10")
	assert.Equal(t, 2, r.ZombieEvents)
	assert.Equal(t, 50*time.Second, r.ZombieMax)
	assert.Equal(t, 50*time.Second, r.TimeToDetectMax)
	assert.Equal(t, 3, r.Connects)
	assert.Equal(t, 2, r.Reconnects)
	assert.Equal(t, 20*time.Second, r.FinalInterval)
	assert.Equal(t, 30*time.Millisecond, r.RTTMax)
	assert.InDelta(t, 2*86400.0/1000, r.DisconnectsPerDay, 1e-9)
	bands := r.Timeline.Bands
	if assert.NotEmpty(t, bands) {
		assert.Equal(t, sim.Band{Start: 0, End: 10 * time.Second, State: sim.BandDown}, bands[0])
		assert.Equal(t, sim.Band{Start: 10 * time.Second, End: 410 * time.Second, State: sim.BandUp}, bands[1])
		assert.Equal(t, sim.Band{Start: 410 * time.Second, End: 460 * time.Second, State: sim.BandZombie}, bands[2])
	}
	assert.Equal(t, 2, r.Timeline.MarksTotal)
}
