package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
)

func TestParseClient(t *testing.T) {
	c, err := ParseClient("live.yaml", []byte("preset: kalab\nconfig: {interval: 45s}\n"))
	require.NoError(t, err)
	assert.Equal(t, "kalab", c.Preset)
	assert.Equal(t, 45*time.Second, c.Config.Interval)

	c, err = ParseClient("live.yaml", []byte("config: {strategy: presence, interval: 20s}\n"))
	require.NoError(t, err)
	assert.Equal(t, keepalive.StrategyPresence, c.Config.Strategy)
	assert.Equal(t, "config", c.Name)

	c, err = ParseClient("live.yaml", []byte("whatsmeow\n"))
	require.NoError(t, err)
	want, _ := keepalive.Preset("whatsmeow")
	assert.Equal(t, want, c.Config)
}

func TestParseClientErrors(t *testing.T) {
	for _, tc := range []struct{ data, want string }{
		{"", "live.yaml: empty file"},
		{"preset: whatsmeo\n", `live.yaml:1: preset: unknown preset "whatsmeo" (did you mean "whatsmeow"?)`},
		{"config:\n  intervall: 3s\n", `live.yaml:2: config.intervall: unknown field (did you mean "interval"?)`},
		{"config: {interval: 3}\n", "live.yaml:1: config.interval:"},
		{"preset: kalab\n---\npreset: seed\n", "more than one YAML document"},
		{"[1, 2]\n", "live.yaml:1: expected a mapping"},
	} {
		_, err := ParseClient("live.yaml", []byte(tc.data))
		if assert.Error(t, err, tc.data) {
			assert.Contains(t, err.Error(), tc.want, tc.data)
		}
	}
}
