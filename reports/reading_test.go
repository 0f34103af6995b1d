package reports

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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
		{Name: "a", TrueUptime: 0.99, HeartbeatsPerDay: 10, DisconnectsPerDay: 1},
		{Name: "b", TrueUptime: 0.99, HeartbeatsPerDay: 5, HasDelay: true, DelayP99: time.Minute, DelayMax: 2 * time.Minute},
	}}
	r := reading(s)
	// Equal uptime: the cheaper client is named best.
	assert.Equal(t, "b keeps the connection truly up 99% of the time with 5 heartbeats a day and no disconnect.", r[0])
	assert.Len(t, r, 1, "a has nothing notable")
	s.Clients[0].HasDelay, s.Clients[0].DelayP99, s.Clients[0].DelayMax = true, time.Minute, 3*time.Minute
	assert.Contains(t, reading(s), "Messages to a wait up to 3 min (p99 1 min).")
}
