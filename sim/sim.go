package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
)

// Epoch is the virtual wall-clock instant at which every run starts: the engine core
// sees times Epoch + elapsed. It is fixed so that runs never depend on the real clock.
var Epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// epochNano is Epoch in Unix nanoseconds.
var epochNano = Epoch.UnixNano()

// Defaults applied by Simulate (zero means default, as documented on the fields).
const (
	DefaultDuration        = 24 * time.Hour
	DefaultRTT             = 100 * time.Millisecond
	DefaultTCPGiveUp       = 924600 * time.Millisecond
	DefaultConnectTimeout  = 20 * time.Second
	DefaultPingServiceTime = 5 * time.Millisecond
	DefaultBurstSize       = 5
	DefaultMessageBytes    = 600
)

// Bounds that keep a run's work finite and sane.
const (
	// MaxInboundPerHour bounds Server.InboundPerHour (100 messages a second).
	MaxInboundPerHour = 360000
	// MinFaultEvery is the shortest period of a repeating fault.
	MinFaultEvery = time.Second
)

// RNG stream identifiers: every run derives three independent PCG streams from its
// seed, so that, say, adding inbound traffic (server draws) or loss (link draws)
// never shifts the engine's own random draws.
const (
	streamEngine = 0x656e67696e65 // "engine"
	streamLink   = 0x6c696e6b     // "link"
	streamServer = 0x736572766572 // "server"
)

// Simulate runs one simulation and returns its metrics. It validates run, applies
// the Network and Server defaults, and is deterministic: the same Run gives the same
// Result, bit for bit.
func Simulate(run Run) (Result, error) {
	return SimulateWithTrace(run, nil)
}

// SimulateWithTrace is Simulate, calling trace (when non-nil) for every event the
// simulator processes and every action the engine returns, in order.
func SimulateWithTrace(run Run, trace TraceFunc) (Result, error) {
	run, err := Normalize(run)
	if err != nil {
		return Result{}, err
	}
	pol, err := keepalive.NewPolicy(run.Policy)
	if err != nil {
		return Result{}, fmt.Errorf("sim: run %s/%s: policy: %w", run.Scenario, run.Client, err)
	}
	s := newSim(run, pol, trace)
	if err := s.loop(); err != nil {
		s.release()
		return Result{}, fmt.Errorf("sim: run %s/%s seed %d: %w", run.Scenario, run.Client, run.Seed, err)
	}
	r := s.result()
	s.release()
	return r, nil
}

// Normalize applies the defaults of Run, Network and Server and validates the
// result; errors name the field. Simulate calls it; callers may use it to show the
// effective run.
func Normalize(run Run) (Run, error) {
	where := func(field string) string {
		if run.Scenario == "" && run.Client == "" {
			return field
		}
		return fmt.Sprintf("run %s/%s: %s", run.Scenario, run.Client, field)
	}
	if run.Duration == 0 {
		run.Duration = DefaultDuration
	}
	if run.Duration < 0 {
		return run, fmt.Errorf("sim: %s: must be > 0, got %v", where("duration"), run.Duration)
	}
	n := &run.Network
	if n.RTT == 0 {
		n.RTT = DefaultRTT
	}
	if n.TCPGiveUp == 0 {
		n.TCPGiveUp = DefaultTCPGiveUp
	}
	if n.ConnectTimeout == 0 {
		n.ConnectTimeout = DefaultConnectTimeout
	}
	switch {
	case n.RTT < 0:
		return run, fmt.Errorf("sim: %s: must be > 0, got %v", where("network.rtt"), n.RTT)
	case n.Jitter < 0:
		return run, fmt.Errorf("sim: %s: must be ≥ 0, got %v", where("network.jitter"), n.Jitter)
	case n.Loss < 0 || n.Loss >= 1 || n.Loss != n.Loss:
		return run, fmt.Errorf("sim: %s: must be in [0, 1), got %v", where("network.loss"), n.Loss)
	case n.TCPGiveUp < 0:
		return run, fmt.Errorf("sim: %s: must be > 0, got %v", where("network.tcp_give_up"), n.TCPGiveUp)
	case n.ConnectTimeout < 0:
		return run, fmt.Errorf("sim: %s: must be > 0, got %v", where("network.connect_timeout"), n.ConnectTimeout)
	}
	sv := &run.Server
	if sv.PingServiceTime == 0 {
		sv.PingServiceTime = DefaultPingServiceTime
	}
	if sv.InboundMode == "" {
		sv.InboundMode = InboundPoisson
	}
	if sv.BurstSize == 0 {
		sv.BurstSize = DefaultBurstSize
	}
	if sv.MessageBytes == 0 {
		sv.MessageBytes = DefaultMessageBytes
	}
	switch {
	case sv.PingServiceTime < 0:
		return run, fmt.Errorf("sim: %s: must be ≥ 0, got %v", where("server.ping_service_time"), sv.PingServiceTime)
	case sv.InboundPerHour < 0 || sv.InboundPerHour != sv.InboundPerHour:
		return run, fmt.Errorf("sim: %s: must be ≥ 0, got %v", where("server.inbound_per_hour"), sv.InboundPerHour)
	case sv.InboundPerHour > MaxInboundPerHour:
		return run, fmt.Errorf("sim: %s: at most %v (100 a second), got %v", where("server.inbound_per_hour"), MaxInboundPerHour, sv.InboundPerHour)
	case sv.InboundMode != InboundPoisson && sv.InboundMode != InboundBursts:
		return run, fmt.Errorf("sim: %s: unknown %q (poisson or bursts)", where("server.inbound_mode"), sv.InboundMode)
	case sv.BurstSize < 0:
		return run, fmt.Errorf("sim: %s: must be > 0, got %d", where("server.burst_size"), sv.BurstSize)
	case sv.MessageBytes < 0:
		return run, fmt.Errorf("sim: %s: must be > 0, got %d", where("server.message_bytes"), sv.MessageBytes)
	case sv.IdleClose < 0:
		return run, fmt.Errorf("sim: %s: must be ≥ 0, got %v", where("server.idle_close"), sv.IdleClose)
	}
	for i, b := range run.Path {
		if err := b.Validate(); err != nil {
			return run, fmt.Errorf("sim: %s: %w", where(fmt.Sprintf("path[%d]", i)), err)
		}
	}
	for i, f := range run.Faults {
		if err := validateFault(f); err != nil {
			return run, fmt.Errorf("sim: %s: %w", where(fmt.Sprintf("faults[%d] (%s)", i, f.Kind)), err)
		}
	}
	return run, nil
}

func validateFault(f Fault) error {
	switch f.Kind {
	case FaultRestart, FaultStreamError515, FaultStreamError503, FaultLogout, FaultReplaced:
	case FaultPartition:
		if f.Duration <= 0 {
			return fmt.Errorf("duration: a partition needs a duration > 0, got %v", f.Duration)
		}
	case FaultLatencySpike:
		if f.Duration <= 0 {
			return fmt.Errorf("duration: a latency spike needs a duration > 0, got %v", f.Duration)
		}
		if f.Extra <= 0 {
			return fmt.Errorf("extra: a latency spike needs extra latency > 0, got %v", f.Extra)
		}
	default:
		return fmt.Errorf("kind: unknown %q (restart, stream_error_515, stream_error_503, logout, replaced, partition, latency_spike)", f.Kind)
	}
	if f.At < 0 {
		return fmt.Errorf("at: must be ≥ 0, got %v", f.At)
	}
	if f.Every < 0 || (f.Every > 0 && f.Every < MinFaultEvery) {
		return fmt.Errorf("every: must be 0 (once) or ≥ %v, got %v", MinFaultEvery, f.Every)
	}
	if f.Duration < 0 {
		return fmt.Errorf("duration: must be ≥ 0, got %v", f.Duration)
	}
	return nil
}

// sim is the state of one run.
type sim struct {
	run   Run
	trace TraceFunc
	q     eventHeap
	now   int64 // ns since start
	end   int64
	// maxStuck is how many events may run without time advancing
	// (maxEventsAtOneInstant; tests lower it).
	maxStuck int

	sess    *keepalive.Session
	state   keepalive.State // the engine's state, from ActionStateChange
	tickAt  int64           // when the engine's tick fires (-1 = none)
	tickSeq uint64          // its place among events at the same time

	linkRNG   *rand.Rand
	serverRNG *rand.Rand
	// the PCG sources behind the engine, link and server streams (reseeded per run)
	enginePCG, linkPCG, serverPCG *rand.PCG

	// link
	halfRTT, jitter, rto, giveUp int64
	partitionStart, partitionEnd int64 // current or last partition window
	spikeEnd, spikeExtra         int64
	restartEnd                   int64

	nextConnID uint32
	c          conn // the client's current connection (id 0 before the first connect)
	pings      []outstandingPing

	srv server
	m   metrics
}

// simPool recycles the simulator's buffers (event heap, samples, messages) across
// runs: a suite runs thousands of days, and a day's buffers are tens of kilobytes.
// Nothing of a pooled sim escapes into a Result (result copies what it returns).
var simPool = sync.Pool{New: func() any {
	return &sim{
		linkPCG:   new(rand.PCG),
		serverPCG: new(rand.PCG),
		enginePCG: new(rand.PCG),
	}
}}

// buffers are the reusable slices of a sim.
type buffers struct {
	nodes  []hnode
	slab   []event
	free   []int32
	pings  []outstandingPing
	bands  []Band
	marks  []Mark
	traj   []IntervalPoint
	rtts   []int64
	delays []int64
	msgs   []message
	boxes  []boxState
	rngs   [3]*rand.PCG
}

func newSim(run Run, pol *keepalive.Policy, trace TraceFunc) *sim {
	old := simPool.Get().(*sim)
	b := buffers{
		nodes: old.q.nodes[:0], slab: old.q.slab[:0], free: old.q.free[:0],
		pings: old.pings[:0], bands: old.m.bands[:0], marks: old.m.marks[:0],
		traj: old.m.traj[:0], rtts: old.m.rtts[:0], delays: old.m.delays[:0],
		msgs: old.srv.msgs[:0], boxes: old.c.boxes[:0],
		rngs: [3]*rand.PCG{old.enginePCG, old.linkPCG, old.serverPCG},
	}
	seed := run.Seed
	b.rngs[0].Seed(seed, streamEngine)
	b.rngs[1].Seed(seed, streamLink)
	b.rngs[2].Seed(seed, streamServer)
	s := old
	*s = sim{
		run:       run,
		trace:     trace,
		end:       int64(run.Duration),
		maxStuck:  maxEventsAtOneInstant,
		enginePCG: b.rngs[0],
		linkPCG:   b.rngs[1],
		serverPCG: b.rngs[2],
		linkRNG:   rand.New(b.rngs[1]),
		serverRNG: rand.New(b.rngs[2]),
		halfRTT:   int64(run.Network.RTT / 2),
		jitter:    int64(run.Network.Jitter),
		giveUp:    int64(run.Network.TCPGiveUp),
		// Linux: RTO = SRTT + 4·RTTVAR, at least 200 ms; approximated as 200 ms + RTT.
		rto:            int64(200*time.Millisecond + run.Network.RTT),
		partitionStart: -1,
		partitionEnd:   -1,
		restartEnd:     -1,
		tickAt:         -1,
	}
	s.sess = keepalive.NewSession(pol, rand.New(b.rngs[0]))
	s.q.nodes, s.q.slab, s.q.free = b.nodes, b.slab, b.free
	s.pings = b.pings
	s.c.boxes = b.boxes
	s.m.bands, s.m.marks, s.m.traj = b.bands, b.marks, b.traj
	s.m.rtts, s.m.delays = b.rtts, b.delays
	s.srv.msgs = b.msgs
	s.m.init(s)
	s.srv.init(s)
	return s
}

// release returns s to the pool, dropping its references to the caller's data.
func (s *sim) release() {
	s.run = Run{}
	s.trace = nil
	s.sess = nil
	for i := range s.c.boxes {
		s.c.boxes[i].spec = nil
	}
	simPool.Put(s)
}

// t converts a run offset into the engine's time.
func (s *sim) t(at int64) time.Time { return Epoch.Add(time.Duration(at)) }

// schedule pushes an event at `at` (never before now).
func (s *sim) schedule(e *event) {
	if e.at < s.now {
		e.at = s.now
	}
	s.q.push(e)
}

// maxEventsAtOneInstant bounds how many events the loop processes without virtual
// time advancing. A healthy run handles a handful at one instant (a frame, its
// reply, the engine's actions); far more means the model keeps rescheduling an event
// at the same time, and the run stops with an error instead of spinning for ever.
const maxEventsAtOneInstant = 1_000_000

// errStalled reports a run whose virtual time stopped advancing (a model bug).
var errStalled = errors.New("virtual time stopped advancing (a simulator bug: please report it with the scenario and seed)")

// loop runs events until the end of the run.
func (s *sim) loop() error {
	s.schedule(&event{at: s.end, kind: evEnd})
	for i := range s.run.Faults {
		s.schedule(&event{at: int64(s.run.Faults[i].At), kind: evFault, aux: uint64(i)})
	}
	s.srv.scheduleNextInbound()
	s.step(keepalive.Event{Kind: keepalive.EventStart})
	var e event
	stuckAt, stuck := int64(-1), 0
	for s.q.len() > 0 {
		if s.now != stuckAt {
			stuckAt, stuck = s.now, 0
		} else if stuck++; stuck > s.maxStuck {
			return fmt.Errorf("at %s: %d events without time advancing: %w", time.Duration(s.now), stuck, errStalled)
		}
		if s.tickAt >= 0 {
			top := s.q.peek()
			if s.tickAt < top.at || (s.tickAt == top.at && s.tickSeq < top.seq) {
				s.now = s.tickAt
				s.tickAt = -1
				s.step(keepalive.Event{Kind: keepalive.EventTick})
				s.m.observe()
				continue
			}
		}
		s.q.pop(&e)
		s.now = e.at
		if s.trace != nil {
			s.traceEvent(&e)
		}
		if e.kind == evEnd {
			break
		}
		s.dispatch(&e)
		s.m.observe()
	}
	s.now = s.end
	s.m.finish()
	return nil
}

func (s *sim) dispatch(e *event) {
	switch e.kind {
	case evEngine:
		s.step(keepalive.Event{Kind: keepalive.EventKind(e.aux), Seq: e.aux2, Cause: keepalive.Cause(e.conn)})
	case evHop:
		s.route(&e.f)
	case evArrive:
		if e.f.dir == dirDown {
			s.clientReceive(&e.f)
		} // up: handled when routed (route); the event only exists for the trace
	case evBoxExpire:
		s.boxTimer(e.conn, int(e.aux))
	case evConnectDone:
		s.connectDone(e.conn, connectOutcome(e.aux))
	case evGiveUp:
		s.tcpGiveUp(e.conn)
	case evServerIdle:
		s.srv.idleCheck(e.conn)
	case evInbound:
		s.srv.inbound()
	case evFault:
		s.srv.fault(int(e.aux))
	case evFaultEnd:
		// Nothing to do: observe() after dispatch sees the partition or restart end.
	case evBoxSignal:
		s.clientSignal(e.conn, keepalive.Cause(e.aux))
	}
}

// step feeds ev to the engine at the current time, runs the returned actions and
// re-arms the engine's tick. Actions never step the engine re-entrantly: an input
// they cause (an immediate send failure) is scheduled as an evEngine event.
func (s *sim) step(ev keepalive.Event) {
	if s.trace != nil {
		s.traceInput(&ev)
	}
	acts := s.sess.Step(s.t(s.now), ev)
	for i := range acts {
		if s.trace != nil {
			s.traceAction(&acts[i])
		}
		s.do(&acts[i])
	}
	s.armTick()
}

// armTick sets the engine's tick to its NextDeadline (a tick at or after the end
// of the run never fires). A re-armed tick gets a new seq, as if pushed now.
func (s *sim) armTick() {
	d := s.sess.NextDeadline()
	if d.IsZero() {
		s.tickAt = -1
		return
	}
	at := d.UnixNano() - epochNano // cheaper than d.Sub(Epoch); runs stay far from overflow
	if at < s.now {
		at = s.now
	}
	if at == s.tickAt {
		return
	}
	if at >= s.end {
		s.tickAt = -1
		return
	}
	s.tickAt = at
	s.tickSeq = s.q.nextSeq()
}

// deferEngine schedules an engine input at the current time.
func (s *sim) deferEngine(kind keepalive.EventKind, seq uint64, cause keepalive.Cause) {
	s.schedule(&event{at: s.now, kind: evEngine, aux: uint64(kind), aux2: seq, conn: uint32(cause)})
}
