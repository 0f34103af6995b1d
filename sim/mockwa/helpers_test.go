package mockwa

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types/events"
	waLog "go.mau.fi/whatsmeow/util/log"
	"go.uber.org/goleak"
)

// keepAliveDeadline is whatsmeow's ping reply deadline in this test process;
// process-global, so set once before any client starts.
const keepAliveDeadline = 750 * time.Millisecond

func TestMain(m *testing.M) {
	if os.Getenv("KALAB_MOCK_1000") == "" {
		// The 1,000-client run keeps whatsmeow's real 10 s deadline.
		whatsmeow.KeepAliveResponseDeadline = keepAliveDeadline
	}
	TrustProcessRoot()
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives as long as a *sql.DB.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// whatsmeow's frame reader can block forever handing a frame to a
		// noise socket that Disconnect already stopped (client side, not ours).
		goleak.IgnoreTopFunction("go.mau.fi/whatsmeow/socket.(*FrameSocket).frameComplete"),
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
	mu        sync.Mutex
	all       []any
	ch        chan any
	pump      *pumpLogger
	connected chan struct{} // receives once per Connected event (buffered)
}

func newRecorder() *recorder {
	return &recorder{ch: make(chan any, 4096), pump: newPumpLogger(), connected: make(chan struct{}, 16)}
}

func (r *recorder) handle(evt any) {
	if _, ok := evt.(*events.Connected); ok {
		select {
		case r.connected <- struct{}{}:
		default:
		}
	}
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
	rec := newRecorder()
	if cfg.Log == nil {
		cfg.Log = rec.pump
	}
	c, err := NewClient(ctx, cfg)
	require.NoError(t, err)
	c.AddEventHandler(rec.handle)
	t.Cleanup(func() { _ = c.Close() })
	return c, rec
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// pumpLogger is a whatsmeow logger that signals when the client has handled
// a remote close (its onDisconnect ran). whatsmeow touches some socket fields
// without a lock while handling a remote close, so a test must not call
// Disconnect until then, or the race detector objects to whatsmeow's code.
type pumpLogger struct{ exited chan struct{} }

func newPumpLogger() *pumpLogger { return &pumpLogger{exited: make(chan struct{}, 64)} }

func (l *pumpLogger) Warnf(string, ...any)  {}
func (l *pumpLogger) Errorf(string, ...any) {}
func (l *pumpLogger) Infof(string, ...any)  {}
func (l *pumpLogger) Debugf(msg string, _ ...any) {
	// Logged by Client.onDisconnect while it holds the socket lock.
	if strings.HasPrefix(msg, "Emitting Disconnected event") || strings.HasPrefix(msg, "OnDisconnect() called") {
		select {
		case l.exited <- struct{}{}:
		default:
		}
	}
}
func (l *pumpLogger) Sub(string) waLog.Logger { return l }

// waitReaderExit waits until the client has handled a remote close.
func waitReaderExit(t testing.TB, l *pumpLogger) {
	t.Helper()
	select {
	case <-l.exited:
	case <-time.After(waitTimeout):
		t.Fatalf("client did not handle the remote close within %v", waitTimeout)
	}
}
