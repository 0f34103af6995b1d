package keepalive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// t0 is the fake clock's start in driver tests.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// connCall is one recorded Conn call.
type connCall struct {
	op       string // "connect", "presence", "ping", "close"
	at       time.Time
	presence PresenceType
	deadline time.Time // ctx deadline, zero if none
}

// fakeConn records every call with the fake clock's time. Its behaviour is set
// before the session is added, or under mu.
type fakeConn struct {
	clk clockwork.Clock

	mu    sync.Mutex
	calls []connCall
	// connectGate, when non-nil, makes Connect wait until it is closed (or ctx ends).
	connectGate chan struct{}
	// connectErr is returned by Connect (after the gate).
	connectErr error
	// pingHang makes Ping wait until its ctx is done (a blackholed connection).
	pingHang bool
	// pingRTT is what Ping reports.
	pingRTT time.Duration
	// presenceErr is returned by SendPresence.
	presenceErr error
	// presenceGate, when non-nil, makes SendPresence wait until it is closed.
	presenceGate chan struct{}
}

func newFakeConn(clk clockwork.Clock) *fakeConn {
	return &fakeConn{clk: clk, pingRTT: 40 * time.Millisecond}
}

func (c *fakeConn) record(op string, ctx context.Context, p PresenceType) {
	call := connCall{op: op, at: c.clk.Now(), presence: p}
	if ctx != nil {
		call.deadline, _ = ctx.Deadline()
	}
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
}

func (c *fakeConn) Connect(ctx context.Context) error {
	c.record("connect", ctx, 0)
	c.mu.Lock()
	gate, err := c.connectGate, c.connectErr
	c.mu.Unlock()
	return passGate(ctx, gate, err)
}

func (c *fakeConn) SendPresence(ctx context.Context, p PresenceType) error {
	c.record("presence", ctx, p)
	c.mu.Lock()
	gate, err := c.presenceGate, c.presenceErr
	c.mu.Unlock()
	return passGate(ctx, gate, err)
}

// passGate waits until gate is closed (at once if gate is nil) and returns err,
// or returns ctx's error if ctx ends first.
func passGate(ctx context.Context, gate chan struct{}, err error) error {
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return err
}

func (c *fakeConn) Ping(ctx context.Context) (time.Duration, error) {
	c.record("ping", ctx, 0)
	c.mu.Lock()
	hang, rtt := c.pingHang, c.pingRTT
	c.mu.Unlock()
	if hang {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	return rtt, nil
}

func (c *fakeConn) Close() error {
	c.record("close", nil, 0)
	return nil
}

// ops returns the recorded calls of kind op.
func (c *fakeConn) ops(op string) []connCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []connCall
	for _, call := range c.calls {
		if call.op == op {
			out = append(out, call)
		}
	}
	return out
}

func (c *fakeConn) count(op string) int { return len(c.ops(op)) }

// total returns how many calls were recorded.
func (c *fakeConn) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

func (c *fakeConn) set(f func(c *fakeConn)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(c)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records parses the JSON log lines written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	b.mu.Lock()
	data := append([]byte(nil), b.buf.Bytes()...)
	b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "log line %q", sc.Text())
		out = append(out, m)
	}
	return out
}

// withMsg returns the log records with message msg for session id.
func withMsg(recs []map[string]any, msg, id string) []map[string]any {
	var out []map[string]any
	for _, r := range recs {
		if r["msg"] == msg && r["session"] == id {
			out = append(out, r)
		}
	}
	return out
}

// harness runs an Engine on a fake clock inside a synctest bubble.
type harness struct {
	t       *testing.T
	clk     *clockwork.FakeClock
	eng     *Engine
	reg     *prometheus.Registry
	logs    *syncBuffer
	done    chan error
	stopped bool
}

// newHarness starts an engine; call it inside synctest.Test. opts' Clock,
// Logger and Registerer are filled in.
func newHarness(t *testing.T, opts EngineOptions) *harness {
	t.Helper()
	h := &harness{
		t:    t,
		clk:  clockwork.NewFakeClockAt(t0),
		reg:  prometheus.NewRegistry(),
		logs: &syncBuffer{},
		done: make(chan error, 1),
	}
	opts.Clock = h.clk
	opts.Registerer = h.reg
	opts.Logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	eng, err := NewEngine(opts)
	require.NoError(t, err)
	h.eng = eng
	go func() { h.done <- eng.Run(context.Background()) }()
	synctest.Wait()
	t.Cleanup(h.stop)
	return h
}

// add registers a fake connection under id and lets the engine take it in.
func (h *harness) add(id string, cfg Config, setup func(c *fakeConn)) *fakeConn {
	h.t.Helper()
	c := newFakeConn(h.clk)
	if setup != nil {
		setup(c)
	}
	require.NoError(h.t, h.eng.Add(id, c, cfg))
	synctest.Wait()
	return c
}

// advance moves the fake clock by total in steps of step, letting every
// goroutine settle after each step (clockwork collapses a large Advance).
func (h *harness) advance(total, step time.Duration) {
	for elapsed := time.Duration(0); elapsed < total; elapsed += step {
		h.clk.Advance(min(step, total-elapsed))
		synctest.Wait()
	}
}

// stop ends Run and checks it returned cleanly; safe to call twice.
func (h *harness) stop() {
	h.eng.Stop()
	if !h.stopped {
		h.stopped = true
		require.NoError(h.t, <-h.done)
	}
}

// state returns session id's state.
func (h *harness) state(id string) State {
	hl, ok := h.eng.SessionHealthOf(id)
	require.True(h.t, ok, "session %q", id)
	return hl.State
}

// gaps returns the differences between consecutive call times.
func gaps(calls []connCall) []time.Duration {
	var out []time.Duration
	for i := 1; i < len(calls); i++ {
		out = append(out, calls[i].at.Sub(calls[i-1].at))
	}
	return out
}

var errBoom = errors.New("boom")

// pingCfg is a fixed-interval ping policy used by most driver tests.
func pingCfg(interval time.Duration) Config {
	return Config{
		Strategy:      StrategyPing,
		IntervalMode:  IntervalFixed,
		Interval:      interval,
		ReplyDeadline: 5 * time.Second,
		Reconnect: ReconnectConfig{
			Mode:      ReconnectBackoff,
			BaseDelay: time.Second,
			MaxDelay:  4 * time.Second,
		},
	}
}

// discardLogger drops every line.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
