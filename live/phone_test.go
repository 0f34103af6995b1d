package live

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The mock server does not implement phone-code pairing (link_code_companion_reg),
// so this test covers what can be covered: the request is made over the real
// pairing connection, its failure is reported and retried (not fatal), and the
// phone number never reaches the logs, whatever its formatting.
func TestPairPhoneFailureIsReportedAndRedacted(t *testing.T) {
	srv := startMock(t)
	db := filepath.Join(t.TempDir(), "kalab.db")
	run := startLive(t, srv, db, func(o *Options) {
		o.PairPhone = "+1 (555) 012-3456"
		o.LogLevel = "debug"
	})
	ctx := ctxT(t)
	require.NoError(t, run.logs.waitCount(ctx, "pairing failed; trying again", 1))
	run.alive(t)
	run.stop(t)
	logs := run.logs.String()
	assert.Contains(t, logs, "pairing by phone code")
	assert.Contains(t, logs, "request a phone pairing code")
	for _, s := range []string{"5550123456", "555) 012-3456", "012-3456", "15550123456"} {
		assert.False(t, strings.Contains(logs, s), "%q in the logs", s)
	}
	assert.Empty(t, run.r.Accounts())
}
