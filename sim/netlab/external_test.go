package netlab

import (
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// TestExternalSupportOverCatalog: on a stock toxiproxy-server exactly the catalog
// profiles without a timer can be realised.
func TestExternalSupportOverCatalog(t *testing.T) {
	var ok, refused []string
	for _, s := range middlebox.Catalog() {
		if err := ExternalSupport(s); err != nil {
			refused = append(refused, s.Name)
			switch s.Kind {
			case middlebox.KindIdle:
				assert.Contains(t, err.Error(), "idle timer that passes data through", s.Name)
			case middlebox.KindLifetime:
				assert.Contains(t, err.Error(), "lifetime timer", s.Name)
			default:
				assert.Fail(t, "refused a profile without a timer", s.Name)
			}
			continue
		}
		ok = append(ok, s.Name)
		assert.Equal(t, middlebox.KindNone, s.Kind, s.Name)
	}
	assert.NotEmpty(t, ok)
	assert.NotEmpty(t, refused)
	t.Logf("realisable on an external toxiproxy-server: %s", strings.Join(ok, ", "))
	t.Logf("refused there: %s", strings.Join(refused, ", "))
}

func TestExternalChainRefusesTimersBeforeContactingServer(t *testing.T) {
	nginx, ok := middlebox.Lookup("nginx")
	require.True(t, ok)
	gcp := middlebox.Spec{Name: "gcp-lb", Kind: middlebox.KindLifetime, Timeout: 30 * time.Second, AtExpiry: middlebox.Close}
	nat := idle("nat", middlebox.Both, middlebox.Blackhole)
	path := []middlebox.Spec{{Name: "traefik", Kind: middlebox.KindNone}, nginx, gcp, nat}
	// Nothing listens on port 1: a refusal must come before any API call.
	_, err := NewExternalChain("127.0.0.1:1", "127.0.0.1:2", path, 0, ExternalOptions{})
	require.Error(t, err)
	msg := err.Error()
	assert.NotContains(t, msg, "traefik")
	assert.Contains(t, msg, "path[1] (nginx) cannot run on an external toxiproxy-server")
	assert.Contains(t, msg, "watching both, close at expiry")
	assert.Contains(t, msg, "path[2] (gcp-lb)")
	assert.Contains(t, msg, "path[3] (nat)")
	assert.Contains(t, msg, "blackhole at expiry")
	assert.Contains(t, msg, "use the embedded chain")
	assert.NotContains(t, msg, "connection refused", "the API was contacted")

	_, err = NewExternalChain("", "127.0.0.1:2", nil, 0, ExternalOptions{})
	assert.ErrorContains(t, err, "API address")
}

// startToxiproxyServer builds Toxiproxy's own server (a main package in the module
// cache) into a temporary directory and runs it on 127.0.0.1; the test is skipped
// when it cannot be built.
func startToxiproxyServer(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go tool to build toxiproxy-server: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "toxiproxy-server")
	build := exec.Command(goBin, "build", "-o", bin, "github.com/Shopify/toxiproxy/v2/cmd/server")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build toxiproxy-server (%v): %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	api := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	srv := exec.Command(bin, "-host", "127.0.0.1", "-port", strconv.Itoa(port))
	require.NoError(t, srv.Start())
	t.Cleanup(func() {
		_ = srv.Process.Kill()
		_ = srv.Wait()
	})
	// Ready when the API answers; bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := toxiclient.NewClient(api).Proxies(); err == nil {
			return api
		}
		select {
		case <-ctx.Done():
			require.FailNow(t, "toxiproxy-server did not answer on "+api)
		case <-tick.C:
		}
	}
}

func TestExternalChainOnRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs toxiproxy-server")
	}
	leakCheck(t) // registered first: runs after the server is killed
	api := startToxiproxyServer(t)
	tg := startTarget(t)
	path := []middlebox.Spec{{Name: "traefik", Kind: middlebox.KindNone}, {Name: "caddy", Kind: middlebox.KindNone}}
	c, err := NewExternalChain(api, tg.addr(), path, testScale, ExternalOptions{Network: Network{RTT: 10 * time.Second}})
	require.NoError(t, err)
	hops := c.Hops()
	require.Len(t, hops, 2)
	assert.Equal(t, hops[1].Listen, hops[0].Upstream)
	assert.Equal(t, tg.addr(), hops[1].Upstream)

	proxies, err := toxiclient.NewClient(api).Proxies()
	require.NoError(t, err)
	var ours []string
	for name, p := range proxies {
		if strings.HasPrefix(name, "kalab-") {
			ours = append(ours, name)
			if strings.HasSuffix(name, "hop0-traefik") {
				var types []string
				for _, tx := range p.ActiveToxics {
					types = append(types, tx.Type+"/"+tx.Stream)
				}
				assert.ElementsMatch(t, []string{"latency/upstream", "latency/downstream"}, types)
			}
		}
	}
	assert.Len(t, ours, 2)

	client, err := net.DialTimeout("tcp", c.Addr(), lateBound)
	require.NoError(t, err)
	defer client.Close()
	server := tg.accept(t)
	start := time.Now()
	roundTrip(t, client, server)
	assert.GreaterOrEqual(t, time.Since(start), 95*time.Millisecond, "latency toxic not applied")

	require.NoError(t, c.Close())
	proxies, err = toxiclient.NewClient(api).Proxies()
	require.NoError(t, err)
	for name := range proxies {
		assert.False(t, strings.HasPrefix(name, "kalab-"), "proxy %s left on the server", name)
	}
	_, err = readUntilErr(client, lateBound)
	assert.Error(t, err)
	assert.False(t, isTimeout(err), "connection survived the proxy's deletion")

	// A refused path creates nothing on the server.
	_, err = NewExternalChain(api, tg.addr(), []middlebox.Spec{idle("alb", middlebox.Both, middlebox.Close)}, testScale, ExternalOptions{})
	require.ErrorContains(t, err, "path[0] (alb) cannot run on an external toxiproxy-server")
	proxies, err = toxiclient.NewClient(api).Proxies()
	require.NoError(t, err)
	assert.Empty(t, proxies)
}
