package mockwa

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.uber.org/goleak"
)

// keepAliveDeadline is whatsmeow's ping reply deadline in this test process;
// process-global, so set once before any client starts.
const keepAliveDeadline = 750 * time.Millisecond

func TestMain(m *testing.M) {
	whatsmeow.KeepAliveResponseDeadline = keepAliveDeadline
	TrustProcessRoot()
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives as long as a *sql.DB.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
	)
	os.Exit(0)
}

// waitTimeout bounds every wait on an event in these tests.
const waitTimeout = 20 * time.Second

func startServer(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recorder collects a client's whatsmeow events into a channel.
type recorder struct {
	mu  sync.Mutex
	all []any
	ch  chan any
}

func newRecorder() *recorder { return &recorder{ch: make(chan any, 4096)} }

func (r *recorder) handle(evt any) {
	r.mu.Lock()
	r.all = append(r.all, evt)
	r.mu.Unlock()
	select {
	case r.ch <- evt:
	default:
	}
}

// waitFor returns the first event (from now on) for which match is true.
func waitFor[T any](t testing.TB, r *recorder, match func(T) bool) T {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		select {
		case evt := <-r.ch:
			if v, ok := evt.(T); ok && (match == nil || match(v)) {
				return v
			}
		case <-timer.C:
			var zero T
			t.Fatalf("timed out after %v waiting for %T", waitTimeout, zero)
			return zero
		}
	}
}

func newTestClient(t testing.TB, s *Server, cfg ClientConfig) (*Client, *recorder) {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = s.Addr()
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := NewClient(ctx, cfg)
	require.NoError(t, err)
	rec := newRecorder()
	c.AddEventHandler(rec.handle)
	t.Cleanup(func() { _ = c.Close() })
	return c, rec
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}
