package middlebox

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCatalogMatchesFacts pins every catalog entry to the numbers of FACTS.md §1.
func TestCatalogMatchesFacts(t *testing.T) {
	type want struct {
		kind    Kind
		timeout time.Duration
		watches Direction
		expiry  Expiry
		rst     bool
		source  string // a fragment the Source must contain
	}
	facts := map[string]want{
		"nginx":             {KindIdle, 60 * time.Second, Both, Close, false, "ngx_http_upstream_process_upgraded"},
		"nginx-send":        {KindNone, 60 * time.Second, "", Close, false, "ngx_http_upstream.c"},
		"cloudflare":        {KindIdle, 100 * time.Second, Both, Close, false, "connection-limits"},
		"aws-alb":           {KindIdle, 60 * time.Second, Both, Close, false, "edit-load-balancer-attributes"},
		"aws-nlb":           {KindIdle, 350 * time.Second, Both, Blackhole, true, "update-idle-timeout"},
		"azure-lb":          {KindIdle, 4 * time.Minute, Both, Blackhole, false, "load-balancer-tcp-idle-timeout.md"},
		"azure-lb-reset":    {KindIdle, 4 * time.Minute, Both, Reset, false, "load-balancer-tcp-reset.md"},
		"gcp-lb":            {KindLifetime, 30 * time.Second, "", Close, false, "ingress-gce"},
		"gcp-cloud-nat":     {KindIdle, 1200 * time.Second, Both, Blackhole, false, "Cloud NAT"},
		"heroku":            {KindIdle, 55 * time.Second, Both, Close, false, "http-routing"},
		"docker-swarm":      {KindIdle, 900 * time.Second, Both, Blackhole, false, "moby/moby #31208"},
		"linux-conntrack":   {KindIdle, 432000 * time.Second, Both, Blackhole, false, "nf_conntrack-sysctl"},
		"kube-proxy":        {KindIdle, 24 * time.Hour, Both, Blackhole, false, "conntrack-tcp-timeout-established"},
		"haproxy":           {KindNone, 0, "", Close, false, "configuration.txt"},
		"traefik":           {KindNone, 0, "", "", false, "traefik/traefik #8668"},
		"caddy":             {KindNone, 0, "", Close, false, "reverse_proxy"},
		"residential-proxy": {KindIdle, 10 * time.Second, Both, Close, false, "waha #2167"},
		"geonode":           {KindIdle, 60 * time.Second, Both, Close, false, "waha #751"},
		"rfc5382-nat":       {KindIdle, 2*time.Hour + 4*time.Minute, Both, Blackhole, false, "RFC 5382"},
	}
	names := Names()
	require.Len(t, names, len(facts), "catalog and FACTS.md §1 list the same profiles")
	for name, w := range facts {
		s, ok := Lookup(name)
		require.True(t, ok, "catalog lacks %q", name)
		assert.Equal(t, name, s.Name)
		assert.Equal(t, w.kind, s.Kind, name)
		assert.Equal(t, w.timeout, s.Timeout, name)
		assert.Equal(t, w.watches, s.Watches, name)
		assert.Equal(t, w.expiry, s.AtExpiry, name)
		assert.Equal(t, w.rst, s.ResetOnNextPacket, name)
		assert.Contains(t, s.Source, w.source, name)
		assert.NotEmpty(t, s.Description, name)
		assert.NoError(t, s.Validate(), name)
	}
}

func TestNamesSortedAndCatalogConsistent(t *testing.T) {
	names := Names()
	assert.True(t, slices.IsSorted(names))
	specs := Catalog()
	require.Len(t, specs, len(names))
	for i, s := range specs {
		assert.Equal(t, names[i], s.Name)
	}
	_, ok := Lookup("no-such-box")
	assert.False(t, ok)
}

func TestLookupReturnsCopy(t *testing.T) {
	s, _ := Lookup("nginx")
	s.Timeout = time.Hour
	again, _ := Lookup("nginx")
	assert.Equal(t, 60*time.Second, again.Timeout, "mutating a looked-up spec must not change the catalog")
}

func TestClosest(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"ngnix", "nginx", true},
		{"nginx", "nginx", true},
		{"aws-nbl", "aws-nlb", true},
		{"cloudflair", "cloudflare", true},
		{"docker", "docker-swarm", true},
		{"residential", "residential-proxy", true},
		{"azure-lb-rst", "azure-lb-reset", true},
		{"zzzzzzzzzzzz", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		got, ok := Closest(c.in)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}

func TestEditDistance(t *testing.T) {
	assert.Equal(t, 0, editDistance("abc", "abc"))
	assert.Equal(t, 3, editDistance("", "abc"))
	assert.Equal(t, 2, editDistance("ngnix", "nginx"))
	assert.Equal(t, 3, editDistance("kitten", "sitting"))
}

func TestClosestOfAnyCandidates(t *testing.T) {
	cands := []string{"jitter", "rtt", "true_uptime", "zombie_time"}
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"jiter", "jitter", true},                  // one edit
		{"uptime", "true_uptime", true},            // too far by edits, but contained
		{"up", "", false},                          // too short for containment
		{"connect_timeout", "", false},             // nothing near
		{"", "", false},                            // empty name
		{"rtt", "rtt", true},                       // exact
		{"true_uptime_ratio", "true_uptime", true}, // contains a candidate
	}
	for _, c := range cases {
		got, ok := ClosestOf(c.in, cands)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	_, ok := ClosestOf("nginx", nil)
	assert.False(t, ok, "no candidates")
}
