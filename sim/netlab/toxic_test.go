package netlab

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Raw TCP through an embedded chain: the test plays both the client and the server
// end. A 30 s timer at scale 100 fires at 300 ms; see helpers_test.go for margins.

func TestIdleCloseSendsEOFToBothEnds(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("alb", middlebox.Both, middlebox.Close)}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)

	n, err := readUntilErr(client, early)
	require.True(t, isTimeout(err), "connection ended before the idle timeout: %v", err)
	assert.Zero(t, n)

	_, err = readUntilErr(client, lateBound)
	assert.ErrorIs(t, err, io.EOF, "client end")
	_, err = readUntilErr(server, lateBound)
	assert.ErrorIs(t, err, io.EOF, "server end")

	recs := c.Expiries().Records()
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, "alb", r.Hop)
	assert.Equal(t, 0, r.HopIndex)
	assert.Equal(t, uint64(1), r.Conn)
	assert.Equal(t, middlebox.KindIdle, r.Kind)
	assert.Equal(t, middlebox.Close, r.Action)
	assert.GreaterOrEqual(t, r.Idle, scaledT)
	assert.Less(t, r.Idle, 2*scaledT)
	assert.GreaterOrEqual(t, r.Age, r.Idle)
}

func TestIdleResetSendsRSTToBothEnds(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("azure-reset", middlebox.Both, middlebox.Reset)}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)

	_, err := readUntilErr(client, early)
	require.True(t, isTimeout(err), "connection ended before the idle timeout: %v", err)

	_, err = readUntilErr(client, lateBound)
	assert.True(t, isReset(err), "client end: want ECONNRESET, got %v", err)
	_, err = readUntilErr(server, lateBound)
	assert.True(t, isReset(err), "server end: want ECONNRESET, got %v", err)

	recs := c.Expiries().Records()
	require.Len(t, recs, 1)
	assert.Equal(t, middlebox.Reset, recs[0].Action)
	assert.Equal(t, "azure-reset", recs[0].Hop)
}

func TestIdleBlackholeIsSilentBothWays(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("nat", middlebox.Both, middlebox.Blackhole)}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)

	recs := waitExpiries(t, c, 1)
	assert.Equal(t, middlebox.Blackhole, recs[0].Action)
	assert.GreaterOrEqual(t, recs[0].Idle, scaledT)

	for range 5 {
		_, err := client.Write([]byte("lost up"))
		require.NoError(t, err, "a client write after a blackhole must succeed")
		_, err = server.Write([]byte("lost down"))
		require.NoError(t, err, "a server write after a blackhole must succeed")
	}
	n, err := readUntilErr(server, silence)
	assert.True(t, isTimeout(err), "server end: want silence, got %v", err)
	assert.Zero(t, n, "bytes reached the server through a blackhole")
	n, err = readUntilErr(client, silence)
	assert.True(t, isTimeout(err), "client end: want silence, got %v", err)
	assert.Zero(t, n, "bytes reached the client through a blackhole")
	assert.Equal(t, 1, c.Expiries().Len())
}

func TestBlackholeResetsEachEndOnItsNextPacket(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	nlb := idle("nlb", middlebox.Both, middlebox.Blackhole)
	nlb.ResetOnNextPacket = true
	c := newChain(t, tg, []middlebox.Spec{nlb}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)
	waitExpiries(t, c, 1)

	// The client sends first: only the client is reset.
	_, err := client.Write([]byte("hello?"))
	require.NoError(t, err)
	_, err = readUntilErr(client, lateBound)
	assert.True(t, isReset(err), "client end: want ECONNRESET on its next packet, got %v", err)
	n, err := readUntilErr(server, silence)
	assert.True(t, isTimeout(err), "server end must hear nothing until it sends, got %v", err)
	assert.Zero(t, n)

	// Then the server sends: now it is reset too.
	_, err = server.Write([]byte("message"))
	require.NoError(t, err)
	_, err = readUntilErr(server, lateBound)
	assert.True(t, isReset(err), "server end: want ECONNRESET on its next packet, got %v", err)
}

// TestIdleWatchedDirections: traffic in a watched direction postpones expiry,
// traffic in an unwatched one does not.
func TestIdleWatchedDirections(t *testing.T) {
	cases := []struct {
		watches   middlebox.Direction
		traffic   dir
		postpones bool
	}{
		{middlebox.Up, up, true},
		{middlebox.Up, down, false},
		{middlebox.Down, down, true},
		{middlebox.Down, up, false},
		{middlebox.Both, up, true},
		{middlebox.Both, down, true},
	}
	for _, tc := range cases {
		t.Run("watches_"+string(tc.watches)+"_traffic_"+tc.traffic.String(), func(t *testing.T) {
			leakCheck(t)
			tg := startTarget(t)
			c := newChain(t, tg, []middlebox.Spec{idle("box", tc.watches, middlebox.Close)}, Options{})
			client, server := connect(t, c, tg)
			from, to := client, server
			if tc.traffic == down {
				from, to = server, client
			}
			// A byte every 50 ms (a sixth of the timeout) for 3 timeouts.
			const every, runFor = 50 * time.Millisecond, 3 * scaledT
			tick := time.NewTicker(every)
			defer tick.Stop()
			start := time.Now()
			for time.Since(start) < runFor {
				<-tick.C
				if !tc.postpones && c.Expiries().Len() > 0 {
					break
				}
				if tc.postpones {
					send(t, from, to, "x")
				} else {
					_, _ = from.Write([]byte("x")) // may race the expiry
				}
			}
			if tc.postpones {
				assert.Zero(t, c.Expiries().Len(), "expired despite traffic in a watched direction")
				recs := waitExpiries(t, c, 1) // once traffic stops, it expires
				assert.GreaterOrEqual(t, recs[0].Idle, scaledT)
				assert.GreaterOrEqual(t, recs[0].Age, runFor)
				return
			}
			recs := c.Expiries().Records()
			require.Len(t, recs, 1, "did not expire although only unwatched traffic flowed for %v", runFor)
			assert.GreaterOrEqual(t, recs[0].Idle, scaledT)
			assert.Less(t, recs[0].Age, runFor, "expiry came only after the traffic stopped")
			// EOF, or an RST when the client wrote after the FIN (see the lifetime test).
			_, err := readUntilErr(client, lateBound)
			assert.True(t, errors.Is(err, io.EOF) || isReset(err), "client end: want EOF or ECONNRESET, got %v", err)
		})
	}
}

func TestLifetimeFiresAtAgeDespiteTraffic(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	gcp := middlebox.Spec{Name: "gcp-lb", Kind: middlebox.KindLifetime, Timeout: testTimeout, AtExpiry: middlebox.Close}
	c := newChain(t, tg, []middlebox.Spec{gcp}, Options{})
	client, server := connect(t, c, tg)

	// Traffic both ways every 50 ms until the connection ends.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	passed := 0
	for time.Since(start) < lateBound && c.Expiries().Len() == 0 {
		<-tick.C
		if _, err := client.Write([]byte("u")); err != nil {
			break
		}
		if _, err := server.Write([]byte("d")); err != nil {
			break
		}
		passed++
	}
	assert.Greater(t, passed, 2, "traffic did not flow before the lifetime expired")
	recs := waitExpiries(t, c, 1)
	r := recs[0]
	assert.Equal(t, middlebox.KindLifetime, r.Kind)
	assert.Equal(t, "gcp-lb", r.Hop)
	assert.GreaterOrEqual(t, r.Age, scaledT)
	assert.Less(t, r.Age, 2*scaledT)
	assert.Equal(t, r.Age, r.Idle)
	assert.Less(t, r.Age-(time.Duration(passed)*50*time.Millisecond), scaledT, "traffic stopped long before expiry")

	// The box sends FINs, but an end that kept writing after the FIN arrived is
	// answered with an RST by the proxy's kernel (as by nginx's): either ends it.
	for name, end := range map[string]net.Conn{"client": client, "server": server} {
		_, err := readUntilErr(end, lateBound)
		assert.True(t, errors.Is(err, io.EOF) || isReset(err), "%s end: want EOF or ECONNRESET, got %v", name, err)
	}
}

func TestTwoHopsFirstToExpireWins(t *testing.T) {
	slow := 3 * testTimeout // 900 ms scaled
	slowScaled := 3 * scaledT
	t.Run("inner_first", func(t *testing.T) {
		leakCheck(t)
		tg := startTarget(t)
		outer := idle("outer", middlebox.Both, middlebox.Close)
		outer.Timeout = slow
		inner := idle("inner", middlebox.Both, middlebox.Reset)
		c := newChain(t, tg, []middlebox.Spec{outer, inner}, Options{})
		require.Len(t, c.Hops(), 2)
		client, server := connect(t, c, tg)
		roundTrip(t, client, server)

		recs := waitExpiries(t, c, 1)
		assert.Equal(t, "inner", recs[0].Hop)
		assert.Equal(t, 1, recs[0].HopIndex)
		_, err := readUntilErr(server, lateBound)
		assert.True(t, isReset(err), "server end: the inner hop resets it, got %v", err)
		// The outer hop is a proxy: it sees its upstream reset and closes its client.
		_, err = readUntilErr(client, lateBound)
		assert.ErrorIs(t, err, io.EOF, "client end")

		// The outer timer must have stopped with its connection.
		ctx, cancel := context.WithTimeout(context.Background(), slowScaled+silence)
		defer cancel()
		got, err := c.Expiries().Wait(ctx, 2)
		assert.Error(t, err, "a second expiry was recorded: %v", got)
		assert.Len(t, got, 1)
	})
	t.Run("outer_first", func(t *testing.T) {
		leakCheck(t)
		tg := startTarget(t)
		outer := idle("outer", middlebox.Both, middlebox.Close)
		inner := idle("inner", middlebox.Both, middlebox.Close)
		inner.Timeout = slow
		c := newChain(t, tg, []middlebox.Spec{outer, inner}, Options{})
		client, server := connect(t, c, tg)
		roundTrip(t, client, server)

		recs := waitExpiries(t, c, 1)
		assert.Equal(t, "outer", recs[0].Hop)
		assert.Equal(t, 0, recs[0].HopIndex)
		_, err := readUntilErr(client, lateBound)
		assert.ErrorIs(t, err, io.EOF, "client end")
		_, err = readUntilErr(server, lateBound)
		assert.ErrorIs(t, err, io.EOF, "server end")

		ctx, cancel := context.WithTimeout(context.Background(), slowScaled+silence)
		defer cancel()
		got, err := c.Expiries().Wait(ctx, 2)
		assert.Error(t, err, "a second expiry was recorded: %v", got)
	})
}

// TestDirectionsPairPerConnection: with three concurrent connections, downstream
// traffic on the second keeps only the second alive, so each connection's two
// directions share one timer, not a neighbour's.
func TestDirectionsPairPerConnection(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("box", middlebox.Both, middlebox.Close)}, Options{})
	var clients, servers [3]net.Conn
	for i := range clients {
		clients[i], servers[i] = connect(t, c, tg)
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	for time.Since(start) < 3*scaledT {
		<-tick.C
		send(t, servers[1], clients[1], "x")
	}
	recs := c.Expiries().Records()
	require.Len(t, recs, 2, "records: %v", recs)
	assert.ElementsMatch(t, []uint64{1, 3}, []uint64{recs[0].Conn, recs[1].Conn})
	for _, i := range []int{0, 2} {
		_, err := readUntilErr(clients[i], lateBound)
		assert.ErrorIs(t, err, io.EOF, "client %d", i)
	}
	recs = waitExpiries(t, c, 3)
	assert.Equal(t, uint64(2), recs[2].Conn)
}

func TestOrderlyCloseBeforeExpiryStopsTimer(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("box", middlebox.Both, middlebox.Close)}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)
	require.NoError(t, client.Close())
	_, err := readUntilErr(server, lateBound)
	assert.ErrorIs(t, err, io.EOF, "server end sees the client's close")

	ctx, cancel := context.WithTimeout(context.Background(), 2*scaledT)
	defer cancel()
	got, err := c.Expiries().Wait(ctx, 1)
	assert.Error(t, err, "a closed connection expired: %v", got)
}

func TestCloseReleasesBlackholedConnections(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c, err := NewChain(tg.addr(), []middlebox.Spec{idle("nat", middlebox.Both, middlebox.Blackhole)}, testScale, Options{})
	require.NoError(t, err)
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)
	waitExpiries(t, c, 1)
	require.NoError(t, client.Close()) // the client's FIN vanishes in the blackhole
	n, err := readUntilErr(server, silence)
	require.True(t, isTimeout(err), "server end heard of the client's close through a blackhole: %v", err)
	require.Zero(t, n)

	require.NoError(t, c.Close())
	_, err = readUntilErr(server, lateBound)
	assert.Error(t, err, "server end still open after Close")
	assert.False(t, isTimeout(err), "server end still open after Close")
	assert.NoError(t, c.Close(), "a second Close returns the first result")
}

// TestResetHopTurnsOrderlyCloseIntoRST pins the documented price of SO_LINGER 0
// (toxic.go): on a hop whose expiry resets, an end's own close before expiry
// reaches the other end as an RST, not a FIN. On a closing hop it stays a FIN.
func TestResetHopTurnsOrderlyCloseIntoRST(t *testing.T) {
	for _, tc := range []struct {
		at    middlebox.Expiry
		reset bool
	}{{middlebox.Reset, true}, {middlebox.Close, false}} {
		t.Run(string(tc.at), func(t *testing.T) {
			leakCheck(t)
			tg := startTarget(t)
			c := newChain(t, tg, []middlebox.Spec{idle("box", middlebox.Both, tc.at)}, Options{})
			client, server := connect(t, c, tg)
			roundTrip(t, client, server)
			require.NoError(t, client.Close())
			_, err := readUntilErr(server, lateBound)
			if tc.reset {
				assert.True(t, isReset(err), "server end: want ECONNRESET, got %v", err)
			} else {
				assert.ErrorIs(t, err, io.EOF, "server end")
			}
			assert.Zero(t, c.Expiries().Len())
		})
	}
}

// TestInterruptedPipeKeepsItsConnectionState: adding a toxic to a live proxy
// interrupts the timer toxic's pipes (ToxicLink.AddToxic) and runs them again on the
// same stub; data keeps flowing in order and the connection keeps its one timer.
func TestInterruptedPipeKeepsItsConnectionState(t *testing.T) {
	leakCheck(t)
	tg := startTarget(t)
	c := newChain(t, tg, []middlebox.Spec{idle("box", middlebox.Both, middlebox.Close)}, Options{})
	client, server := connect(t, c, tg)
	roundTrip(t, client, server)
	for _, stream := range []string{"upstream", "downstream"} {
		body, err := json.Marshal(toxicJSON{Name: "latency_" + stream, Type: "latency", Stream: stream, Toxicity: 1,
			Attributes: map[string]any{"latency": 1}})
		require.NoError(t, err)
		_, err = c.proxies[0].Toxics.AddToxicJson(bytes.NewReader(body))
		require.NoError(t, err)
	}
	for i := range 3 {
		send(t, client, server, fmt.Sprintf("up %d", i))
		send(t, server, client, fmt.Sprintf("down %d", i))
	}
	recs := waitExpiries(t, c, 1)
	assert.Equal(t, uint64(1), recs[0].Conn)
	_, err := readUntilErr(client, lateBound)
	assert.ErrorIs(t, err, io.EOF, "client end")
	_, err = readUntilErr(server, lateBound)
	assert.ErrorIs(t, err, io.EOF, "server end")
	assert.Equal(t, 1, c.Expiries().Len())
}
