package wa

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

func TestMain(m *testing.M) {
	// Process-global whatsmeow knobs: once, before any client starts.
	DisableBuiltinKeepAlive()
	mockwa.TrustProcessRoot()
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives as long as a *sql.DB.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// whatsmeow leak: NoiseSocket.Stop stops the frame consumer before closing
		// the FrameSocket, so a frame that arrives in between blocks readPump on an
		// unbuffered channel forever (socket/noisesocket.go, framesocket.go).
		goleak.IgnoreTopFunction("go.mau.fi/whatsmeow/socket.(*FrameSocket).frameComplete"),
	)
	os.Exit(0)
}

// waitTimeout bounds every wait on a condition in these tests (not a timing
// assertion: a healthy run finishes far earlier).
const waitTimeout = 30 * time.Second

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func startMock(t testing.TB, cfg mockwa.Config) *mockwa.Server {
	t.Helper()
	s, err := mockwa.New(cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// recNotifier forwards to an engine and records every notification.
type recNotifier struct {
	eng *keepalive.Engine
	mu  sync.Mutex
	evs []keepalive.Event
	ch  chan struct{}
}

func newRecNotifier() *recNotifier { return &recNotifier{ch: make(chan struct{})} }

func (r *recNotifier) Notify(id string, ev keepalive.Event) error {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	close(r.ch)
	r.ch = make(chan struct{})
	eng := r.eng
	r.mu.Unlock()
	if eng == nil {
		return errors.New("no engine")
	}
	return eng.Notify(id, ev)
}

// wait blocks until cond holds over the recorded events.
func (r *recNotifier) wait(ctx context.Context, cond func([]keepalive.Event) bool) error {
	for {
		r.mu.Lock()
		ok := cond(r.evs)
		ch := r.ch
		r.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (r *recNotifier) count(kind keepalive.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// countingConn counts Connect calls the engine made.
type countingConn struct {
	*Conn
	mu       sync.Mutex
	connects int
}

func (c *countingConn) Connect(ctx context.Context) error {
	c.mu.Lock()
	c.connects++
	c.mu.Unlock()
	return c.Conn.Connect(ctx)
}

func (c *countingConn) Connects() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connects
}

// rig is one engine-driven whatsmeow client against a mock server.
type rig struct {
	srv  *mockwa.Server
	cli  *mockwa.Client
	conn *countingConn
	note *recNotifier
	eng  *keepalive.Engine
	sess *mockwa.Session
	id   string
}

// newRig builds the client and adapter, starts an engine with cfg and waits for
// the first login at the mock.
func newRig(t *testing.T, srv *mockwa.Server, cfg keepalive.Config) *rig {
	t.Helper()
	return newRigClock(t, srv, cfg, nil)
}

// newRigClock is newRig with the engine on clk (nil: the real clock).
func newRigClock(t *testing.T, srv *mockwa.Server, cfg keepalive.Config, clk clockwork.Clock) *rig {
	t.Helper()
	ctx := ctxT(t)
	tap := NewTap(nil)
	var conn *Conn
	mc, err := mockwa.NewClient(ctx, mockwa.ClientConfig{Addr: srv.Addr(), Log: tap})
	require.NoError(t, err)
	// Our own dialer, so the adapter can see resets on the socket.
	addr := srv.Addr()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		return conn.TrackConn(nc), nil
	}
	mc.SetWebsocketHTTPClient(&http.Client{Transport: &http.Transport{DialContext: dial, DialTLSContext: dial}})
	note := newRecNotifier()
	id := "sess-" + mc.Store.ID.User
	conn, err = New(mc.Client, Options{ID: id, Notifier: note, Tap: tap})
	require.NoError(t, err)
	eng, err := keepalive.NewEngine(keepalive.EngineOptions{Seed: 1, Clock: clk, ConnectTimeout: 10 * time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	note.mu.Lock()
	note.eng = eng
	note.mu.Unlock()
	r := &rig{srv: srv, cli: mc, conn: &countingConn{Conn: conn}, note: note, eng: eng, id: id}
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = eng.Run(context.Background())
	}()
	t.Cleanup(func() {
		eng.Stop()
		<-runDone
		_ = mc.Close()
	})
	require.NoError(t, eng.Add(id, r.conn, cfg))
	r.sess, err = srv.WaitSession(ctx, *mc.Store.ID)
	require.NoError(t, err)
	require.NoError(t, r.sess.Wait(ctx, func(k mockwa.Counters) bool { return k.Logins >= 1 }))
	r.waitState(t, keepalive.StateConnected)
	return r
}

// waitState waits until the engine reports the session in state s. The engine
// has no state-change callback, so this waits on the notifications and the
// mock's counters changing, re-checking the health snapshot each time.
func (r *rig) waitState(t *testing.T, s keepalive.State) {
	t.Helper()
	r.waitHealth(t, "state "+s.String(), func(h keepalive.Health) bool { return h.State == s })
}

// waitHealth waits until cond holds for the session's health snapshot.
func (r *rig) waitHealth(t *testing.T, what string, cond func(keepalive.Health) bool) {
	t.Helper()
	ctx := ctxT(t)
	for {
		h, ok := r.eng.SessionHealthOf(r.id)
		if ok && cond(h) {
			return
		}
		// Wake on any change at the mock or in notifications, or every 5 ms at
		// most: a bounded poll of the engine's state, not a timing assumption.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
		_ = r.sess.Wait(wctx, func(mockwa.Counters) bool { return false })
		cancel()
		if ctx.Err() != nil {
			h, _ := r.eng.SessionHealthOf(r.id)
			t.Fatalf("session never reached %s (health %+v)", what, h)
		}
	}
}

// pingCfg is a fast ping policy for these tests: the intervals are short so
// the tests are quick; no assertion depends on them.
func pingCfg() keepalive.Config {
	return keepalive.Config{
		Strategy:      keepalive.StrategyPing,
		IntervalMode:  keepalive.IntervalFixed,
		Interval:      40 * time.Millisecond,
		ReplyDeadline: 300 * time.Millisecond,
		Detection:     keepalive.DetectionConfig{MaxFailures: 1},
		Reconnect: keepalive.ReconnectConfig{Mode: keepalive.ReconnectBackoff, BaseDelay: 10 * time.Millisecond,
			MaxDelay: 50 * time.Millisecond, Immediate: true},
	}
}

func countKind(evs []keepalive.Event, kind keepalive.EventKind) int {
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

func (r *recNotifier) events() []keepalive.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]keepalive.Event(nil), r.evs...)
}
