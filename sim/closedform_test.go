package sim

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Closed-form checks: with no jitter and no loss the model is exact arithmetic, so
// each test derives its expected numbers from the model's documented constants:
//
//	RTT 100 ms (default), one-way 50 ms; a single box sits mid-path (25 ms from
//	each end); a connect takes 5 round trips = 500 ms; a ping's RTT = 100 ms + the
//	server's 5 ms service time; idle timers start when the login completes.
const (
	rtt        = DefaultRTT
	connectDur = (handshakeRoundTrips + loginRoundTrips) * DefaultRTT
	halfBox    = DefaultRTT / 4 // one box mid-path: client ↔ box
	day        = 24 * time.Hour
)

func idleBox(name string, timeout time.Duration, w middlebox.Direction, e middlebox.Expiry) middlebox.Spec {
	return middlebox.Spec{Name: name, Kind: middlebox.KindIdle, Timeout: timeout, Watches: w, AtExpiry: e}
}

func simulate(t *testing.T, run Run) Result {
	t.Helper()
	r, err := Simulate(run)
	require.NoError(t, err)
	return r
}

// linear is whatsmeow's reconnect: the first attempt after a lost connection at
// once, then 2 s, 4 s, … — deterministic, no jitter.
var linear = keepalive.ReconnectConfig{Mode: keepalive.ReconnectLinear}

func TestPingEvery25sBehind60sIdleCloseNeverDisconnects(t *testing.T) {
	r := simulate(t, Run{
		Policy: keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 25 * time.Second},
		Path:   []middlebox.Spec{idleBox("nginx", 60*time.Second, middlebox.Both, middlebox.Close)},
		Seed:   1,
	})
	assert.Zero(t, r.Disconnects)
	assert.Zero(t, r.IdleDisconnects)
	assert.Equal(t, 1, r.Connects)
	// Up from the end of the first connect to the end of the day.
	assert.Equal(t, float64(day-connectDur)/float64(day), r.TrueUptime)
	assert.Equal(t, r.TrueUptime, r.ReportedUptime)
	assert.Zero(t, r.ZombieTime)
	// The next ping is due one interval after the previous reply: period 25.105 s,
	// first ping at 25.5 s.
	pingRTT := rtt + DefaultPingServiceTime
	first := connectDur + 25*time.Second
	period := 25*time.Second + pingRTT
	wantPings := int((day-first)/period) + 1
	assert.Equal(t, wantPings, r.Pings)
	assert.Equal(t, wantPings, r.RTTSamples)
	assert.Equal(t, pingRTT, r.RTTP50)
	assert.Equal(t, pingRTT, r.RTTP99)
	assert.Equal(t, int64(handshakeUpBytes+wantPings*pingBytes), r.BytesUp)
	assert.Equal(t, int64(handshakeDownBytes+wantPings*pongBytes), r.BytesDown)
}

func TestPresenceEvery60sBehind50sIdleCloseDisconnectsEveryCycle(t *testing.T) {
	const timeout = 50 * time.Second
	r := simulate(t, Run{
		Policy: keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 60 * time.Second, Reconnect: linear},
		Path:   []middlebox.Spec{idleBox("proxy", timeout, middlebox.Both, middlebox.Close)},
		Seed:   1,
	})
	// Every connection idles from its login: the box closes it 50 s later, the FIN
	// reaches the client 25 ms after that, the client reconnects at once (linear,
	// first attempt) and is up again 500 ms later. No presence is ever sent: the
	// first would be due 60 s after the login.
	cycle := timeout + halfBox + connectDur
	firstExpiry := connectDur + timeout
	want := int((day-firstExpiry)/cycle) + 1
	t.Logf("cycle %v, expected disconnects %d", cycle, want)
	assert.Equal(t, want, r.Disconnects)
	assert.Equal(t, want, r.IdleDisconnects)
	assert.Equal(t, map[string]int{"idle_timeout:proxy": want}, r.DisconnectsByCause)
	lastExpiry := firstExpiry + time.Duration(want-1)*cycle
	require.Less(t, lastExpiry+halfBox, day, "the last FIN reaches the client within the day")
	assert.Equal(t, map[string]int{"closed": want}, r.DetectedBy)
	assert.Equal(t, halfBox, r.TimeToDetectMax)
	assert.Equal(t, halfBox, r.TimeToDetectMean)
	assert.Equal(t, time.Duration(want)*halfBox, r.ZombieTime)
	assert.Equal(t, want, r.ZombieEvents)
	assert.Equal(t, want+1, r.Connects)
	assert.Equal(t, want, r.Reconnects)
	assert.Zero(t, r.Presences)
	up := time.Duration(want)*timeout + (day - (lastExpiry + halfBox + connectDur))
	assert.InDelta(t, float64(up)/float64(day), r.TrueUptime, 1e-12)
	assert.InDelta(t, float64(day)/float64(24*time.Hour)*float64(want), r.DisconnectsPerDay, 1e-9)
}

func TestPresenceOnlyBehindBlackholeIsZombieUntilTCPGivesUp(t *testing.T) {
	const (
		interval = 60 * time.Second
		timeout  = 50 * time.Second
	)
	r := simulate(t, Run{
		Policy: keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: interval, Reconnect: linear},
		Path:   []middlebox.Spec{idleBox("nat", timeout, middlebox.Both, middlebox.Blackhole)},
		Seed:   1,
	})
	giveUp := DefaultTCPGiveUp
	// The box drops the state 50 s after the login, silently. The first presence
	// (60 s after the login) vanishes; TCP gives up 924.6 s after sending it and the
	// engine hears EventDisconnected{tcp_timeout}. Each zombie episode therefore
	// lasts (interval − timeout) + TCPGiveUp: the give-up time plus the wait for the
	// first frame that needs an acknowledgement.
	zombie := interval - timeout + giveUp
	cycle := connectDur + interval + giveUp // login to login
	full := int(day / cycle)
	lastBlackhole := time.Duration(full)*cycle + connectDur + timeout
	require.Less(t, lastBlackhole, day)
	partial := day - lastBlackhole
	assert.Equal(t, zombie, r.ZombieMax)
	assert.Equal(t, full+1, r.ZombieEvents)
	assert.Equal(t, time.Duration(full)*zombie+partial, r.ZombieTime)
	assert.Equal(t, full+1, r.Disconnects)
	assert.Equal(t, map[string]int{"tcp_timeout": full, "undetected": 1}, r.DetectedBy)
	assert.Equal(t, zombie, r.TimeToDetectMax)
	assert.Equal(t, zombie, r.TimeToDetectMean)
	assert.Equal(t, map[string]int{"idle_timeout:nat": full + 1}, r.DisconnectsByCause)
	assert.Greater(t, r.ReportedUptime-r.TrueUptime, 0.9, "a presence-only client believes it is up while it is not")
}

func TestBlackholeWithResetOnNextPacket(t *testing.T) {
	box := idleBox("nlb", 50*time.Second, middlebox.Both, middlebox.Blackhole)
	box.ResetOnNextPacket = true
	r := simulate(t, Run{
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 60 * time.Second, Reconnect: linear},
		Path:     []middlebox.Spec{box},
		Duration: time.Hour,
		Seed:     1,
	})
	// The first presence after the blackhole meets the box 25 ms after it is sent
	// and the RST is back 25 ms later: zombie = 10 s + 50 ms per episode.
	zombie := 10*time.Second + 2*halfBox
	assert.Equal(t, zombie, r.ZombieMax)
	assert.Equal(t, r.Disconnects, r.DetectedBy["reset"])
	assert.Equal(t, zombie, r.TimeToDetectMax)
	cycle := connectDur + 60*time.Second + 2*halfBox
	assert.Equal(t, int(time.Hour/cycle), r.DetectedBy["reset"])
}

func TestLifetimeTimerClosesAtAgeWhateverTraffic(t *testing.T) {
	const life = 30 * time.Second
	r := simulate(t, Run{
		Policy: keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 5 * time.Second, Reconnect: linear},
		Path:   []middlebox.Spec{{Name: "gcp", Kind: middlebox.KindLifetime, Timeout: life, AtExpiry: middlebox.Close}},
		Seed:   1,
	})
	// The lifetime runs from the first SYN; the FIN reaches the client 25 ms after
	// expiry and it reconnects at once: one connection every 30.025 s.
	cycle := life + halfBox
	want := int((day-life)/cycle) + 1
	assert.Equal(t, want, r.Disconnects)
	assert.Equal(t, map[string]int{"lifetime:gcp": want}, r.DisconnectsByCause)
	assert.Zero(t, r.IdleDisconnects)
}

func TestIdleTimerWatchingOnlyDownstreamIgnoresClientTraffic(t *testing.T) {
	const timeout = 60 * time.Second
	pol := keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 20 * time.Second, Reconnect: linear}
	down := simulate(t, Run{
		Policy: pol, Duration: time.Hour, Seed: 1,
		Path: []middlebox.Spec{idleBox("down-only", timeout, middlebox.Down, middlebox.Close)},
	})
	up := simulate(t, Run{
		Policy: pol, Duration: time.Hour, Seed: 1,
		Path: []middlebox.Spec{idleBox("up-only", timeout, middlebox.Up, middlebox.Close)},
	})
	// Presence goes up and gets no reply: it keeps an up-watching box open, and
	// does nothing for a down-watching one, which closes 60 s after each login.
	assert.Zero(t, up.Disconnects)
	cycle := timeout + halfBox + connectDur
	assert.Equal(t, int((time.Hour-connectDur-timeout)/cycle)+1, down.Disconnects)
}

func TestFirstBoxToExpireWins(t *testing.T) {
	r := simulate(t, Run{
		Policy:   keepalive.Config{Strategy: keepalive.StrategyPresence, Interval: 10 * time.Minute, Reconnect: linear},
		Duration: time.Hour,
		Seed:     1,
		Path: []middlebox.Spec{
			idleBox("outer", 120*time.Second, middlebox.Both, middlebox.Close),
			idleBox("inner", 45*time.Second, middlebox.Both, middlebox.Reset),
		},
	})
	require.Positive(t, r.Disconnects)
	assert.Equal(t, map[string]int{"idle_timeout:inner": r.Disconnects}, r.DisconnectsByCause)
	assert.Equal(t, map[string]int{"reset": r.Disconnects}, r.DetectedBy)
	// Box 1 of 2 sits at 2/3 of the path: its RST reaches the client after 2/3 of
	// the one-way delay.
	assert.Equal(t, DefaultRTT/2*2/3, r.TimeToDetectMax)
}
