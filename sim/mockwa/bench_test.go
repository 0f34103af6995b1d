package mockwa

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.mau.fi/whatsmeow/store/sqlstore"
	"go.mau.fi/whatsmeow/types/events"
)

// The benchmark and the 1,000-client run put the server in a child process
// (this test binary, re-executed) so its memory can be read apart from the
// clients': KiB/session is the child's heap growth per logged-in session.

const childEnv = "KALAB_MOCKWA_CHILD_ROOT"

// TestChildServer is the child process's body; skipped unless re-executed.
func TestChildServer(t *testing.T) {
	hexRoot := os.Getenv(childEnv)
	if hexRoot == "" {
		t.Skip("runs only as the benchmark's child server")
	}
	raw, err := hex.DecodeString(hexRoot)
	require.NoError(t, err)
	s, err := New(Config{Root: RootKeyFromPrivate([32]byte(raw))})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	fmt.Printf("MOCKWA_ADDR=%s\n", s.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the parent closes stdin
	require.NoError(t, s.Close())
}

type childServer struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

func startChild(tb testing.TB) *childServer {
	tb.Helper()
	root := ProcessRoot().Private()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+hex.EncodeToString(root[:]))
	stdin, err := cmd.StdinPipe()
	require.NoError(tb, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(tb, err)
	cmd.Stderr = os.Stderr
	require.NoError(tb, cmd.Start())
	c := &childServer{cmd: cmd, stdin: stdin}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "MOCKWA_ADDR="); ok {
			c.addr = a
			break
		}
	}
	require.NotEmpty(tb, c.addr, "child server printed no address")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	return c
}

type childStats struct {
	Stats
	Mem MemStats `json:"mem"`
}

func (c *childServer) stats(tb testing.TB, gc bool) childStats {
	tb.Helper()
	url := "http://" + c.addr + "/api/stats"
	if gc {
		url += "?gc=1"
	}
	resp, err := http.Get(url)
	require.NoError(tb, err)
	defer resp.Body.Close()
	var st childStats
	require.NoError(tb, json.NewDecoder(resp.Body).Decode(&st))
	return st
}

// peakRSS returns VmHWM (peak resident set) of a process, in KiB.
func peakRSS(pid string) int {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return -1
}

// connectAll connects clients with at most par dials in flight and waits for
// every Connected event.
func connectAll(tb testing.TB, clients []*Client, recs []*recorder, par int) {
	tb.Helper()
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	for i, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := c.Connect(); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			select {
			case <-recs[i].connected:
			case <-time.After(2 * time.Minute):
				errs <- fmt.Errorf("client %d: no Connected event", i)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(tb, err)
	}
}

func makeClients(tb testing.TB, addr string, container *sqlstore.Container, n int) ([]*Client, []*recorder) {
	tb.Helper()
	clients := make([]*Client, n)
	recs := make([]*recorder, n)
	for i := range n {
		c, err := NewClient(context.Background(), ClientConfig{Addr: addr, Container: container})
		require.NoError(tb, err)
		r := newRecorder()
		c.AddEventHandler(r.handle)
		clients[i], recs[i] = c, r
	}
	return clients, recs
}

// BenchmarkMockLogins: each iteration, a wave of 50 whatsmeow clients connect
// and log in concurrently and stay connected; logins/s is over the timed
// connects, KiB/session the server's heap growth per connected session.
func BenchmarkMockLogins(b *testing.B) {
	const wave = 50
	child := startChild(b)
	container, err := OpenStore(context.Background(), b.TempDir()+"/bench.db")
	require.NoError(b, err)
	defer container.Close()
	base := child.stats(b, true).Mem.HeapInuse
	var all []*Client
	defer func() {
		for _, c := range all {
			c.Disconnect()
		}
	}()
	var elapsed time.Duration
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		clients, recs := makeClients(b, child.addr, container, wave)
		all = append(all, clients...)
		start := time.Now()
		b.StartTimer()
		connectAll(b, clients, recs, wave)
		b.StopTimer()
		elapsed += time.Since(start)
	}
	st := child.stats(b, true)
	require.Equal(b, len(all), st.Active, "every session still connected")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "logins/s")
	b.ReportMetric(float64(int64(st.Mem.HeapInuse)-int64(base))/1024/float64(len(all)), "KiB/session")
}

// TestThousandClients connects 1,000 whatsmeow clients at once and keeps them
// for a minute of whatsmeow's own pings. Opt in with KALAB_MOCK_1000=1 (real
// time, a few minutes); figures go to the test log.
func TestThousandClients(t *testing.T) {
	if os.Getenv("KALAB_MOCK_1000") == "" {
		t.Skip("set KALAB_MOCK_1000=1 to run 1,000 clients for a minute")
	}
	const n = 1000
	hold := time.Minute
	child := startChild(t)
	container, err := OpenStore(context.Background(), t.TempDir()+"/thousand.db")
	require.NoError(t, err)
	defer container.Close()
	clients, recs := makeClients(t, child.addr, container, n)
	defer func() {
		for _, c := range clients {
			c.Disconnect()
		}
	}()
	base := child.stats(t, true).Mem
	start := time.Now()
	connectAll(t, clients, recs, 200)
	wall := time.Since(start)
	connected := child.stats(t, true)
	t.Logf("1000 clients logged in in %v (%.0f logins/s); server heap %d→%d KiB (%.1f KiB/session), goroutines %d",
		wall.Round(time.Millisecond), n/wall.Seconds(), base.HeapInuse/1024, connected.Mem.HeapInuse/1024,
		float64(connected.Mem.HeapInuse-base.HeapInuse)/1024/n, connected.Mem.Goroutines)

	// Hold the sessions for a minute of whatsmeow's real pings; stop early if
	// any client loses its connection or a ping times out.
	lost := make(chan any, 1)
	for _, c := range clients {
		c.AddEventHandler(func(evt any) {
			switch evt.(type) {
			case *events.Disconnected, *events.KeepAliveTimeout:
				select {
				case lost <- evt:
				default:
				}
			}
		})
	}
	select {
	case <-time.After(hold):
	case evt := <-lost:
		t.Errorf("a client lost its session during the hold: %T", evt)
	}
	after := child.stats(t, false)
	var disconnects, timeouts int
	for _, r := range recs {
		r.mu.Lock()
		for _, e := range r.all {
			switch e.(type) {
			case *events.Disconnected:
				disconnects++
			case *events.KeepAliveTimeout:
				timeouts++
			}
		}
		r.mu.Unlock()
	}
	pings := pingTotal(t, child)
	t.Logf("after %v: %d/%d sessions connected on the server, %d client Disconnected events, %d KeepAliveTimeout events, %d pings answered",
		hold, after.Active, n, disconnects, timeouts, pings)
	t.Logf("peak RSS: server %d MiB, clients+test %d MiB", peakRSS(strconv.Itoa(child.cmd.Process.Pid))/1024, peakRSS("self")/1024)
	require.Equal(t, n, after.Active)
	require.Zero(t, disconnects)
	require.Zero(t, timeouts)
	require.GreaterOrEqual(t, pings, n*2, "each client pinged at least twice (20–30 s interval)")
}

func pingTotal(t *testing.T, c *childServer) int {
	resp, err := http.Get("http://" + c.addr + "/api/sessions")
	require.NoError(t, err)
	defer resp.Body.Close()
	var views []SessionView
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&views))
	total := 0
	for _, v := range views {
		total += v.Counters.PingsAnswered
	}
	return total
}
