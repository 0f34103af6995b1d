package keepalive

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ct0 is the virtual epoch of core tests.
var ct0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// core steps one Session in virtual time and keeps the actions of the last step.
type core struct {
	t    *testing.T
	s    *Session
	now  time.Time
	last []Action
}

func newCore(t *testing.T, cfg Config) *core {
	t.Helper()
	p, err := NewPolicy(cfg)
	require.NoError(t, err)
	return &core{t: t, s: NewSession(p, rand.New(rand.NewPCG(1, 2))), now: ct0}
}

// at moves virtual time to ct0+d (never backwards).
func (h *core) at(d time.Duration) *core {
	h.t.Helper()
	require.False(h.t, ct0.Add(d).Before(h.now), "time goes back")
	h.now = ct0.Add(d)
	return h
}

func (h *core) step(ev Event) []Action {
	h.last = append(h.last[:0], h.s.Step(h.now, ev)...)
	return h.last
}

func (h *core) ev(k EventKind) []Action { return h.step(Event{Kind: k}) }

// tick advances to the session's deadline and steps EventTick there.
func (h *core) tick() []Action {
	h.t.Helper()
	d := h.s.NextDeadline()
	require.False(h.t, d.IsZero(), "no deadline to tick")
	h.now = d
	return h.ev(EventTick)
}

// elapsed is the virtual time since ct0.
func (h *core) elapsed() time.Duration { return h.now.Sub(ct0) }

// deadlineIn is NextDeadline relative to ct0 (-1 for none).
func (h *core) deadline() time.Duration {
	d := h.s.NextDeadline()
	if d.IsZero() {
		return -1
	}
	return d.Sub(ct0)
}

// connected returns a core whose session is started and connected at ct0.
func connectedCore(t *testing.T, cfg Config) *core {
	t.Helper()
	h := newCore(t, cfg)
	h.ev(EventStart)
	h.ev(EventConnected)
	require.Equal(t, StateConnected, h.s.State())
	return h
}

func actKinds(acts []Action) []ActionKind {
	out := make([]ActionKind, len(acts))
	for i, a := range acts {
		out[i] = a.Kind
	}
	return out
}

func findAct(acts []Action, k ActionKind) (Action, bool) {
	for _, a := range acts {
		if a.Kind == k {
			return a, true
		}
	}
	return Action{}, false
}

func stateChange(from, to State) Action {
	return Action{Kind: ActionStateChange, PrevState: from, State: to}
}
