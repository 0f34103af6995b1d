package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// fingerprintInput is everything that changes a sweep's numbers or its layout.
type fingerprintInput struct {
	SchemaVersion int                  `json:"schema_version"`
	PolicyVersion int                  `json:"policy_version"`
	Paths         [][]middlebox.Spec   `json:"paths"`
	Strategies    []keepalive.Strategy `json:"strategies"`
	Policies      []keepalive.Config   `json:"policies"`
	Intervals     []time.Duration      `json:"intervals"`
	Seeds         []uint64             `json:"seeds"`
	Duration      time.Duration        `json:"duration"`
	Network       sim.Network          `json:"network"`
	Server        sim.Server           `json:"server"`
	Faults        []sim.Fault          `json:"faults"`
	SafeUptime    float64              `json:"safe_uptime"`
}

// fingerprint hashes the resolved grid (SHA-256 of its canonical JSON, first 16
// bytes as hex).
func (r resolved) fingerprint() (string, error) {
	in := fingerprintInput{
		SchemaVersion: reports.SchemaVersion,
		PolicyVersion: PolicyVersion,
		Strategies:    r.Strategies,
		Intervals:     r.Intervals,
		Seeds:         r.Seeds,
		Duration:      r.Duration,
		Network:       r.Network,
		Server:        r.Server,
		Faults:        r.Faults,
		SafeUptime:    r.SafeUptime,
	}
	for _, p := range r.paths {
		in.Paths = append(in.Paths, p.specs)
	}
	for _, s := range r.Strategies {
		in.Policies = append(in.Policies, Policy(s, time.Second, r.ReplyDeadline))
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("sweep: fingerprint: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}

// Fingerprint returns the fingerprint of g's sweep (see reports.Sweep.Fingerprint).
func Fingerprint(g Grid) (string, error) {
	r, err := g.resolve()
	if err != nil {
		return "", err
	}
	return r.fingerprint()
}
