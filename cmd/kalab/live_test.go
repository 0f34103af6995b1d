package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/live"
	"github.com/kalab-dev/kalab/sim/mockwa"

	_ "modernc.org/sqlite"
)

// lines collects a process's output lines; readers wait for a line with a prefix.
type lines struct {
	mu   sync.Mutex
	all  []string
	wake chan struct{}
}

func newLines() *lines { return &lines{wake: make(chan struct{})} }

func (l *lines) feed(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.all = append(l.all, sc.Text())
		close(l.wake)
		l.wake = make(chan struct{})
		l.mu.Unlock()
	}
}

// wait returns the first line containing sub, waiting for it until ctx ends.
func (l *lines) wait(ctx context.Context, sub string) (string, error) {
	for {
		l.mu.Lock()
		for _, s := range l.all {
			if strings.Contains(s, sub) {
				l.mu.Unlock()
				return s, nil
			}
		}
		ch := l.wake
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func (l *lines) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.all, "\n")
}

// proc is one kalab live process.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *lines
	done           chan error
	feeders        sync.WaitGroup
}

func startProc(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stdout: newLines(), stderr: newLines(), done: make(chan error, 1)}
	so, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	se, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	p.feeders.Add(2)
	go func() { defer p.feeders.Done(); p.stdout.feed(so) }()
	go func() { defer p.feeders.Done(); p.stderr.feed(se) }()
	go func() {
		p.feeders.Wait() // all output read before Wait closes the pipes
		p.done <- p.cmd.Wait()
	}()
	return p
}

// wait waits for the process to exit and returns its Wait error.
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-p.done:
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		require.FailNow(t, "kalab live did not exit", "stderr:\n%s", p.stderr.text())
		return nil
	}
}

func killedBySignal(err error, sig syscall.Signal) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// checkStore opens the store as a second process would and checks SQLite's
// integrity and that the paired device is still there.
func checkStore(t *testing.T, db string) {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	require.NoError(t, err)
	defer conn.Close()
	var res string
	require.NoError(t, conn.QueryRow("PRAGMA integrity_check").Scan(&res))
	require.Equal(t, "ok", res)
	var n int
	require.NoError(t, conn.QueryRow("SELECT count(*) FROM whatsmeow_device").Scan(&n))
	require.Equal(t, 1, n, "the paired device is in the store")
}

// buildKalab builds the kalab binary into dir (no race detector: it is the
// program users run).
func buildKalab(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "kalab")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// TestLiveBinaryPairReloadKillRestart builds kalab and runs `kalab live` against an
// in-process mock: pairing by the QR text it prints, SIGHUP reload, SIGTERM clean
// exit, then SIGKILL at seeded random moments during login and heartbeats; after
// every kill the store passes SQLite's integrity check and keeps the device, and
// the next run logs in with it.
func TestLiveBinaryPairReloadKillRestart(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last
	dir := t.TempDir()
	bin := buildKalab(t, dir)

	srv, err := mockwa.New(mockwa.Config{})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })

	db := filepath.Join(dir, "kalab.db")
	cfg := filepath.Join(dir, "live.yaml")
	writeCfg := func(s string) { require.NoError(t, os.WriteFile(cfg, []byte(s), 0o644)) }
	writeCfg("config: {strategy: ping, interval: 50ms, reply_deadline: 2s, reconnect: {base_delay: 20ms, max_delay: 100ms}}\n")
	args := []string{"live", "--db", db, "--config", cfg, "--listen", "127.0.0.1:0", "--push-name", "kalab",
		"--server", srv.URL(), "--server-root-key", srv.Root().PublicHex()}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Pairing: the mock plays the phone with the QR text kalab printed.
	p := startProc(t, bin, args...)
	line, err := p.stdout.wait(ctx, live.QRCodePrefix)
	require.NoError(t, err, "stderr:\n%s", p.stderr.text())
	jid, err := srv.Scan(ctx, strings.TrimPrefix(line, live.QRCodePrefix))
	require.NoError(t, err)
	sess, err := srv.WaitSession(ctx, jid)
	require.NoError(t, err)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.PingsAnswered >= 3 }), "stderr:\n%s", p.stderr.text())
	st, err := os.Stat(db)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// SIGHUP: presence from now on, same connection.
	connects := sess.Counters().Connects
	writeCfg("config: {strategy: presence, interval: 50ms}\n")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.Presence["available"] >= 2 }), "stderr:\n%s", p.stderr.text())
	assert.Equal(t, connects, sess.Counters().Connects, "SIGHUP keeps the connection")
	writeCfg("config: {strategy: ping, interval: 50ms, reply_deadline: 2s, reconnect: {base_delay: 20ms, max_delay: 100ms}}\n")

	// SIGTERM: clean exit, disconnected, no identifier in the logs.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t), "stderr:\n%s", p.stderr.text())
	assert.Contains(t, p.stderr.text(), `msg=stopped`)
	assert.NotContains(t, p.stderr.text(), jid.User, "the account's number is redacted")
	checkStore(t, db)

	// SIGKILL at random moments (seeded), during login and during heartbeats.
	cycles := 50
	if testing.Short() {
		cycles = 10
	}
	const seed = 8
	rng := rand.New(rand.NewPCG(seed, 0))
	mustLogin := true // the previous kill came before a login: prove this start logs in
	var duringLogin, afterLogin int
	for i := range cycles {
		before := sess.Counters()
		p := startProc(t, bin, args...)
		delay := time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
		if mustLogin {
			require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.Logins > before.Logins }),
				"cycle %d (seed %d): no login; stderr:\n%s", i, seed, p.stderr.text())
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case err := <-p.done:
			require.FailNow(t, "kalab live exited by itself", "cycle %d (seed %d): %v\nstderr:\n%s", i, seed, err, p.stderr.text())
		}
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
		err := p.wait(t)
		require.True(t, killedBySignal(err, syscall.SIGKILL), "cycle %d: exit %v; stderr:\n%s", i, err, p.stderr.text())
		loggedIn := sess.Counters().Logins > before.Logins
		if loggedIn {
			afterLogin++
		} else {
			duringLogin++
		}
		mustLogin = !loggedIn
		assert.NotContains(t, p.stderr.text(), "level=ERROR", "cycle %d", i)
		checkStore(t, db)
	}
	t.Logf("%d kills before the login completed, %d after (seed %d)", duringLogin, afterLogin, seed)
	assert.Positive(t, duringLogin, "some kills hit the login")
	assert.Positive(t, afterLogin, "some kills hit the heartbeats")

	// A last run logs in and heartbeats, and exits cleanly.
	before := sess.Counters()
	p = startProc(t, bin, args...)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool {
		return c.Logins > before.Logins && c.PingsAnswered >= before.PingsAnswered+3
	}), "stderr:\n%s", p.stderr.text())
	assert.NotContains(t, p.stdout.text(), live.QRCodePrefix, "a stored device needs no QR code")
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t), "stderr:\n%s", p.stderr.text())
	checkStore(t, db)
	require.NoError(t, srv.Close())
}

// TestLiveBinaryRefusedLoginRemovesAccount: a stored device whose login the server
// refuses for good (402 temporary ban, then 401 logged out) is reported and
// removed at once: one connect, no retry loop, no new pairing; the process stays
// up, healthy and not ready. A banned device stays in the store, a logged-out one
// leaves it. (Run as a binary: whatsmeow's socket teardown after a refused login
// has data races of its own that the race detector would report here.)
func TestLiveBinaryRefusedLoginRemovesAccount(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last
	dir := t.TempDir()
	bin := buildKalab(t, dir)
	srv, err := mockwa.New(mockwa.Config{})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(func() { _ = srv.Close() })
	db := filepath.Join(dir, "kalab.db")
	cfg := filepath.Join(dir, "live.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte("config: {strategy: ping, interval: 50ms, reconnect: {base_delay: 20ms, max_delay: 100ms}}\n"), 0o644))
	args := []string{"live", "--db", db, "--config", cfg, "--listen", "127.0.0.1:0",
		"--server", srv.URL(), "--server-root-key", srv.Root().PublicHex()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	p := startProc(t, bin, args...)
	line, err := p.stdout.wait(ctx, live.QRCodePrefix)
	require.NoError(t, err, "stderr:\n%s", p.stderr.text())
	jid, err := srv.Scan(ctx, strings.TrimPrefix(line, live.QRCodePrefix))
	require.NoError(t, err)
	sess, err := srv.WaitSession(ctx, jid)
	require.NoError(t, err)
	require.NoError(t, sess.Wait(ctx, func(c mockwa.Counters) bool { return c.PingsAnswered >= 2 }))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, p.wait(t))

	for _, tc := range []struct {
		reason  int
		label   string
		devices int
	}{{402, "banned", 1}, {401, "logged_out", 0}} {
		require.NoError(t, srv.Inject(jid, mockwa.FailLogin(tc.reason)))
		before := sess.Counters()
		p := startProc(t, bin, args...)
		_, err := p.stderr.wait(ctx, `msg="account removed"`)
		require.NoError(t, err, "%d: stderr:\n%s", tc.reason, p.stderr.text())
		line, err := p.stderr.wait(ctx, `msg="http listening"`)
		require.NoError(t, err)
		addr := line[strings.Index(line, "addr=")+len("addr="):]
		assert.Contains(t, p.stderr.text(), "reason="+tc.label)
		assert.Equal(t, before.LoginFailures+1, sess.Counters().LoginFailures)
		for path, want := range map[string]int{"/healthz": 200, "/readyz": 503} {
			resp, err := http.Get("http://" + addr + path)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, want, resp.StatusCode, "%d %s", tc.reason, path)
		}
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
		require.NoError(t, p.wait(t), "%d: the process survives a refused login and exits cleanly", tc.reason)
		assert.Equal(t, before.Connects+1, sess.Counters().Connects, "%d: never reconnected", tc.reason)
		assert.NotContains(t, p.stdout.text(), live.QRCodePrefix, "%d: no pairing starts by itself", tc.reason)

		conn, err := sql.Open("sqlite", "file:"+db)
		require.NoError(t, err)
		var n int
		require.NoError(t, conn.QueryRow("SELECT count(*) FROM whatsmeow_device").Scan(&n))
		require.NoError(t, conn.Close())
		assert.Equal(t, tc.devices, n, "%d: devices left in the store", tc.reason)
	}
	require.NoError(t, srv.Close())
}
