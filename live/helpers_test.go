package live

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/types"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/keepalive/wa"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

func TestMain(m *testing.M) {
	// Process-global whatsmeow knobs: once, before any client starts.
	wa.DisableBuiltinKeepAlive()
	mockwa.TrustProcessRoot()
	goleak.VerifyTestMain(m,
		// database/sql's connection opener lives as long as a *sql.DB.
		goleak.IgnoreTopFunction("database/sql.(*DB).connectionOpener"),
		// whatsmeow's own teardown race (socket/framesocket.go): when a frame
		// arrives while a socket closes, readPump blocks for good sending it on the
		// unbuffered Frames channel whose reader (NoiseSocket.consumeFrames) has
		// already returned on the cancelled context. Nothing outside whatsmeow can
		// release it; see the report of issue 8.
		goleak.IgnoreTopFunction("go.mau.fi/whatsmeow/socket.(*FrameSocket).frameComplete"),
	)
}

// waitTimeout bounds every wait on an event (not a timing assertion: a healthy
// run finishes far earlier).
const waitTimeout = 30 * time.Second

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

func startMock(t testing.TB) *mockwa.Server {
	t.Helper()
	s, err := mockwa.New(mockwa.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// watchBuffer is a concurrency-safe writer whose readers can wait for text.
type watchBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	ch  chan struct{}
}

func newWatchBuffer() *watchBuffer { return &watchBuffer{ch: make(chan struct{})} }

func (w *watchBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	close(w.ch)
	w.ch = make(chan struct{})
	return n, err
}

func (w *watchBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitCount waits until sub occurs at least n times.
func (w *watchBuffer) waitCount(ctx context.Context, sub string, n int) error {
	for {
		w.mu.Lock()
		ok := strings.Count(w.buf.String(), sub) >= n
		ch := w.ch
		w.mu.Unlock()
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

// liveRun is one Runner running in process against a mock.
type liveRun struct {
	r      *Runner
	logs   *watchBuffer
	qrOut  *watchBuffer
	qr     chan string
	cancel context.CancelFunc
	done   chan error
}

// testConfig: pings every 100 ms, quick reconnects.
const testConfig = `preset: kalab
config:
  strategy: ping
  interval_mode: fixed
  interval: 100ms
  reply_deadline: 2s
  reconnect: {mode: backoff, base_delay: 50ms, max_delay: 200ms, jitter: 0.2, immediate: false}
`

func writeConfig(t testing.TB, dir, text string) string {
	t.Helper()
	p := filepath.Join(dir, "live.yaml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// startLive runs a Runner on db against srv; mutate adjusts the options.
func startLive(t testing.TB, srv *mockwa.Server, db string, mutate func(*Options)) *liveRun {
	t.Helper()
	lr := &liveRun{logs: newWatchBuffer(), qrOut: newWatchBuffer(), qr: make(chan string, 32), done: make(chan error, 1)}
	o := Options{
		DB:            db,
		ConfigFile:    writeConfig(t, filepath.Dir(db), testConfig),
		Listen:        "127.0.0.1:0",
		LogOut:        lr.logs,
		QROut:         lr.qrOut,
		Server:        srv.URL(),
		ServerRootKey: srv.Root().PublicHex(),
		PushName:      "kalab",
		Seed:          1,
		OnQR: func(code string) {
			select {
			case lr.qr <- code:
			default:
			}
		},
	}
	if mutate != nil {
		mutate(&o)
	}
	r, err := New(o)
	require.NoError(t, err)
	lr.r = r
	ctx, cancel := context.WithCancel(context.Background())
	lr.cancel = cancel
	go func() { lr.done <- r.Run(ctx) }()
	select {
	case <-r.Ready():
	case err := <-lr.done:
		cancel()
		require.FailNow(t, "live run ended before it was ready", "%v\nlogs:\n%s", err, lr.logs.String())
	case <-time.After(waitTimeout):
		cancel()
		require.FailNow(t, "live run not ready")
	}
	t.Cleanup(func() {
		lr.stop(t)
		if t.Failed() {
			t.Logf("live logs:\n%s", lr.logs.String())
		}
	})
	return lr
}

// stop cancels the run and waits for a clean return.
func (lr *liveRun) stop(t testing.TB) {
	t.Helper()
	if lr.cancel == nil {
		return
	}
	lr.cancel()
	lr.cancel = nil
	select {
	case err := <-lr.done:
		require.NoError(t, err)
	case <-time.After(waitTimeout):
		require.FailNow(t, "live run did not stop")
	}
}

// alive asserts Run has not returned.
func (lr *liveRun) alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-lr.done:
		lr.done <- err
		require.FailNow(t, "live run ended", "%v", err)
	default:
	}
}

// pair scans the next QR code the run shows and waits for the device's first
// login and heartbeats at the mock.
func (lr *liveRun) pair(t testing.TB, srv *mockwa.Server) (types.JID, *mockwa.Session) {
	t.Helper()
	ctx := ctxT(t)
	var code string
	select {
	case code = <-lr.qr:
	case <-ctx.Done():
		require.FailNow(t, "no QR code shown", "logs:\n%s", lr.logs.String())
	}
	jid, err := srv.Scan(ctx, code)
	require.NoError(t, err)
	sess, err := srv.WaitSession(ctx, jid)
	require.NoError(t, err)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.Logins >= 1 && c.Pings >= 2 }),
		"logs:\n%s", lr.logs.String())
	return jid, sess
}

func httpGet(t testing.TB, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}
