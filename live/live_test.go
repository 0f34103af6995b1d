package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// metricValue returns the value of the first sample line of /metrics starting
// with prefix (name and labels), or -1.
func metricValue(body, prefix string) float64 {
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(prefix) + ` ([0-9.e+]+)$`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func sessions(t *testing.T, addr string) []map[string]any {
	t.Helper()
	code, body := httpGet(t, addr, "/sessions")
	require.Equal(t, 200, code)
	var out []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out
}

func TestPairByQRThenRestartLogsInWithoutQR(t *testing.T) {
	srv := startMock(t)
	db := filepath.Join(t.TempDir(), "kalab.db")

	run := startLive(t, srv, db, nil)
	jid, sess := run.pair(t, srv)
	assert.Contains(t, run.qrOut.String(), QRCodePrefix, "the QR code's text follows the rendered code")
	assert.Contains(t, run.qrOut.String(), "▀", "the QR code is rendered in half blocks")
	accts := run.r.Accounts()
	require.Len(t, accts, 1)
	assert.Equal(t, jid.User, accts[0].JID.User)
	run.stop(t)

	for _, p := range []string{db, db + "-wal", db + "-shm"} {
		st, err := os.Stat(p)
		if p != db && os.IsNotExist(err) {
			continue // checkpointed away on close
		}
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), p)
	}

	before := sess.Counters()
	run2 := startLive(t, srv, db, nil)
	ctx := ctxT(t)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool {
		return c.Logins > before.Logins && c.Pings >= before.Pings+2
	}))
	assert.Empty(t, run2.qr, "a stored device logs in without a QR code")
	assert.NotContains(t, run2.qrOut.String(), QRCodePrefix)
	require.Len(t, run2.r.Accounts(), 1)
	assert.Equal(t, accts[0].ID, run2.r.Accounts()[0].ID, "the session ID is stable across restarts")
	_, metrics := httpGet(t, run2.r.Addr(), "/metrics")
	assert.Equal(t, 0.0, metricValue(metrics, MetricQRCodes))
	run2.stop(t)
	require.NoError(t, sess.Wait(ctx, func(mockwa.Counters) bool { return !sess.Connected() }), "shutdown disconnects")
}

func TestHeartbeatsEndpointsAndReload(t *testing.T) {
	srv := startMock(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "kalab.db")
	run := startLive(t, srv, db, nil)
	_, sess := run.pair(t, srv)
	ctx := ctxT(t)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.PingsAnswered >= 6 }))
	run.alive(t)

	// The strategy: pings, no presence; the interval: never faster than configured.
	c := sess.Counters()
	assert.Zero(t, c.Presence["available"], "a ping strategy sends no presence")
	var pings []time.Time
	for _, e := range sess.Log() {
		if e.Kind == "ping" {
			pings = append(pings, e.At)
		}
	}
	for i := 1; i < len(pings); i++ {
		assert.GreaterOrEqual(t, pings[i].Sub(pings[i-1]), 50*time.Millisecond,
			"ping %d came %v after the previous one; the interval is 100ms", i, pings[i].Sub(pings[i-1]))
	}

	addr := run.r.Addr()
	code, body := httpGet(t, addr, "/healthz")
	assert.Equal(t, 200, code)
	assert.Equal(t, "ok\n", body)
	code, _ = httpGet(t, addr, "/readyz")
	assert.Equal(t, 200, code)
	ss := sessions(t, addr)
	require.Len(t, ss, 1)
	assert.Equal(t, "connected", ss[0]["state"])
	assert.Equal(t, float64(100*time.Millisecond), ss[0]["interval"])
	assert.GreaterOrEqual(t, ss[0]["heartbeats_sent"], float64(6))
	assert.Equal(t, run.r.Accounts()[0].ID, ss[0]["id"])
	_, metrics := httpGet(t, addr, "/metrics")
	assert.GreaterOrEqual(t, metricValue(metrics, keepalive.MetricHeartbeatsSent+`{strategy="ping"}`), 6.0)
	assert.Equal(t, 1.0, metricValue(metrics, MetricAccounts))
	assert.Contains(t, metrics, "go_goroutines", "Go collector on the runner's registry")

	// Reload: presence every 100ms, without dropping the connection.
	connects := sess.Counters().Connects
	writeConfig(t, dir, "config: {strategy: presence, interval: 100ms}\n")
	require.NoError(t, run.r.Reload())
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.Presence["available"] >= 3 }))
	assert.Equal(t, connects, sess.Counters().Connects, "reload keeps the connection")
	assert.Equal(t, keepalive.StrategyPresence, run.r.Config().Strategy)
	assert.Contains(t, run.logs.String(), LogConfigReloaded)

	// A broken file keeps the running config.
	writeConfig(t, dir, "config: {strategy: pigeon}\n")
	assert.Error(t, run.r.Reload())
	assert.Equal(t, keepalive.StrategyPresence, run.r.Config().Strategy)
	run.alive(t)
}

func TestInjectedFaultsReconnectWithBackoff(t *testing.T) {
	srv := startMock(t)
	db := filepath.Join(t.TempDir(), "kalab.db")
	run := startLive(t, srv, db, nil)
	jid, sess := run.pair(t, srv)
	ctx := ctxT(t)
	faults := []mockwa.EventKind{mockwa.StreamError515, mockwa.StreamError503, mockwa.CleanClose, mockwa.AbruptClose}
	for i, k := range faults {
		before := sess.Counters()
		// Inject only into a live connection (the previous reconnect may still be logging in).
		require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return sess.Connected() }))
		require.NoError(t, srv.Inject(jid, mockwa.Event{Kind: k}), string(k))
		require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool {
			return c.Logins > before.Logins && c.PingsAnswered >= before.PingsAnswered+2
		}), "after %s: logs:\n%s", k, run.logs.String())
		require.NoError(t, run.logs.waitCount(ctx, keepalive.LogReconnecting, i+1))
		run.alive(t)
	}
	ss := sessions(t, run.r.Addr())
	require.Len(t, ss, 1)
	assert.GreaterOrEqual(t, ss[0]["reconnects"], float64(len(faults)))
	assert.Equal(t, "connected", ss[0]["state"])
	// Every reconnect waited a backoff delay: 50ms ± 20 % jitter at first.
	delays := regexp.MustCompile(`msg=reconnecting session=\S+ delay=(\S+)`).FindAllStringSubmatch(run.logs.String(), -1)
	require.GreaterOrEqual(t, len(delays), len(faults))
	for _, m := range delays {
		d, err := time.ParseDuration(m[1])
		require.NoError(t, err)
		assert.GreaterOrEqual(t, d, 40*time.Millisecond, "backoff delay %v", d)
		assert.LessOrEqual(t, d, 240*time.Millisecond, "backoff delay %v", d)
	}
	_, metrics := httpGet(t, run.r.Addr(), "/metrics")
	assert.Contains(t, metrics, keepalive.MetricReconnects)
}

func TestLogoutRemovesAccountAndStopsItsHeartbeats(t *testing.T) {
	srv := startMock(t)
	db := filepath.Join(t.TempDir(), "kalab.db")
	run := startLive(t, srv, db, nil)
	jidA, sessA := run.pair(t, srv)
	run.stop(t)

	// Second run pairs a second account beside the stored one.
	run = startLive(t, srv, db, func(o *Options) { o.PairNew = true })
	jidB, sessB := run.pair(t, srv)
	require.NotEqual(t, jidA.User, jidB.User)
	ctx := ctxT(t)
	require.NoError(t, sessA.Wait(ctx, func(c mockwa.Counters) bool { return sess(sessA) }))
	require.Len(t, run.r.Accounts(), 2)
	require.Len(t, sessions(t, run.r.Addr()), 2)

	require.NoError(t, srv.Inject(jidA, mockwa.Event{Kind: mockwa.DeviceRemoved}))
	require.NoError(t, run.logs.waitCount(ctx, LogAccountRemoved, 1))
	pingsA, connectsA := sessA.Counters().Pings, sessA.Counters().Connects
	// B keeps its heartbeats going: 10 more intervals pass; A sends nothing more.
	pingsB := sessB.Counters().PingsAnswered
	require.NoError(t, sessB.Wait(ctx, func(c mockwa.Counters) bool { return c.PingsAnswered >= pingsB+10 }))
	assert.Equal(t, pingsA, sessA.Counters().Pings, "a logged-out account sends no heartbeat")
	assert.Equal(t, connectsA, sessA.Counters().Connects, "a logged-out account is never reconnected")
	accts := run.r.Accounts()
	require.Len(t, accts, 1)
	assert.Equal(t, jidB.User, accts[0].JID.User)
	ss := sessions(t, run.r.Addr())
	require.Len(t, ss, 1)
	assert.Equal(t, accts[0].ID, ss[0]["id"])
	_, metrics := httpGet(t, run.r.Addr(), "/metrics")
	assert.Equal(t, 1.0, metricValue(metrics, MetricAccountsRemoved+`{reason="logged_out"}`))
	assert.Equal(t, 1.0, metricValue(metrics, MetricAccounts))
	run.alive(t)
	run.stop(t)

	// The store keeps only B: a restart runs one account and pairs nothing.
	bc := sessB.Counters()
	run = startLive(t, srv, db, nil)
	require.Len(t, run.r.Accounts(), 1)
	assert.Equal(t, jidB.User, run.r.Accounts()[0].JID.User)
	// Stop only once heartbeating: cancelling a whatsmeow connect midway trips data
	// races inside whatsmeow (FrameSocket.SendFrame reads conn unlocked,
	// NoiseSocket.Stop writes OnDisconnect unlocked).
	require.NoError(t, sessB.Wait(ctx, func(c mockwa.Counters) bool {
		return c.Logins > bc.Logins && c.PingsAnswered > bc.PingsAnswered
	}))
	assert.Empty(t, run.qr, "no pairing: the store holds an account")
}

// sess reports whether a mock session is logged in.
func sess(s *mockwa.Session) bool { return s.Connected() }
