package netlab

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/Shopify/toxiproxy/v2/toxics"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

func TestScaleRefusedBelowMinTimer(t *testing.T) {
	alb, ok := middlebox.Lookup("aws-alb")
	require.True(t, ok, "catalog entry aws-alb")
	// 60 s / 5000 = 12 ms < 20 ms.
	_, err := NewChain("127.0.0.1:1", []middlebox.Spec{alb}, 5000, Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "path[0] (aws-alb)")
	assert.Contains(t, err.Error(), "12ms")
	assert.Contains(t, err.Error(), "below 20ms")
	assert.Contains(t, err.Error(), "at most 3000")

	for _, bad := range []float64{-1, math.NaN(), math.Inf(1)} {
		_, err := NewChain("127.0.0.1:1", nil, bad, Options{})
		assert.ErrorContains(t, err, "time scale", "scale %v", bad)
	}
}

func TestInvalidSpecsRefused(t *testing.T) {
	cases := map[string]middlebox.Spec{
		"watches":     {Name: "w", Kind: middlebox.KindIdle, Timeout: time.Minute, AtExpiry: middlebox.Close},
		"timeout":     {Name: "t", Kind: middlebox.KindLifetime, AtExpiry: middlebox.Close},
		"at_expiry":   {Name: "a", Kind: middlebox.KindIdle, Timeout: time.Minute, Watches: middlebox.Both},
		"kind":        {Name: "k", Kind: "sometimes", Timeout: time.Minute},
		"reset_on_ne": {Name: "r", Kind: middlebox.KindIdle, Timeout: time.Minute, Watches: middlebox.Both, AtExpiry: middlebox.Close, ResetOnNextPacket: true},
	}
	for field, s := range cases {
		path := []middlebox.Spec{{Name: "ok", Kind: middlebox.KindNone}, s}
		_, err := NewChain("127.0.0.1:1", path, 0, Options{})
		require.Error(t, err, field)
		assert.Contains(t, err.Error(), "path[1] ("+s.Name+")", field)
		assert.Contains(t, err.Error(), field, field)
	}
	_, err := NewChain("", nil, 0, Options{})
	assert.ErrorContains(t, err, "empty target")
	_, err = NewChain("127.0.0.1:1", nil, 0, Options{Network: Network{RTT: -time.Second}})
	assert.ErrorContains(t, err, "rtt")
}

func TestNetworkToxics(t *testing.T) {
	n := Network{RTT: 100 * time.Millisecond, Jitter: 40 * time.Millisecond, Bandwidth: 5000, ResetPeer: true, ResetPeerAfter: 2 * time.Second}
	got := n.toxics(10)
	require.Len(t, got, 5)
	// One way: RTT/2 + U[0, Jitter] = 70 ms ± 20 ms before scaling: 7 ± 2 ms.
	assert.Equal(t, toxicJSON{Name: "latency_upstream", Type: "latency", Stream: "upstream", Toxicity: 1,
		Attributes: map[string]any{"latency": int64(7), "jitter": int64(2)}}, got[0])
	assert.Equal(t, "downstream", got[1].Stream)
	assert.Equal(t, map[string]any{"rate": int64(50)}, got[2].Attributes, "5000 B/s × 10 = 50 KB/s")
	assert.Equal(t, "bandwidth", got[3].Type)
	assert.Equal(t, toxicJSON{Name: "reset_peer_upstream", Type: "reset_peer", Stream: "upstream", Toxicity: 1,
		Attributes: map[string]any{"timeout": int64(200)}}, got[4])
	assert.Empty(t, Network{}.toxics(100), "the zero network adds nothing")
	assert.Equal(t, map[string]any{"rate": int64(1)}, Network{Bandwidth: 1}.toxics(1)[0].Attributes, "rate is at least 1 KB/s")
}

// chainToxics lists hop i's toxics as "type/stream/toxicity".
func chainToxics(c *Chain, i int) []string {
	var out []string
	for _, tx := range c.proxies[i].Toxics.GetToxicArray() {
		w := tx.(*toxics.ToxicWrapper)
		out = append(out, w.Type+"/"+w.Stream+"/"+map[bool]string{true: "1", false: "0"}[w.Toxicity == 1])
	}
	return out
}

func TestChainLayoutAndToxics(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	nlb := idle("nlb", middlebox.Both, middlebox.Blackhole)
	nlb.ResetOnNextPacket = true
	path := []middlebox.Spec{idle("alb", middlebox.Up, middlebox.Close), {Name: "traefik", Kind: middlebox.KindNone}, nlb}
	c := newChain(t, tg, path, Options{Network: Network{RTT: 2 * time.Second}})
	hops := c.Hops()
	require.Len(t, hops, 3)
	assert.Equal(t, c.Addr(), hops[0].Listen)
	assert.Equal(t, hops[1].Listen, hops[0].Upstream)
	assert.Equal(t, hops[2].Listen, hops[1].Upstream)
	assert.Equal(t, tg.addr(), hops[2].Upstream)
	for _, h := range hops {
		host, _, err := net.SplitHostPort(h.Listen)
		require.NoError(t, err)
		assert.Equal(t, "127.0.0.1", host)
	}
	assert.Equal(t, scaledT, hops[0].Spec.Timeout, "hops report scaled timeouts")
	assert.Equal(t, float64(testScale), c.Scale())
	assert.Contains(t, c.String(), "alb(")

	assert.ElementsMatch(t, []string{"kalab_idle/upstream/1", "kalab_idle/downstream/1", "latency/upstream/1", "latency/downstream/1"}, chainToxics(c, 0))
	assert.Empty(t, chainToxics(c, 1), "a hop without a timer is a plain proxy")
	assert.ElementsMatch(t, []string{"kalab_idle/upstream/1", "kalab_idle/downstream/1", "reset_peer/upstream/0"}, chainToxics(c, 2),
		"a resetting hop carries a toxicity-0 reset_peer for SO_LINGER 0")

	client, server := connect(t, c, tg)
	roundTrip(t, client, server)
}

func TestNetworkLatencyDelaysEachWay(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	// 10 s RTT at scale 100: 50 ms each way.
	c := newChain(t, tg, nil, Options{Network: Network{RTT: 10 * time.Second}})
	require.Len(t, c.Hops(), 1)
	assert.Equal(t, "network", c.Hops()[0].Name)
	client, server := connect(t, c, tg)
	start := time.Now()
	roundTrip(t, client, server)
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond, "latency toxic not applied")
}

func TestNetworkResetPeer(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, nil, Options{Network: Network{ResetPeer: true, ResetPeerAfter: 5 * time.Second}})
	client, server := connect(t, c, tg)
	_, err := client.Write([]byte("first"))
	require.NoError(t, err)
	_, err = readUntilErr(client, lateBound)
	assert.True(t, isReset(err), "client end: want ECONNRESET, got %v", err)
	n, err := readUntilErr(server, lateBound)
	assert.True(t, isReset(err), "server end: want ECONNRESET, got %v", err)
	assert.Zero(t, n, "reset_peer drops the first chunk")
}

// TestUnwiredToxicClosesConnections: a kalab toxic added to a bare Toxiproxy proxy
// (as through an HTTP API) lacks its pairing, so it ends every connection at once
// rather than pretend to be a middlebox.
func TestUnwiredToxicClosesConnections(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(server, "bare", "127.0.0.1:0", tg.addr())
	body, err := json.Marshal(toxicJSON{Name: "idle", Type: IdleToxicType, Stream: "upstream", Toxicity: 1,
		Attributes: map[string]any{"timeout": int64(time.Minute), "watches": "both", "at_expiry": "close"}})
	require.NoError(t, err)
	_, err = p.Toxics.AddToxicJson(bytes.NewReader(body))
	require.NoError(t, err)
	require.NoError(t, p.Start())
	t.Cleanup(p.Stop)

	client, err := net.DialTimeout("tcp", p.Listen, lateBound)
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	srv := tg.accept(t)
	_, err = readUntilErr(srv, lateBound)
	assert.ErrorIs(t, err, io.EOF, "server end")
	_, err = readUntilErr(client, lateBound)
	assert.ErrorIs(t, err, io.EOF, "client end")
}
