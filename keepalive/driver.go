package keepalive

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// The driver: one goroutine runs every session of an Engine.
//
//	Add/Remove/Reconfigure/Notify ──┐
//	Conn call outcomes ─────────────┼─► inbox ─► loop ─► Session.Step ─► actions ─► Conn calls
//	one clockwork timer ────────────┘              │                               (on elastic worker
//	                                              └─► deadline heap                pools: driver_pool.go)
//	                                                  (earliest key first)
//
// Invariants:
//   - Only the loop steps sessions, and only while it holds stateMu.
//   - One timer, armed for the earliest key of the heap; never a timer per session.
//     A session's key is the earliest of its NextDeadline, its outstanding ping's
//     reply deadline and its Connect's timeout.
//   - A Conn call never runs on the loop goroutine; its outcome comes back through
//     the inbox as an event. A ping whose reply deadline passes is failed by the
//     loop itself (its ctx is cancelled), whatever the Conn does afterwards.
//   - A round reads the clock after taking the inbox, so an outcome is never
//     stamped with a time before its Conn call returned.

// ErrEngineStopped is returned by Engine methods called after the engine stopped.
var ErrEngineStopped = errors.New("keepalive: engine stopped")

// DefaultConnectTimeout is EngineOptions.ConnectTimeout's default.
const DefaultConnectTimeout = 30 * time.Second

// EngineOptions configures an Engine. The zero value is usable.
type EngineOptions struct {
	// Clock drives every deadline. Default: the real clock.
	Clock clockwork.Clock
	// Seed derives each session's random source: the same seed and session ID give
	// the same sequence, whatever the order sessions are added in.
	Seed uint64
	// Logger receives the lifecycle lines (connected, keep-alive started, sent,
	// failed, stopped, reconnecting). Default: slog.Default().
	Logger *slog.Logger
	// Registerer receives the engine's Prometheus collectors (see Metrics). nil:
	// no metrics. Never the global registry unless the caller passes it.
	Registerer prometheus.Registerer
	// ConnectTimeout bounds one Conn.Connect call; when it passes the attempt
	// counts as failed. Default: DefaultConnectTimeout (30 s).
	ConnectTimeout time.Duration
}

// Engine drives any number of sessions from one goroutine (Run). Its methods are
// safe for concurrent use.
type Engine struct {
	clock          clockwork.Clock
	seed           uint64
	log            *slog.Logger
	metrics        *metrics
	connectTimeout time.Duration

	// mu guards the registry, the policy cache and the inbox.
	mu       sync.Mutex
	sessions map[string]*entry
	policies map[Config]*Policy
	inbox    []item
	spare    []item
	closed   bool // no more Add/Notify

	wake    chan struct{} // cap 1: the inbox is not empty
	stopCh  chan struct{}
	stopped sync.Once
	started atomic.Bool
	done    chan struct{} // closed when Run returns

	// stateMu is held by the loop while it steps sessions, and by readers of
	// session state (Snapshot). Lock order: stateMu, then mu.
	stateMu sync.Mutex
	heap    deadlineHeap
	round   uint32
	acts    []Action // shared Step buffer (Session.AppendStep)
	runCtx  context.Context
	timer   clockwork.Timer
	armed   int64          // key the timer is armed for; never when stopped
	ops     sync.WaitGroup // every goroutine that runs a Conn call
	ctrlOps int            // connect/close calls in flight

	presencePool callPool // SendPresence
	pingPool     callPool // Ping
	ctrlPool     callPool // Connect and Close

	// counts[s] is how many registered sessions are in state s (readiness).
	counts [StateStopped + 1]atomic.Int64
}

// NewEngine returns an engine; nothing runs until Run. It fails only when the
// collectors cannot be registered.
func NewEngine(opts EngineOptions) (*Engine, error) {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	e := &Engine{
		clock:          opts.Clock,
		seed:           opts.Seed,
		log:            opts.Logger,
		connectTimeout: opts.ConnectTimeout,
		sessions:       make(map[string]*entry),
		policies:       make(map[Config]*Policy),
		wake:           make(chan struct{}, 1),
		stopCh:         make(chan struct{}),
		done:           make(chan struct{}),
		armed:          never,
	}
	e.presencePool = callPool{e: e, max: maxPoolWorkers}
	e.pingPool = callPool{e: e, max: uncapped}
	e.ctrlPool = callPool{e: e, max: maxPoolWorkers}
	if opts.Registerer != nil {
		m, err := newMetrics(opts.Registerer)
		if err != nil {
			return nil, err
		}
		e.metrics = m
	}
	return e, nil
}

// policy returns the shared Policy for cfg, building it once. The caller holds mu.
func (e *Engine) policy(cfg Config) (*Policy, error) {
	if p, ok := e.policies[cfg]; ok {
		return p, nil
	}
	p, err := NewPolicy(cfg)
	if err != nil {
		return nil, err
	}
	e.policies[cfg] = p
	return p, nil
}

// sessionRand derives the random source of session id from the engine seed.
func (e *Engine) sessionRand(id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(e.seed, h.Sum64()))
}

// Add registers a session that keeps conn alive under cfg and starts it (its
// first action is Connect). IDs are chosen by the caller and must be unique among
// the engine's current sessions; redact account identifiers before using them.
func (e *Engine) Add(id string, conn Conn, cfg Config) error {
	if conn == nil {
		return fmt.Errorf("keepalive: add session %q: nil Conn", id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrEngineStopped
	}
	if _, dup := e.sessions[id]; dup {
		return fmt.Errorf("keepalive: add session %q: a session with this ID exists", id)
	}
	p, err := e.policy(cfg)
	if err != nil {
		return fmt.Errorf("keepalive: add session %q: %w", id, err)
	}
	ent := &entry{
		id:   id,
		conn: conn,
		sess: NewSession(p, e.sessionRand(id)),
		key:  never,
		idx:  -1,
	}
	e.sessions[id] = ent
	e.counts[StateIdle].Add(1)
	e.pushLocked(item{ent: ent, cmd: cmdAdd})
	return nil
}

// Remove stops session id (EventStop), closes its connection and forgets it.
// After the engine stopped (every session is then stopped and closed already) it
// only forgets it.
func (e *Engine) Remove(id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, ok := e.sessions[id]
	if !ok {
		return fmt.Errorf("keepalive: remove session %q: no such session", id)
	}
	delete(e.sessions, id)
	e.pushLocked(item{ent: ent, cmd: cmdRemove})
	return nil
}

// Reconfigure replaces session id's policy (EventConfigChanged). Sessions with
// equal configs share one Policy.
func (e *Engine) Reconfigure(id string, cfg Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, err := e.liveSessionLocked("reconfigure", id)
	if err != nil {
		return err
	}
	p, err := e.policy(cfg)
	if err != nil {
		return fmt.Errorf("keepalive: reconfigure session %q: %w", id, err)
	}
	e.pushLocked(item{ent: ent, ev: Event{Kind: EventConfigChanged, Policy: p}})
	return nil
}

// Notify reports something a connection saw on its own: EventDisconnected (with
// Cause), EventLoggedOut, EventReplaced, EventBanned or EventInbound. It never
// blocks on the loop and is safe to call from any goroutine, a Conn's included.
func (e *Engine) Notify(id string, ev Event) error {
	switch ev.Kind {
	case EventDisconnected, EventLoggedOut, EventReplaced, EventBanned, EventInbound:
	default:
		return fmt.Errorf("keepalive: notify session %q: event %s is the driver's own; a Conn may report disconnected, logged_out, replaced, banned or inbound", id, ev.Kind)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, err := e.liveSessionLocked("notify", id)
	if err != nil {
		return err
	}
	e.pushLocked(item{ent: ent, ev: Event{Kind: ev.Kind, Cause: ev.Cause}})
	return nil
}

// liveSessionLocked returns session id for op ("notify"), or ErrEngineStopped
// once the engine stopped, or an error naming op and id if there is no such
// session. The caller holds e.mu.
func (e *Engine) liveSessionLocked(op, id string) (*entry, error) {
	if e.closed {
		return nil, ErrEngineStopped
	}
	ent, ok := e.sessions[id]
	if !ok {
		return nil, fmt.Errorf("keepalive: %s session %q: no such session", op, id)
	}
	return ent, nil
}

// Len returns the number of registered sessions.
func (e *Engine) Len() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.sessions)
}

// pushLocked queues it for the loop; the caller holds mu.
func (e *Engine) pushLocked(it item) {
	e.inbox = append(e.inbox, it)
	if len(e.inbox) == 1 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// push queues it for the loop from any goroutine (Conn call results).
func (e *Engine) push(it item) {
	e.mu.Lock()
	e.pushLocked(it)
	e.mu.Unlock()
}

// Run drives the sessions until ctx is done or Stop is called, then stops every
// session (EventStop), closes their connections, waits for every Conn call it
// started and returns. It returns nil, or an error if Run was already called.
func (e *Engine) Run(ctx context.Context) error {
	if !e.started.CompareAndSwap(false, true) {
		return errors.New("keepalive: Engine.Run called twice")
	}
	defer close(e.done)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	e.stateMu.Lock()
	e.runCtx = runCtx
	e.timer = e.clock.NewTimer(time.Hour)
	e.timer.Stop()
	e.stateMu.Unlock()

	e.stateMu.Lock()
	e.step()
	e.stateMu.Unlock()
	for {
		select {
		case <-ctx.Done():
		case <-e.stopCh:
		case <-e.wake:
			e.stateMu.Lock()
			e.step()
			e.stateMu.Unlock()
			continue
		case <-e.timer.Chan():
			e.stateMu.Lock()
			e.armed = never
			e.step()
			e.stateMu.Unlock()
			continue
		}
		break
	}
	e.shutdown(cancel)
	return nil
}

// Stop ends Run and waits for it to return. It is safe to call more than once,
// and before Run (Run then returns at once).
func (e *Engine) Stop() {
	e.stopped.Do(func() { close(e.stopCh) })
	if e.started.Load() {
		<-e.done
	}
}
