package netlab

import (
	"context"
	"math/rand/v2"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/mockwa"
)

// inboundStream is the PCG stream of a run's inbound schedule (the seed is the
// run's): the lab draws its own schedule with the simulator's distribution, not
// the simulator's exact draws, since the two consume randomness differently.
const inboundStream = 0x1ab_0001

// inboundTimes returns the scenario-time offsets of the inbound messages of r:
// Poisson at InboundPerHour, or bursts of BurstSize at InboundPerHour/BurstSize.
func inboundTimes(r sim.Run) []time.Duration {
	rate := r.Server.InboundPerHour
	if rate <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(r.Seed, inboundStream))
	burst := 1
	if r.Server.InboundMode == sim.InboundBursts {
		burst = r.Server.BurstSize
		if burst <= 0 {
			burst = 5
		}
	}
	mean := float64(time.Hour) * float64(burst) / rate
	var out []time.Duration
	for t := time.Duration(rng.ExpFloat64() * mean); t < r.Duration; t += time.Duration(rng.ExpFloat64() * mean) {
		for range burst {
			out = append(out, t)
		}
	}
	return out
}

// waitUntil waits until real time at, or ctx ends (false).
func waitUntil(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// playInbound creates the scenario's inbound messages at the mock, on schedule; the
// mock queues those created while the device is offline.
func playInbound(ctx context.Context, srv *mockwa.Server, jid types.JID, r sim.Run, scale float64, start time.Time, sent *counter) {
	for _, at := range inboundTimes(r) {
		if !waitUntil(ctx, start.Add(scaled(at, scale))) {
			return
		}
		if _, err := srv.SendInbound(jid); err == nil {
			sent.add()
		}
	}
}

// faultTimes returns the scenario-time offsets of every occurrence of f in r.
func faultTimes(f sim.Fault, d time.Duration) []time.Duration {
	var out []time.Duration
	for t := f.At; t < d; t += f.Every {
		out = append(out, t)
		if f.Every <= 0 {
			break
		}
	}
	return out
}

type faultAt struct {
	at time.Duration
	ev mockwa.Event
}

// playFaults injects the scenario's faults at the mock, on schedule. An occurrence
// that finds the device offline changes nothing, as in the simulator.
func playFaults(ctx context.Context, srv *mockwa.Server, jid types.JID, r sim.Run, scale float64, start time.Time, n *counter) {
	var all []faultAt
	for _, f := range r.Faults {
		ev, _ := faultEvent(f.Kind)
		for _, at := range faultTimes(f, r.Duration) {
			all = append(all, faultAt{at, ev})
		}
	}
	sortFaults(all)
	for _, f := range all {
		if !waitUntil(ctx, start.Add(scaled(f.at, scale))) {
			return
		}
		n.add()
		_ = srv.Inject(jid, f.ev)
	}
}

func sortFaults(fs []faultAt) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].at < fs[j-1].at; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}
