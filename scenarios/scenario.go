// Package scenarios reads kalab's scenario files (YAML) and holds the built-in suite
// embedded in the binary. A scenario names a path of middleboxes, the network and
// server behaviour, faults, the clients to compare, the duration and seeds, and the
// expectations CI checks; it expands into one sim.Run per client × seed.
//
// Loading is strict and every error names file:line and the field path, with the
// closest valid name for a typo. The package imports keepalive, sim and
// sim/middlebox; it never imports reports, sim/netlab, sim/mockwa or cmd.
package scenarios

import (
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// DefaultDuration is a scenario's simulated time when the file sets none.
const DefaultDuration = 24 * time.Hour

// DefaultSeeds are a scenario's seeds when the file sets none: fixed, so two plain
// runs give identical results.
var DefaultSeeds = []uint64{1, 2, 3}

// Scenario is one loaded, validated scenario.
type Scenario struct {
	// Name identifies the scenario in results; unique within a load.
	Name string
	// Description says in a sentence what the scenario shows.
	Description string
	// File is where the scenario was read ("suite/nginx.yaml" for built-ins).
	File string
	// Duration is the simulated time of each run. Default: DefaultDuration.
	Duration time.Duration
	// Seeds are run for every client. Default: DefaultSeeds.
	Seeds []uint64
	// Path is the ordered list of middleboxes from client to server (may be empty).
	Path []middlebox.Spec
	// Network is the link model shared by every client (see sim.Network).
	Network sim.Network
	// Server is the server model shared by every client (see sim.Server).
	Server sim.Server
	// Faults are injected into every run (see sim.Fault).
	Faults []sim.Fault
	// Clients are compared side by side, in file order.
	Clients []Client

	// line is where the scenario's document starts in File.
	line int
}

// Client is one keep-alive policy of a scenario.
type Client struct {
	// Name is the display name; unique within the scenario. Default: the preset.
	Name string
	// Preset is the keepalive preset the policy started from ("" for a full config).
	Preset string
	// Config is the policy: the preset with the file's overrides applied.
	Config keepalive.Config
	// Expect are the bounds this client must meet on every seed.
	Expect []Expectation
}

// Runs expands the scenario into one sim.Run per client × seed, clients in file
// order and seeds in the given order within each client.
func (s Scenario) Runs() []sim.Run {
	runs := make([]sim.Run, 0, len(s.Clients)*len(s.Seeds))
	for _, c := range s.Clients {
		for _, seed := range s.Seeds {
			runs = append(runs, sim.Run{
				Scenario: s.Name,
				Client:   c.Name,
				Policy:   c.Config,
				Path:     append([]middlebox.Spec(nil), s.Path...),
				Network:  s.Network,
				Server:   s.Server,
				Faults:   append([]sim.Fault(nil), s.Faults...),
				Duration: s.Duration,
				Seed:     seed,
			})
		}
	}
	return runs
}

// PathString is the path in the compact syntax of middlebox.ParsePath, element
// names joined by commas ("none" for an empty path).
func (s Scenario) PathString() string {
	if len(s.Path) == 0 {
		return "none"
	}
	out := ""
	for i, b := range s.Path {
		if i > 0 {
			out += ","
		}
		out += b.String()
	}
	return out
}
