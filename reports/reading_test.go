package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadingBlackhole(t *testing.T) {
	s := fixtureScenario(t, "AWS NLB (blackhole)")
	r := strings.Join(reading(s), " ")
	assert.Contains(t, r, "1 of 3 expectations fail.")
	assert.Contains(t, r, "kalab (adaptive ping 5 s–5 min) keeps the connection truly up 100% of the time")
	// The presence-only client: its zombie stretches last as long as TCP's give-up.
	assert.Regexp(t, `seed \(presence every 60 s\) leaves the connection dead for 15\.\d min at a time`, r)
	assert.Contains(t, r, "only learns of it when TCP gives up")
	assert.NotContains(t, r, "whatsmeow", "a client with nothing notable is not mentioned")
}

func TestReadingChurn(t *testing.T) {
	s := fixtureScenario(t, "Residential proxy")
	r := strings.Join(reading(s), " ")
	assert.Regexp(t, `whatsmeow \(ping every 30 s\) loses the connection [\d,]+ times a day, mostly to idle_timeout:residential: its heartbeat is slower than the path's idle timeout\.`, r)
}

func TestReadingSmall(t *testing.T) {
	assert.Equal(t, []string{"No client ran in this scenario."}, reading(scenarioView{}))
	s := scenarioView{Clients: []clientView{
		{Name: "a", TrueUptime: 0.9995, HeartbeatsPerDay: 10, DisconnectsPerDay: 1},
		{Name: "b", TrueUptime: 0.9995, HeartbeatsPerDay: 5, HasDelay: true, DelayP99: time.Minute, DelayMax: 2 * time.Minute},
	}}
	r := reading(s)
	// Equal uptime: the cheaper client is named best.
	assert.Equal(t, "b keeps the connection truly up 99.95% of the time with 5 heartbeats a day and no disconnect.", r[0])
	assert.Len(t, r, 1, "a has nothing notable")
	s.Clients[0].HasDelay, s.Clients[0].DelayP99, s.Clients[0].DelayMax = true, time.Minute, 3*time.Minute
	assert.Contains(t, reading(s), "Messages to a wait up to 3 min (p99 1 min).")
}

func TestReadingNoGoodClient(t *testing.T) {
	s := scenarioView{Clients: []clientView{{Name: "a", TrueUptime: 0.9792, HeartbeatsPerDay: 0, DisconnectsPerDay: 2877}}}
	assert.Equal(t, "No client stays truly up 99.9% of the time; the best, a, manages 97.92% with 0 heartbeats a day and 2,877 disconnects a day.", reading(s)[0])
}

func TestReadingChurnAndZombie(t *testing.T) {
	good := clientView{Name: "good", TrueUptime: 1}
	// Zombie stretches of 10 s at every one of 125 disconnects: one sentence, not two.
	both := clientView{Name: "p6", Policy: "presence every 6 min", TrueUptime: 0.98, DisconnectsPerDay: 125,
		CausesPerDay: map[string]float64{"idle_timeout:aws-nlb": 125}, ZombiePerDay: 1250 * time.Second, ZombieEpisodes: 125}
	// 25 ms between a close and its FIN, thousands of times: churn, not zombie.
	blip := clientView{Name: "blip", TrueUptime: 0.98, DisconnectsPerDay: 2880, CausesPerDay: map[string]float64{"idle_timeout:proxy": 2880},
		ZombiePerDay: 72 * time.Second, ZombieEpisodes: 2880}
	r := reading(scenarioView{Clients: []clientView{good, both, blip}})
	require.Len(t, r, 3)
	assert.Equal(t, "p6 (presence every 6 min) loses the connection 125 times a day, mostly to idle_timeout:aws-nlb, and stays dead for 10 s at a time while believing it is connected (20.8 min a day in all).", r[1])
	assert.Equal(t, "blip loses the connection 2,880 times a day, mostly to idle_timeout:proxy: its heartbeat is slower than the path's idle timeout.", r[2])
}
