package keepalive

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// propertyConfigs are the policies the randomized test draws from (and switches
// between with EventConfigChanged).
func propertyConfigs() []Config {
	cfgs := []Config{PresetSeed, PresetWhatsmeow, PresetBaileys, PresetMars, PresetGRPC, PresetKalab}
	cfgs = append(cfgs,
		Config{Strategy: StrategyCombined, IntervalMode: IntervalRandom, IntervalMin: 5 * time.Second, IntervalMax: 9 * time.Second,
			ReplyDeadline: 3 * time.Second, Detection: DetectionConfig{MaxFailures: 3, MaxSilence: 20 * time.Second}},
		Config{Strategy: StrategyFallback, Interval: 7 * time.Second, ReplyDeadline: 2 * time.Second,
			Fallback: FallbackConfig{After: 1, RetryPrimaryEvery: 2}, Reconnect: ReconnectConfig{Mode: ReconnectNever}},
		Config{Strategy: StrategyPresence, Interval: 4 * time.Second, Detection: DetectionConfig{MaxFailures: 2},
			Reconnect: ReconnectConfig{Mode: ReconnectLinear, LinearStep: time.Second}},
		Config{IntervalMode: IntervalAdaptive, InboundIsLiveness: true, MeasureFromLastRead: true, FixedRate: true,
			ReplyDeadline: 4 * time.Second, Adaptive: AdaptiveConfig{Floor: time.Second, Initial: 6 * time.Second, Ceiling: time.Minute, GrowAfter: 1},
			Reconnect: ReconnectConfig{Immediate: true, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second, StableAfter: 10 * time.Second}},
	)
	return cfgs
}

// pingModel is the driver's view of one ping: in flight from its SendPing until
// its outcome is reported, its deadline passes, or its connection is replaced.
type pingModel struct {
	seq      uint64
	deadline time.Time
}

// TestPropertyRandomEventSequences steps sessions with random event sequences and
// checks the invariants after every step:
//   - never two pings in flight for one session (as the driver sees them);
//   - nothing but nil after logout, replacement, ban or stop (no heartbeat, no
//     connect), and no deadline;
//   - every reconnect delay within its policy's bounds;
//   - NextDeadline never before now;
//   - state changes chain (PrevState = the state before) and end in State().
func TestPropertyRandomEventSequences(t *testing.T) {
	seeds, steps := uint64(2000), 400
	if testing.Short() {
		seeds = 200
	}
	policies := make([]*Policy, 0)
	for _, c := range propertyConfigs() {
		policies = append(policies, MustPolicy(c))
	}
	var seen [ActionStateChange + 1]int
	for seed := uint64(1); seed <= seeds; seed++ {
		if err := runProperty(seed, steps, policies, &seen); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
	// The sequences exercise every kind of action.
	for k := ActionSendPresence; k <= ActionStateChange; k++ {
		require.Positive(t, seen[k], "no %v action in any sequence", k)
	}
	t.Logf("actions seen: %v", seen[1:])
}

func runProperty(seed uint64, steps int, policies []*Policy, seen *[ActionStateChange + 1]int) error {
	r := rand.New(rand.NewPCG(seed, 0x6b616c6162))
	p := policies[r.IntN(len(policies))]
	s := NewSession(p, rand.New(rand.NewPCG(seed, 1)))
	now := ct0
	var inflight *pingModel
	var seqs []uint64 // heartbeats sent, for outcome events
	state := StateIdle
	stopped := false

	for i := 0; i < steps; i++ {
		ev := Event{}
		switch x := r.IntN(100); {
		case x < 35:
			ev.Kind = EventTick
			if nd := s.NextDeadline(); !nd.IsZero() && r.IntN(4) > 0 {
				now = nd
			} else {
				now = now.Add(time.Duration(r.Int64N(int64(90 * time.Second))))
			}
		case x < 50:
			ev.Kind = EventHeartbeatAck
			ev.RTT = time.Duration(r.Int64N(int64(3 * time.Second)))
		case x < 58:
			ev.Kind = EventHeartbeatFailed
		case x < 68:
			ev.Kind = EventInbound
		case x < 76:
			ev.Kind = EventConnected
		case x < 82:
			ev.Kind = EventDisconnected
			ev.Cause = Cause(r.IntN(8))
		case x < 88:
			ev.Kind = EventConnectFailed
		case x < 92:
			ev.Kind = EventStart
		case x < 96:
			ev.Kind = EventConfigChanged
			ev.Policy = policies[r.IntN(len(policies))]
		case x < 97 && r.IntN(10) == 0: // 0.1 %: most sequences run to the end
			ev.Kind = []EventKind{EventLoggedOut, EventReplaced, EventBanned, EventStop}[r.IntN(4)]
		default:
			ev.Kind = EventInbound
		}
		if (ev.Kind == EventHeartbeatAck || ev.Kind == EventHeartbeatFailed) && len(seqs) > 0 {
			if inflight != nil && r.IntN(3) > 0 {
				ev.Seq = inflight.seq
			} else {
				ev.Seq = seqs[r.IntN(len(seqs))]
			}
		}
		if ev.Kind != EventTick && r.IntN(3) == 0 {
			now = now.Add(time.Duration(r.Int64N(int64(10 * time.Second))))
		}
		policy := s.Policy()

		acts := s.Step(now, ev)
		where := func(format string, a ...any) error {
			return fmt.Errorf("step %d (%v at %v, seq %d): %s; actions %v", i, ev.Kind, now.Sub(ct0), ev.Seq, fmt.Sprintf(format, a...), acts)
		}

		if stopped {
			if acts != nil {
				return where("actions after stop")
			}
			if !s.NextDeadline().IsZero() {
				return where("deadline after stop")
			}
			continue
		}
		// The driver's view of the ping in flight before this step's actions.
		if inflight != nil {
			switch {
			case (ev.Kind == EventHeartbeatAck || ev.Kind == EventHeartbeatFailed) && ev.Seq == inflight.seq:
				inflight = nil
			case !now.Before(inflight.deadline):
				inflight = nil
			case ev.Kind == EventConnected:
				inflight = nil // a new connection
			}
		}
		for _, a := range acts {
			seen[a.Kind]++
			switch a.Kind {
			case ActionSendPing:
				if inflight != nil {
					return where("ping %d sent while ping %d is in flight until %v", a.Seq, inflight.seq, inflight.deadline.Sub(ct0))
				}
				if a.Deadline != policy.cfg.ReplyDeadline && a.Deadline != s.Policy().cfg.ReplyDeadline {
					return where("ping deadline %v", a.Deadline)
				}
				inflight = &pingModel{seq: a.Seq, deadline: now.Add(a.Deadline)}
				seqs = append(seqs, a.Seq)
			case ActionSendPresence:
				seqs = append(seqs, a.Seq)
			case ActionConnect:
				inflight = nil // the old connection is closed first
			case ActionClose:
				stopped = true
			case ActionStateChange:
				if a.PrevState != state {
					return where("state change from %v, but the state was %v", a.PrevState, state)
				}
				if a.State == a.PrevState {
					return where("empty state change")
				}
				state = a.State
				if a.State == StateWaiting {
					if err := checkDelay(s, now); err != nil {
						return where("%v", err)
					}
				}
				if a.PrevState == StateConnected {
					inflight = nil
				}
			}
		}
		if state != s.State() {
			return where("reported state %v, State() %v", state, s.State())
		}
		if stopped != (s.State() == StateStopped) {
			return where("close without stop")
		}
		if nd := s.NextDeadline(); !nd.IsZero() && nd.Before(now) {
			return where("NextDeadline %v before now", nd.Sub(ct0))
		}
		if len(seqs) > 64 {
			seqs = seqs[len(seqs)-32:]
		}
	}
	return nil
}

// checkDelay checks the reconnect delay of a session that just started waiting.
func checkDelay(s *Session, now time.Time) error {
	r := s.Policy().Config().Reconnect
	nd := s.NextDeadline()
	if nd.IsZero() {
		if r.Mode == ReconnectNever {
			return nil
		}
		return fmt.Errorf("waiting without a deadline under %v", r.Mode)
	}
	d := nd.Sub(now)
	switch r.Mode {
	case ReconnectBackoff:
		lo, _ := BackoffBounds(r, 0)
		_, hi := BackoffBounds(r, maxRetries)
		if d < lo || d > hi {
			return fmt.Errorf("backoff delay %v outside [%v, %v]", d, lo, hi)
		}
	case ReconnectLinear:
		if d <= 0 || d%r.LinearStep != 0 {
			return fmt.Errorf("linear delay %v not a positive multiple of %v", d, r.LinearStep)
		}
	case ReconnectPoll:
		if d <= 0 || d > r.PollInterval {
			return fmt.Errorf("poll delay %v outside (0, %v]", d, r.PollInterval)
		}
	default:
		return fmt.Errorf("waiting with a delay under %v", r.Mode)
	}
	return nil
}

func TestBackoffAlwaysWithinBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []ReconnectConfig{
		{},
		{BaseDelay: 100 * time.Millisecond, Multiplier: 2, Jitter: 0.5, MaxDelay: 10 * time.Second},
		{BaseDelay: time.Second, Multiplier: 1, Jitter: -1, MaxDelay: time.Second},
	} {
		cfg := Config{Reconnect: c}
		cfg.ApplyDefaults()
		for retries := 0; retries < 200; retries++ {
			lo, hi := BackoffBounds(cfg.Reconnect, retries)
			for k := 0; k < 20; k++ {
				d := Backoff(cfg.Reconnect, retries, rng)
				require.GreaterOrEqual(t, d, lo)
				require.LessOrEqual(t, d, hi)
				require.LessOrEqual(t, d, time.Duration(float64(cfg.Reconnect.MaxDelay)*(1+max(cfg.Reconnect.Jitter, 0))))
			}
		}
	}
}
