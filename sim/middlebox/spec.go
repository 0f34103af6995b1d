// Package middlebox describes the boxes between a bot and WhatsApp that can end an idle
// connection (proxies, load balancers, NATs): one spec, realised by the simulator (sim)
// and by the network lab (sim/netlab) as Toxiproxy toxics. The catalog holds the
// profiles of FACTS.md §1, each with its source.
//
// It imports nothing of the project but may be imported by anything in it.
package middlebox

import "time"

// Kind is the kind of timer a middlebox keeps per connection.
type Kind string

const (
	// KindIdle: the timer is re-armed by traffic in the watched directions.
	KindIdle Kind = "idle"
	// KindLifetime: the timer runs from the connection's start whatever passes.
	KindLifetime Kind = "lifetime"
	// KindNone: the box keeps no timer (Traefik, Caddy, HAProxy's defaults).
	KindNone Kind = "none"
)

// Direction says which traffic re-arms an idle timer.
type Direction string

const (
	// Up: client → server.
	Up Direction = "up"
	// Down: server → client.
	Down Direction = "down"
	// Both: either direction.
	Both Direction = "both"
)

// Expiry is what happens when the timer fires.
type Expiry string

const (
	// Close: orderly FIN to both ends.
	Close Expiry = "close"
	// Reset: RST to both ends.
	Reset Expiry = "reset"
	// Blackhole: state silently dropped; later packets vanish (or get an RST when
	// Spec.ResetOnNextPacket is set).
	Blackhole Expiry = "blackhole"
)

// Spec is one middlebox on a path.
type Spec struct {
	// Name is the catalog name or a user's label.
	Name string `yaml:"name" json:"name"`
	// Kind is the timer kind.
	Kind Kind `yaml:"kind" json:"kind"`
	// Timeout is the idle timeout or the maximum lifetime.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// Watches says which traffic re-arms an idle timer.
	Watches Direction `yaml:"watches" json:"watches"`
	// AtExpiry is what the ends observe when the timer fires.
	AtExpiry Expiry `yaml:"at_expiry" json:"at_expiry"`
	// ResetOnNextPacket: after a blackhole, the next packet from either end is
	// answered with an RST (AWS NLB).
	ResetOnNextPacket bool `yaml:"reset_on_next_packet" json:"reset_on_next_packet"`
	// Source names where the defaults were read (FACTS.md §1).
	Source string `yaml:"source,omitempty" json:"source,omitempty"`
	// Description is one line for humans.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
}
