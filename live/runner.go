package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/store"
	"go.mau.fi/whatsmeow/store/sqlstore"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/keepalive/wa"
	"github.com/kalab-dev/kalab/scenarios"
)

// The runner's life:
//
//	Run ─► open store ─► engine + HTTP ─► every stored device → account (engine session)
//	    └► empty store (or PairNew): pairLoop ─► QR / phone code ─► paired → account
//	main loop: terminal event (logged out, replaced, banned) → remove the account
//	ctx done: stop pairing ─► engine.Stop (heartbeats stop, connections close)
//	          ─► HTTP shutdown ─► store closed

// Log messages of the runner, besides the engine's lifecycle lines.
const (
	LogStoreOpened    = "store opened"
	LogAccountAdded   = "account added"
	LogAccountRemoved = "account removed"
	LogConfigReloaded = "config reloaded"
	LogListening      = "http listening"
	LogStopped        = "stopped"
)

// Metric names the runner adds to the engine's (keepalive.Metric*).
const (
	// MetricAccounts is the number of accounts running.
	MetricAccounts = "kalab_live_accounts"
	// MetricAccountsRemoved counts accounts removed, by reason (logged_out,
	// replaced, banned).
	MetricAccountsRemoved = "kalab_live_accounts_removed_total"
	// MetricQRCodes counts pairing QR codes shown.
	MetricQRCodes = "kalab_live_qr_codes_total"
)

// Runner runs the engine on the accounts of one store. Create it with New; Run
// once.
type Runner struct {
	opts    Options
	red     *Redactor
	log     *slog.Logger
	reg     *prometheus.Registry
	root    *[32]byte
	started atomic.Bool

	accountsGauge prometheus.Gauge
	removed       *prometheus.CounterVec
	qrShown       prometheus.Counter

	eng   *keepalive.Engine // set before any account exists
	ready chan struct{}

	mu        sync.Mutex
	cfg       keepalive.Config
	addr      string
	accounts  map[string]*account
	container *sqlstore.Container

	termMu  sync.Mutex
	term    []termEvent
	termSig chan struct{} // cap 1
}

// termEvent is a terminal notification for a session.
type termEvent struct {
	id   string
	kind keepalive.EventKind
}

// New validates opts and loads the keep-alive config; it starts nothing.
func New(opts Options) (*Runner, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &Runner{
		opts:     o,
		red:      &Redactor{},
		reg:      prometheus.NewRegistry(),
		ready:    make(chan struct{}),
		accounts: map[string]*account{},
		termSig:  make(chan struct{}, 1),
	}
	if o.PairPhone != "" {
		r.red.Add(o.PairPhone, digitsOf(o.PairPhone))
	}
	r.log = newLogger(o, r.red)
	if o.Server != "" {
		k, _ := ParseRootKey(o.ServerRootKey)
		r.root = &k
	}
	if r.cfg, err = r.loadConfig(); err != nil {
		return nil, err
	}
	r.accountsGauge = prometheus.NewGauge(prometheus.GaugeOpts{Name: MetricAccounts, Help: "Accounts running (engine sessions)."})
	r.removed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricAccountsRemoved,
		Help: "Accounts removed from the running set, by reason (logged_out, replaced, banned)."}, []string{"reason"})
	r.qrShown = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricQRCodes, Help: "Pairing QR codes shown."})
	r.reg.MustRegister(r.accountsGauge, r.removed, r.qrShown,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r, nil
}

func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// Logger returns the runner's (redacting) logger.
func (r *Runner) Logger() *slog.Logger { return r.log }

// Redactor returns the redactor of the runner's logs.
func (r *Runner) Redactor() *Redactor { return r.red }

// Engine returns the engine, or nil before Run.
func (r *Runner) Engine() *keepalive.Engine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.eng
}

// Ready is closed once the HTTP endpoints listen and the stored accounts were
// added to the engine (a pairing may still be running).
func (r *Runner) Ready() <-chan struct{} { return r.ready }

// Addr returns the HTTP listener's address ("" before Ready or with Listen "-").
func (r *Runner) Addr() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.addr
}

// Config returns the keep-alive config in force.
func (r *Runner) Config() keepalive.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// Accounts returns the running accounts, sorted by ID.
func (r *Runner) Accounts() []AccountInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AccountInfo, 0, len(r.accounts))
	for _, a := range r.accounts {
		out = append(out, AccountInfo{ID: a.id, JID: a.jid})
	}
	slices.SortFunc(out, func(a, b AccountInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// loadConfig reads the config file, or the preset.
func (r *Runner) loadConfig() (keepalive.Config, error) {
	if r.opts.ConfigFile == "" {
		c, _ := keepalive.Preset(r.opts.Preset)
		return c, nil
	}
	data, err := os.ReadFile(r.opts.ConfigFile)
	if err != nil {
		return keepalive.Config{}, fmt.Errorf("live: --config: %w", err)
	}
	c, err := scenarios.ParseClient(r.opts.ConfigFile, data)
	if err != nil {
		return keepalive.Config{}, err
	}
	return c.Config, nil
}

// Reload re-reads the config file and applies it to every account without
// dropping its connection (keepalive.Engine.Reconfigure). On error the running
// config stays in force. Without a config file it does nothing.
func (r *Runner) Reload() error {
	if r.opts.ConfigFile == "" {
		r.log.Info("reload: no --config file; nothing to reload")
		return nil
	}
	cfg, err := r.loadConfig()
	if err != nil {
		r.log.Error("reload failed; keeping the running config", "error", err)
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg = cfg
	var errs []error
	if r.eng != nil {
		for id := range r.accounts {
			if err := r.eng.Reconfigure(id, cfg); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		r.log.Error("reload failed", "error", err)
		return err
	}
	r.log.Info(LogConfigReloaded, "file", r.opts.ConfigFile, "strategy", string(cfg.Strategy), "accounts", len(r.accounts))
	return nil
}

var osInfoOnce sync.Once

// prepareProcess sets whatsmeow's process-global knobs before any client exists.
func (r *Runner) prepareProcess() {
	wa.DisableBuiltinKeepAlive()
	osInfoOnce.Do(func() { store.SetOSInfo("kalab", [3]uint32{0, 1, 0}) })
	if r.root != nil && whatsmeow.WACertPubKey != *r.root {
		whatsmeow.WACertPubKey = *r.root
	}
}

// Run opens the store, starts the engine and the HTTP endpoints, runs every
// account until ctx ends, and shuts down cleanly: pairing stops, heartbeats stop,
// connections close, the HTTP server drains, the store closes. It returns nil
// after a clean shutdown caused by ctx.
func (r *Runner) Run(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("live: Runner.Run called twice")
	}
	r.prepareProcess()
	container, err := OpenStore(ctx, r.opts.DB, newWALogger(r.log, "Database"))
	if err != nil {
		return err
	}
	defer func() {
		if cerr := container.Close(); cerr != nil {
			r.log.Error("closing the store", "error", cerr)
		}
		r.log.Info(LogStopped)
	}()
	r.log.Info(LogStoreOpened, "file", r.opts.DB)

	eng, err := keepalive.NewEngine(keepalive.EngineOptions{Logger: r.log, Registerer: r.reg, Seed: r.opts.Seed})
	if err != nil {
		return fmt.Errorf("live: engine: %w", err)
	}
	r.mu.Lock()
	r.eng, r.container = eng, container
	r.mu.Unlock()

	var srv *http.Server
	srvDone := make(chan struct{})
	if r.opts.Listen != "-" {
		ln, err := net.Listen("tcp", r.opts.Listen)
		if err != nil {
			return fmt.Errorf("live: --listen %s: %w", r.opts.Listen, err)
		}
		r.mu.Lock()
		r.addr = ln.Addr().String()
		r.mu.Unlock()
		srv = &http.Server{Handler: r.handler(eng), ReadHeaderTimeout: r.opts.ShutdownTimeout}
		go func() {
			defer close(srvDone)
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				r.log.Error("http server", "error", err)
			}
		}()
		r.log.Info(LogListening, "addr", r.addr)
	} else {
		close(srvDone)
	}

	engDone := make(chan struct{})
	go func() {
		defer close(engDone)
		_ = eng.Run(context.WithoutCancel(ctx))
	}()

	pairCtx, cancelPair := context.WithCancel(ctx)
	var pairWG sync.WaitGroup
	pairedCh := make(chan paired)
	defer func() {
		cancelPair()
		pairWG.Wait()
		eng.Stop() // EventStop for every session: heartbeats stop, Close disconnects
		<-engDone
		if srv != nil {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.opts.ShutdownTimeout)
			_ = srv.Shutdown(sctx)
			cancel()
		}
		<-srvDone
	}()

	devices, err := container.GetAllDevices(ctx)
	if err != nil {
		close(r.ready)
		return fmt.Errorf("live: reading the store %s: %w", r.opts.DB, err)
	}
	for _, dev := range devices {
		if dev.ID == nil {
			continue
		}
		cli, tap, ref := r.newClient(dev, sessionID(dev))
		if err := r.addAccount(ctx, dev, cli, tap, ref); err != nil {
			r.log.Error("cannot start an account", "error", err)
		}
	}
	if len(r.Accounts()) == 0 || r.opts.PairNew {
		pairWG.Add(1)
		go func() {
			defer pairWG.Done()
			r.pairLoop(pairCtx, container, pairedCh)
		}()
	}
	close(r.ready)

	for {
		select {
		case <-ctx.Done():
			r.log.Info("shutting down", "accounts", len(r.Accounts()))
			return nil
		case p := <-pairedCh:
			if err := r.addAccount(ctx, p.dev, p.cli, p.tap, p.ref); err != nil {
				r.log.Error("cannot start the paired account", "error", err)
			}
		case <-r.termSig:
			r.handleTerminal(ctx)
		}
	}
}

// addAccount hands a registered device's client to the engine.
func (r *Runner) addAccount(ctx context.Context, dev *store.Device, cli *whatsmeow.Client, tap *wa.Tap, ref *connRef) error {
	id := sessionID(dev)
	jid := *dev.ID
	r.red.Add(jid.User, jid.String(), jid.ToNonAD().String(), dev.LID.User, dev.LID.String())
	if dev.PushName == "" && r.opts.PushName != "" {
		dev.PushName = r.opts.PushName
		if err := dev.Save(ctx); err != nil {
			return fmt.Errorf("account %s: saving push name: %w", id, err)
		}
	}
	conn, err := wa.New(cli, wa.Options{ID: id, Notifier: notifier{r}, Tap: tap})
	if err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	ref.p.Store(conn)
	r.mu.Lock()
	r.accounts[id] = &account{id: id, jid: jid, cli: cli, conn: conn}
	cfg := r.cfg
	r.mu.Unlock()
	if err := r.eng.Add(id, conn, cfg); err != nil {
		r.mu.Lock()
		delete(r.accounts, id)
		r.mu.Unlock()
		return fmt.Errorf("account %s: %w", id, err)
	}
	r.accountsGauge.Inc()
	r.log.Info(LogAccountAdded, "session", id, "jid", jid.String(), "strategy", string(cfg.Strategy))
	return nil
}

// queueTerminal records a terminal notification for the main loop.
func (r *Runner) queueTerminal(id string, kind keepalive.EventKind) {
	r.termMu.Lock()
	r.term = append(r.term, termEvent{id: id, kind: kind})
	r.termMu.Unlock()
	select {
	case r.termSig <- struct{}{}:
	default:
	}
}

// handleTerminal removes the accounts that were logged out, replaced or banned:
// the engine already stopped them for good; they leave the running set, and a
// logged-out device leaves the store. whatsmeow deletes it too on device_removed,
// but with the connection's context, which keepalive/wa cancels as the connection
// ends, so that deletion can fail ("context canceled"): hence the check here.
func (r *Runner) handleTerminal(ctx context.Context) {
	r.termMu.Lock()
	evs := r.term
	r.term = nil
	r.termMu.Unlock()
	for _, ev := range evs {
		r.mu.Lock()
		a, ok := r.accounts[ev.id]
		delete(r.accounts, ev.id)
		left := len(r.accounts)
		r.mu.Unlock()
		if !ok {
			continue
		}
		_ = r.eng.Remove(ev.id)
		reason := ev.kind.String()
		if ev.kind == keepalive.EventLoggedOut {
			if dev, err := r.container.GetDevice(ctx, a.jid); err == nil && dev != nil {
				if err := r.container.DeleteDevice(ctx, dev); err != nil {
					r.log.Error("cannot delete the logged-out device from the store", "session", a.id, "error", err)
				}
			}
		}
		r.accountsGauge.Dec()
		r.removed.WithLabelValues(reason).Inc()
		r.log.Warn(LogAccountRemoved, "session", a.id, "jid", a.jid.String(), "reason", reason,
			"hint", "the server ended this device for good; it is not reconnected. Pair it again to bring it back")
		if left == 0 {
			r.log.Warn("no account left; restart kalab live (with --pair, or on an empty store) to pair one")
		}
	}
}
