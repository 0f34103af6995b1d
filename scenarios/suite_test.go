package scenarios

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSuite checks the built-in suite: it loads, holds the scenarios the issue
// asks for, and every scenario compares the six presets with expectations.
func TestSuite(t *testing.T) {
	ss, err := Suite()
	require.NoError(t, err)
	names := map[string]Scenario{}
	for _, s := range ss {
		names[s.Name] = s
	}
	for _, want := range []string{
		"nginx", "cloudflare", "aws-alb", "aws-nlb", "azure-lb", "gcp-lb", "docker-swarm",
		"residential-proxy-10s", "rfc5382-nat", "easypanel",
		"fault-restart", "fault-515", "fault-partition", "fault-logout", "fault-latency-spike",
	} {
		assert.Contains(t, names, want)
	}
	presets := []string{"seed", "whatsmeow", "baileys", "mars", "grpc", "kalab"}
	for _, s := range ss {
		var clients []string
		expectations := 0
		for _, c := range s.Clients {
			clients = append(clients, c.Name)
			expectations += len(c.Expect)
		}
		for _, p := range presets {
			assert.True(t, slices.Contains(clients, p), "%s lacks preset %s", s.Name, p)
		}
		assert.Positive(t, expectations, "%s states no expectation", s.Name)
		assert.NotEmpty(t, s.Description, s.Name)
		assert.Regexp(t, `^suite/[a-z0-9-]+\.yaml$`, s.File)
	}
	// The facts the issue names are stated as expectations.
	assertExpect(t, names["residential-proxy-10s"], "whatsmeow", "disconnects_per_day >= 1000")
	assertExpect(t, names["aws-nlb"], "presence-6m", "zombie_time >= 5m")
	assertExpect(t, names["aws-nlb-partition"], "seed", "zombie_time >= 20m")
	for _, n := range []string{"nginx", "cloudflare", "aws-alb", "aws-nlb", "azure-lb", "docker-swarm", "residential-proxy-10s", "residential-proxy-15s", "rfc5382-nat", "easypanel"} {
		assertExpect(t, names[n], "kalab", "true_uptime >= 99.9%")
	}
}

func assertExpect(t *testing.T, s Scenario, client, text string) {
	t.Helper()
	for _, c := range s.Clients {
		if c.Name != client {
			continue
		}
		for _, e := range c.Expect {
			if e.Text == text {
				return
			}
		}
	}
	t.Errorf("scenario %q: client %q lacks expectation %q", s.Name, client, text)
}

func TestSuiteFileTypo(t *testing.T) {
	_, err := SuiteFile("cloudflair")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `did you mean "cloudflare"?`)
	assert.Contains(t, SuiteNames(), "faults")
}
