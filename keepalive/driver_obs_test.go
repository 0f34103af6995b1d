package keepalive

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, err := io.ReadAll(rec.Result().Body)
	require.NoError(t, err)
	return rec.Code, string(body)
}

func TestHandlerHealthReadySessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: time.Hour})
		all := h.eng.Handler(HandlerOptions{})
		half := h.eng.Handler(HandlerOptions{ReadyFraction: 0.5})

		code, body := get(t, all, "/healthz")
		assert.Equal(t, http.StatusOK, code)
		assert.Equal(t, "ok\n", body)
		code, _ = get(t, all, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code, "no session: not ready")

		gate := make(chan struct{})
		h.add("b-up", pingCfg(30*time.Second), nil)
		h.add("a-stuck", pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })

		code, body = get(t, all, "/readyz")
		assert.Equal(t, http.StatusServiceUnavailable, code)
		var r Readiness
		require.NoError(t, json.Unmarshal([]byte(body), &r))
		assert.Equal(t, Readiness{Ready: false, Connected: 1, Required: 2, Total: 2,
			States: map[string]int{"idle": 0, "connecting": 1, "connected": 1, "waiting": 0, "stopped": 0}}, r)

		code, _ = get(t, half, "/readyz")
		assert.Equal(t, http.StatusOK, code, "1 of 2 meets a 0.5 fraction")

		close(gate)
		synctest.Wait()
		code, _ = get(t, all, "/readyz")
		assert.Equal(t, http.StatusOK, code)

		// Scrape while the loop runs: the race detector checks the locking.
		scraped := make(chan struct{})
		go func() {
			defer close(scraped)
			for range 20 {
				c, _ := get(t, all, "/sessions")
				assert.Equal(t, http.StatusOK, c)
				get(t, all, "/readyz")
			}
		}()
		h.advance(30*time.Second, time.Second)
		<-scraped
		code, body = get(t, all, "/sessions")
		assert.Equal(t, http.StatusOK, code)
		var sessions []map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &sessions))
		require.Len(t, sessions, 2)
		assert.Equal(t, "a-stuck", sessions[0]["id"], "sorted by ID")
		assert.Equal(t, "b-up", sessions[1]["id"])
		assert.Equal(t, "connected", sessions[1]["state"], "state by name")
		assert.Equal(t, float64(30*time.Second), sessions[1]["interval"])

		code, _ = get(t, all, "/nope")
		assert.Equal(t, http.StatusNotFound, code)
	})
}

func TestMetricsValues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		h.add("a", pingCfg(30*time.Second), nil)
		h.add("b", pingCfg(30*time.Second), nil)
		h.add("c", Config{Strategy: StrategyPresence, IntervalMode: IntervalFixed, Interval: time.Minute},
			func(c *fakeConn) { c.presenceErr = errBoom })
		h.advance(2*time.Minute, time.Second)

		// c's first presence fails at 1 min and the session is replaced; which later
		// sends happen depends on the core's reconnect policy, so only the first
		// minute of c is pinned down here.
		assert.Equal(t, 8.0, testutil.ToFloat64(h.eng.metrics.sentPing), "2 sessions × 4 pings")
		assert.Zero(t, testutil.ToFloat64(h.eng.metrics.failedPing))
		assert.GreaterOrEqual(t, testutil.ToFloat64(h.eng.metrics.sentPresence), 1.0)
		assert.GreaterOrEqual(t, testutil.ToFloat64(h.eng.metrics.failedPresence), 1.0)

		expected := `
# HELP kalab_ping_rtt_seconds Round-trip time of acknowledged pings, in seconds.
# TYPE kalab_ping_rtt_seconds histogram
kalab_ping_rtt_seconds_bucket{le="0.005"} 0
kalab_ping_rtt_seconds_bucket{le="0.01"} 0
kalab_ping_rtt_seconds_bucket{le="0.02"} 0
kalab_ping_rtt_seconds_bucket{le="0.04"} 8
kalab_ping_rtt_seconds_bucket{le="0.08"} 8
kalab_ping_rtt_seconds_bucket{le="0.16"} 8
kalab_ping_rtt_seconds_bucket{le="0.32"} 8
kalab_ping_rtt_seconds_bucket{le="0.64"} 8
kalab_ping_rtt_seconds_bucket{le="1.28"} 8
kalab_ping_rtt_seconds_bucket{le="2.56"} 8
kalab_ping_rtt_seconds_bucket{le="5.12"} 8
kalab_ping_rtt_seconds_bucket{le="10.24"} 8
kalab_ping_rtt_seconds_bucket{le="20.48"} 8
kalab_ping_rtt_seconds_bucket{le="40.96"} 8
kalab_ping_rtt_seconds_bucket{le="+Inf"} 8
kalab_ping_rtt_seconds_sum 0.32
kalab_ping_rtt_seconds_count 8
`
		assert.NoError(t, testutil.GatherAndCompare(h.reg, strings.NewReader(expected), MetricPingRTT))

		h.eng.Stop()
		synctest.Wait()
		h.stop()
		stateExpected := `
# HELP kalab_session_state Sessions in each state.
# TYPE kalab_session_state gauge
kalab_session_state{state="connected"} 0
kalab_session_state{state="connecting"} 0
kalab_session_state{state="idle"} 0
kalab_session_state{state="stopped"} 0
kalab_session_state{state="waiting"} 0
`
		assert.NoError(t, testutil.GatherAndCompare(h.reg, strings.NewReader(stateExpected), MetricSessionState),
			"every session retired at stop")
	})
}

func TestMetricsSessionStateGauge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1, ConnectTimeout: time.Hour})
		gate := make(chan struct{})
		h.add("a", pingCfg(30*time.Second), nil)
		h.add("b", pingCfg(30*time.Second), nil)
		h.add("c", pingCfg(30*time.Second), func(c *fakeConn) { c.connectGate = gate })
		require.NoError(t, h.eng.Notify("b", Event{Kind: EventBanned}))
		synctest.Wait()

		expected := `
# HELP kalab_session_state Sessions in each state.
# TYPE kalab_session_state gauge
kalab_session_state{state="connected"} 1
kalab_session_state{state="connecting"} 1
kalab_session_state{state="idle"} 0
kalab_session_state{state="stopped"} 1
kalab_session_state{state="waiting"} 0
`
		assert.NoError(t, testutil.GatherAndCompare(h.reg, strings.NewReader(expected), MetricSessionState))
		close(gate)
	})
}

func TestMetricsRegisterOnCallersRegistryOnly(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := NewEngine(EngineOptions{Registerer: reg})
	require.NoError(t, err)
	n, err := testutil.GatherAndCount(reg)
	require.NoError(t, err)
	assert.Positive(t, n)
	_, err = NewEngine(EngineOptions{Registerer: reg})
	assert.Error(t, err, "a second engine on the same registry collides")

	def, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, mf := range def {
		assert.False(t, strings.HasPrefix(mf.GetName(), "kalab_"), "%s on the global registry", mf.GetName())
	}
}

func TestLogLinesAtLifecycleMoments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, EngineOptions{Seed: 1})
		c := h.add("acct-1", pingCfg(30*time.Second), nil)
		h.advance(30*time.Second, time.Second)
		c.set(func(c *fakeConn) { c.pingHang = true })
		h.advance(40*time.Second, time.Second) // ping at 60 s fails at 65 s
		require.NoError(t, h.eng.Remove("acct-1"))
		synctest.Wait()

		recs := h.logs.records(t)
		for _, msg := range []string{LogConnected, LogKeepAliveStarted, LogHeartbeatSent, LogHeartbeatFailed,
			LogKeepAliveStopped, LogReconnecting, LogSessionStopped} {
			assert.NotEmpty(t, withMsg(recs, msg, "acct-1"), "log line %q", msg)
		}
		started := withMsg(recs, LogKeepAliveStarted, "acct-1")
		require.NotEmpty(t, started)
		assert.Equal(t, float64(30*time.Second), started[0]["interval"])
		assert.Equal(t, "ping", started[0]["strategy"])
		sent := withMsg(recs, LogHeartbeatSent, "acct-1")
		require.NotEmpty(t, sent)
		assert.Equal(t, "DEBUG", sent[0]["level"])
		rec := withMsg(recs, LogReconnecting, "acct-1")
		require.NotEmpty(t, rec)
		assert.Contains(t, rec[0], "delay")
		assert.Contains(t, rec[0], "cause")
	})
}
