package netlab

import (
	"fmt"
	"math"
	"time"
)

// Network is the link between client and server, realised with Toxiproxy's built-in
// toxics on the first hop (the one the client dials). Durations are real-world
// values, divided by the chain's scale; the zero value adds nothing.
type Network struct {
	// RTT is the base round-trip time, split evenly between the two directions
	// (Toxiproxy "latency"). Toxiproxy counts latency in whole milliseconds, so a
	// scaled one-way delay is rounded to the millisecond.
	RTT time.Duration `yaml:"rtt" json:"rtt"`
	// Jitter adds a uniform random delay in [0, Jitter] to each one-way trip, like
	// sim.Network.Jitter (Toxiproxy's jitter is ±: the latency toxic gets
	// RTT/2+Jitter/2 ± Jitter/2). Drawn from Toxiproxy's global RNG: not seeded.
	Jitter time.Duration `yaml:"jitter" json:"jitter"`
	// Bandwidth limits each direction, in bytes per second of real time; the toxic's
	// rate is multiplied by the scale so a transfer takes 1/scale of its real time
	// (Toxiproxy "bandwidth", in KB/s, at least 1). 0 = unlimited.
	Bandwidth int64 `yaml:"bandwidth" json:"bandwidth"`
	// ResetPeer adds Toxiproxy's "reset_peer" upstream: the first chunk a client
	// sends is dropped and, ResetPeerAfter later, both ends are reset. A flaky
	// proxy, not a middlebox timer.
	ResetPeer bool `yaml:"reset_peer" json:"reset_peer"`
	// ResetPeerAfter is reset_peer's delay, scaled and rounded to the millisecond;
	// 0 resets at once.
	ResetPeerAfter time.Duration `yaml:"reset_peer_after" json:"reset_peer_after"`
}

// toxicJSON is one toxic as Toxiproxy's API and ToxicCollection.AddToxicJson take it.
type toxicJSON struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Stream     string         `json:"stream"`
	Toxicity   float32        `json:"toxicity"`
	Attributes map[string]any `json:"attributes"`
}

func (n Network) validate() error {
	switch {
	case n.RTT < 0:
		return fmt.Errorf("netlab: network rtt %v: must not be negative", n.RTT)
	case n.Jitter < 0:
		return fmt.Errorf("netlab: network jitter %v: must not be negative", n.Jitter)
	case n.Bandwidth < 0:
		return fmt.Errorf("netlab: network bandwidth %d B/s: must not be negative", n.Bandwidth)
	case n.ResetPeerAfter < 0:
		return fmt.Errorf("netlab: network reset_peer_after %v: must not be negative", n.ResetPeerAfter)
	}
	return nil
}

// toxics returns the built-in toxics realising n at scale, in chain order.
func (n Network) toxics(scale float64) []toxicJSON {
	var out []toxicJSON
	if n.RTT > 0 || n.Jitter > 0 {
		latency := ms(scaled(n.RTT/2+n.Jitter/2, scale))
		jitter := ms(scaled(n.Jitter/2, scale))
		for _, s := range []string{"upstream", "downstream"} {
			out = append(out, toxicJSON{
				Name: "latency_" + s, Type: "latency", Stream: s, Toxicity: 1,
				Attributes: map[string]any{"latency": latency, "jitter": jitter},
			})
		}
	}
	if n.Bandwidth > 0 {
		rate := max(int64(math.Round(float64(n.Bandwidth)*scale/1000)), 1)
		for _, s := range []string{"upstream", "downstream"} {
			out = append(out, toxicJSON{
				Name: "bandwidth_" + s, Type: "bandwidth", Stream: s, Toxicity: 1,
				Attributes: map[string]any{"rate": rate},
			})
		}
	}
	if n.ResetPeer {
		out = append(out, toxicJSON{
			Name: "reset_peer_upstream", Type: "reset_peer", Stream: "upstream", Toxicity: 1,
			Attributes: map[string]any{"timeout": ms(scaled(n.ResetPeerAfter, scale))},
		})
	}
	return out
}

// ms rounds d to whole milliseconds, Toxiproxy's unit.
func ms(d time.Duration) int64 {
	return int64(math.Round(float64(d) / float64(time.Millisecond)))
}
