package keepalive

import (
	"encoding/json"
	"slices"
	"strings"
)

// SessionHealth is one session's Health with its ID.
type SessionHealth struct {
	// ID is the session's ID as registered with the Engine.
	ID string `json:"id"`
	Health
}

// MarshalJSON writes the health with its state by name ("connected") and the
// durations in nanoseconds, as Health's own fields say.
func (h SessionHealth) MarshalJSON() ([]byte, error) {
	type plain Health // no methods: no recursion
	return json.Marshal(struct {
		ID string `json:"id"`
		plain
		State string `json:"state"`
	}{ID: h.ID, plain: plain(h.Health), State: h.Health.State.String()})
}

// Snapshot returns the health of every registered session, sorted by ID.
func (e *Engine) Snapshot() []SessionHealth {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	e.mu.Lock()
	ents := make([]*entry, 0, len(e.sessions))
	for _, ent := range e.sessions {
		ents = append(ents, ent)
	}
	e.mu.Unlock()
	slices.SortFunc(ents, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	out := make([]SessionHealth, len(ents))
	for i, ent := range ents {
		out[i] = SessionHealth{ID: ent.id, Health: ent.sess.Health()}
	}
	return out
}

// SessionHealthOf returns the health of session id, and false if there is none.
func (e *Engine) SessionHealthOf(id string) (Health, bool) {
	e.stateMu.Lock()
	defer e.stateMu.Unlock()
	e.mu.Lock()
	ent, ok := e.sessions[id]
	e.mu.Unlock()
	if !ok {
		return Health{}, false
	}
	return ent.sess.Health(), true
}

// StateCounts returns how many registered sessions are in each state, indexed by
// State. It takes no lock the loop holds, so it is cheap enough for probes.
func (e *Engine) StateCounts() [StateStopped + 1]int {
	var c [StateStopped + 1]int
	for s := range c {
		c[s] = int(e.counts[s].Load())
	}
	return c
}
