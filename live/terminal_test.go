package live

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim/mockwa"
)

// A stored device whose login the server refuses for good (401 logged out, 402
// temporary ban) is reported and removed at once: one connect, no retry loop, no
// new pairing; the process stays up and healthy but not ready. A logged-out device
// also leaves the store; a banned one stays for when the ban ends.
func TestRefusedLoginRemovesAccountWithoutRetry(t *testing.T) {
	for _, tc := range []struct {
		reason     int
		label      string
		storeAfter int
	}{
		{401, "logged_out", 0},
		{402, "banned", 1},
	} {
		t.Run(fmt.Sprint(tc.reason), func(t *testing.T) {
			srv := startMock(t)
			db := filepath.Join(t.TempDir(), "kalab.db")
			run := startLive(t, srv, db, nil)
			jid, sess := run.pair(t, srv)
			run.stop(t)

			require.NoError(t, srv.Inject(jid, mockwa.FailLogin(tc.reason)))
			before := sess.Counters()
			run = startLive(t, srv, db, nil)
			ctx := ctxT(t)
			require.NoError(t, run.logs.waitCount(ctx, LogAccountRemoved, 1), "logs:\n%s", run.logs.String())
			assert.Contains(t, run.logs.String(), "reason="+tc.label)
			assert.Equal(t, before.LoginFailures+1, sess.Counters().LoginFailures)
			assert.Empty(t, run.r.Accounts())
			addr := run.r.Addr()
			code, _ := httpGet(t, addr, "/healthz")
			assert.Equal(t, 200, code)
			code, _ = httpGet(t, addr, "/readyz")
			assert.Equal(t, 503, code, "no account connected: not ready")
			_, metrics := httpGet(t, addr, "/metrics")
			assert.Equal(t, 1.0, metricValue(metrics, MetricAccountsRemoved+`{reason="`+tc.label+`"}`))
			assert.Empty(t, run.qr, "no pairing starts by itself")
			run.alive(t)
			run.stop(t)
			assert.Equal(t, before.Connects+1, sess.Counters().Connects, "never reconnected")

			c, err := OpenStore(context.Background(), db, nil)
			require.NoError(t, err)
			devs, err := c.GetAllDevices(context.Background())
			require.NoError(t, err)
			require.NoError(t, c.Close())
			assert.Len(t, devs, tc.storeAfter)
		})
	}
}
