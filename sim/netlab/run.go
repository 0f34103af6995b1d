package netlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/keepalive/wa"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// Scenario runs over the lab (kalab run --net):
//
//	mockwa.Server (in process) ◄── Chain (one Toxiproxy proxy per path hop) ◄── whatsmeow
//	   plays the scenario's            kalab_idle / kalab_lifetime toxics,        driven by
//	   server: ping service time,      latency/jitter on hop 0                    keepalive.Engine
//	   idle close, inbound messages,                                              through keepalive/wa
//	   faults
//
// Every duration of the run (policy, path, network, server, faults, the run itself)
// is divided by the time scale; every measured duration is multiplied back, so a
// Result reads in scenario time like the simulator's.
//
// What is measured, and from where (nothing is sent that the scenario does not send):
//   - connection up: the adapter's Connect returned (whatsmeow's Connected, which
//     follows the mock marking the connection active);
//   - truly up until the earliest of: the chain's expiry record for that connection
//     (close, reset or blackhole, at the moment the toxic fired), or the moment the
//     client saw the connection end or dropped it itself;
//   - believed up until the engine's "keep-alive stopped" log line (the connection
//     left state connected), or the connection's end as the client saw it;
//   - delivery delay: the mock stamps each inbound presence with its creation time,
//     the client's events.Presence handler reads it on arrival.
//
// Loopback cannot reproduce TCP retransmission giving up on a blackholed path (the
// local proxy acknowledges every byte), so the probe emulates it from the expiry
// records: a write on a blackholed connection closes the socket TCPGiveUp later.

// RunOptions configures Simulate. The zero value runs at DefaultScale.
type RunOptions struct {
	// Scale divides every duration. Default: DefaultScale.
	Scale float64
	// MinTimer is the shortest scaled middlebox timer accepted. Default:
	// DefaultMinTimer.
	MinTimer time.Duration
	// Logger receives the engine's lifecycle lines as well. Default: none.
	Logger *slog.Logger
}

// Unsupported fault kinds: the mock cannot play them yet.
var errUnsupportedFault = errors.New("cannot be played over the network lab (supported: stream_error_515, stream_error_503, logout, replaced)")

// Simulator returns a function with the shape of runner.SimulateFunc that runs each
// sim.Run over the lab with opts until ctx ends.
func Simulator(ctx context.Context, opts RunOptions) func(sim.Run) (sim.Result, error) {
	return func(r sim.Run) (sim.Result, error) { return Simulate(ctx, r, opts) }
}

// CheckRun reports whether r can be run over the lab at scale, and why not.
func CheckRun(r sim.Run, opts RunOptions) error {
	scale, err := normScale(opts.Scale)
	if err != nil {
		return err
	}
	minTimer := opts.MinTimer
	if minTimer <= 0 {
		minTimer = DefaultMinTimer
	}
	where := fmt.Sprintf("netlab: scenario %s, client %s", r.Scenario, r.Client)
	for i, s := range r.Path {
		if _, err := checkSpec(i, s, scale, minTimer); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	if r.Network.Loss > 0 {
		return fmt.Errorf("%s: network.loss %g: packet loss cannot be realised over loopback TCP (Toxiproxy has no loss toxic); remove it for network runs", where, r.Network.Loss)
	}
	for i, f := range r.Faults {
		if _, ok := faultEvent(f.Kind); !ok {
			return fmt.Errorf("%s: faults[%d].kind %s %w", where, i, f.Kind, errUnsupportedFault)
		}
	}
	if r.Server.InboundMode != "" && r.Server.InboundMode != sim.InboundPoisson && r.Server.InboundMode != sim.InboundBursts {
		return fmt.Errorf("%s: server.inbound_mode %q unknown", where, r.Server.InboundMode)
	}
	pol := ScalePolicy(r.Policy, scale)
	if _, err := keepalive.NewPolicy(pol); err != nil {
		return fmt.Errorf("%s: policy at time scale %g: %w", where, scale, err)
	}
	full := r.Policy
	full.ApplyDefaults()
	for _, d := range policyTimers(full) {
		if t := scaled(d.value, scale); t < minTimer {
			return fmt.Errorf("%s: %s %v at time scale %g is %v, below %v, the shortest timer loopback timing resolves reliably; use a time scale of at most %g",
				where, d.name, d.value, scale, t, minTimer, math.Floor(float64(d.value)/float64(minTimer)))
		}
	}
	return nil
}

type namedDuration struct {
	name  string
	value time.Duration
}

// policyTimers are the policy durations the heartbeat schedule and detection run
// on (defaults applied): each must stay resolvable once scaled.
func policyTimers(c keepalive.Config) []namedDuration {
	out := []namedDuration{{"reply_deadline", c.ReplyDeadline}}
	switch c.IntervalMode {
	case keepalive.IntervalRandom:
		out = append(out, namedDuration{"interval_min", c.IntervalMin})
	case keepalive.IntervalAdaptive:
		out = append(out, namedDuration{"adaptive.floor", c.Adaptive.Floor})
	default:
		out = append(out, namedDuration{"interval", c.Interval})
	}
	return out
}

func faultEvent(k sim.FaultKind) (mockwa.Event, bool) {
	switch k {
	case sim.FaultStreamError515:
		return mockwa.Event{Kind: mockwa.StreamError515}, true
	case sim.FaultStreamError503:
		return mockwa.Event{Kind: mockwa.StreamError503}, true
	case sim.FaultLogout:
		return mockwa.Event{Kind: mockwa.DeviceRemoved}, true
	case sim.FaultReplaced:
		return mockwa.Event{Kind: mockwa.Replaced}, true
	}
	return mockwa.Event{}, false
}

// Defaults of the run that sim.Network documents.
const (
	defaultRTT            = 100 * time.Millisecond
	defaultTCPGiveUp      = 924600 * time.Millisecond
	defaultConnectTimeout = 20 * time.Second
	// minConnectTimeout keeps a login (several loopback round trips under the race
	// detector) from being cut short by a scaled connect timeout.
	minConnectTimeout = 5 * time.Second
)

// Simulate runs r over the lab: it takes r.Duration/scale of real time and
// returns the measurements in scenario time (see the comment above RunOptions).
func Simulate(ctx context.Context, r sim.Run, opts RunOptions) (sim.Result, error) {
	if err := CheckRun(r, opts); err != nil {
		return sim.Result{}, err
	}
	scale, _ := normScale(opts.Scale)
	if r.Duration <= 0 {
		r.Duration = 24 * time.Hour
	}
	// Process-global whatsmeow knobs, once per process, before any client starts.
	mockwa.TrustProcessRoot()
	wa.DisableBuiltinKeepAlive()

	// libsignal's package logger is initialised lazily without a lock on the first
	// signature: create mock servers one at a time.
	newMockMu.Lock()
	srv, err := mockwa.New(mockwa.Config{
		PingDelay:   scaled(r.Server.PingServiceTime, scale),
		IdleTimeout: scaled(r.Server.IdleClose, scale),
	})
	newMockMu.Unlock()
	if err != nil {
		return sim.Result{}, fmt.Errorf("netlab: mock server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return sim.Result{}, err
	}
	defer srv.Close()

	netw := r.Network
	if netw.RTT == 0 {
		netw.RTT = defaultRTT
	}
	chain, err := NewChain(srv.Addr(), r.Path, scale, Options{
		Network:  Network{RTT: netw.RTT, Jitter: netw.Jitter},
		MinTimer: opts.MinTimer,
	})
	if err != nil {
		return sim.Result{}, err
	}
	defer chain.Close()

	tap := wa.NewTap(nil)
	mc, err := mockwa.NewClient(ctx, mockwa.ClientConfig{Addr: chain.Addr(), Log: tap})
	if err != nil {
		return sim.Result{}, err
	}
	defer mc.Close()
	jid := *mc.Store.ID

	p := &probe{giveUp: map[uint64]bool{}}
	logger := slog.New(handler{p: p})
	if opts.Logger != nil {
		logger = slog.New(teeHandler{handler{p: p}, opts.Logger.Handler()})
	}
	connectTimeout := netw.ConnectTimeout
	if connectTimeout <= 0 {
		connectTimeout = defaultConnectTimeout
	}
	eng, err := keepalive.NewEngine(keepalive.EngineOptions{
		Seed:           r.Seed,
		Logger:         logger,
		ConnectTimeout: max(scaled(connectTimeout, scale), minConnectTimeout),
	})
	if err != nil {
		return sim.Result{}, err
	}
	id := r.Scenario + "/" + r.Client
	conn, err := wa.New(mc.Client, wa.Options{ID: id, Notifier: p, Tap: tap})
	if err != nil {
		return sim.Result{}, err
	}
	p.conn, p.eng, p.id = conn, eng, id
	giveUp := netw.TCPGiveUp
	if giveUp <= 0 {
		giveUp = defaultTCPGiveUp
	}
	expiries := chain.Expiries()
	blackholed := func(dial uint64) bool {
		for _, rec := range expiries.Records() {
			if rec.Conn == dial && rec.Action == middlebox.Blackhole {
				return true
			}
		}
		return false
	}
	dial := p.dialer(chain.Addr(), scaled(giveUp, scale), blackholed)
	mc.SetWebsocketHTTPClient(&http.Client{Transport: &http.Transport{DialContext: dial, DialTLSContext: dial}})

	// Stamped inbound messages: delivery delay, measured on arrival.
	var dmu sync.Mutex
	var delays []time.Duration
	delivered := map[uint64]bool{}
	mc.AddEventHandler(func(evt any) {
		if pr, ok := evt.(*events.Presence); ok {
			if seq, created, ok := mockwa.ParseInbound(pr.From); ok {
				d := time.Since(created)
				dmu.Lock()
				if !delivered[seq] {
					delivered[seq] = true
					delays = append(delays, d)
				}
				dmu.Unlock()
			}
		}
	})

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	engDone := make(chan struct{})
	go func() {
		defer close(engDone)
		_ = eng.Run(runCtx)
	}()
	start := time.Now()
	if err := eng.Add(id, p, ScalePolicy(r.Policy, scale)); err != nil {
		cancel()
		<-engDone
		return sim.Result{}, err
	}
	var wg sync.WaitGroup
	sent := newCounter()
	wg.Add(2)
	go func() {
		defer wg.Done()
		playInbound(runCtx, srv, jid, r, scale, start, sent)
	}()
	faults := newCounter()
	go func() {
		defer wg.Done()
		playFaults(runCtx, srv, jid, r, scale, start, faults)
	}()

	wall := scaled(r.Duration, scale)
	timer := time.NewTimer(time.Until(start.Add(wall)))
	select {
	case <-timer.C:
	case <-ctx.Done():
		timer.Stop()
	}
	end := time.Now()
	health, _ := eng.SessionHealthOf(id)
	p.stopTimers()
	cancel()
	<-engDone
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return sim.Result{}, fmt.Errorf("netlab: run %s/%s seed %d: %w", r.Scenario, r.Client, r.Seed, err)
	}
	sess, _ := srv.Session(jid)
	var counters mockwa.Counters
	if sess != nil {
		counters = sess.Counters()
	}
	dmu.Lock()
	ds := append([]time.Duration(nil), delays...)
	dmu.Unlock()
	m := measurement{
		run: r, scale: scale, start: start, end: end,
		probe: p, expiries: expiries.Records(), health: health,
		counters: counters, delays: ds, sent: sent.get(), faults: faults.get(),
	}
	return m.result(), nil
}

// newMockMu serialises mockwa.New (see Simulate).
var newMockMu sync.Mutex

// counter is a goroutine-safe count.
type counter struct {
	mu sync.Mutex
	n  int
}

func newCounter() *counter { return &counter{} }
func (c *counter) add()    { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// teeHandler sends records to two handlers.
type teeHandler struct{ a, b slog.Handler }

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return t.a.Enabled(ctx, l) || t.b.Enabled(ctx, l)
}
func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	_ = t.a.Handle(ctx, r)
	if t.b.Enabled(ctx, r.Level) {
		return t.b.Handle(ctx, r)
	}
	return nil
}
func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return teeHandler{t.a.WithAttrs(as), t.b.WithAttrs(as)}
}
func (t teeHandler) WithGroup(g string) slog.Handler {
	return teeHandler{t.a.WithGroup(g), t.b.WithGroup(g)}
}
