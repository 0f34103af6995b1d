package netlab

import (
	"time"

	"github.com/Shopify/toxiproxy/v2/toxics"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// The middlebox toxics: one idle or lifetime timer per connection, shared by the
// two directions of that connection.
//
// Toxiproxy gives a toxic one direction and no connection identity. For every
// accepted client, Proxy.server (proxy.go) dials the upstream and then, in its one
// accept goroutine, calls
//
//	StartLink(name+"upstream",   client → upstream)   // link.Start calls NewState on
//	StartLink(name+"downstream", upstream → client)   // each stateful toxic, in order
//
// each under the ToxicCollection lock. A hop carries two wrappers of the same
// middlebox, one per stream, both wired (wire) to one hopTimer:
//
//	accept #n ─► up link:   noop ─► [kalab_idle, up]   ─► … ─► server socket
//	             NewState: hopTimer.open()  ─┐ connTimer #n (timer armed at accept)
//	             down link: noop ─► [kalab_idle, down] ─► … ─► client socket
//	             NewState: hopTimer.pair() ◄─┘ takes the same connTimer
//
// INVARIANT relied on: on one proxy, NewState calls of a hop's two wrappers
// alternate up(n), down(n), up(n+1), down(n+1)…, never interleaved across
// connections, because there is one accept goroutine per proxy and both links of
// a connection are started by it back to back. This holds only while no toxic is
// added to a proxy that already has connections (ToxicLink.AddToxic calls NewState
// for one link of each live connection); netlab adds every toxic before
// Proxy.Start and never starts Toxiproxy's HTTP API. A broken alternation is
// detected (open finds a pending state; pair finds none) and reported by
// Chain.Close rather than silently mis-paired.
//
// Closing: a stub that closes its output makes ToxicLink.write close that link's
// destination socket: the up stub's output is the server-facing socket, the down
// stub's the client-facing one. So "close both ends" = both stubs close (each pipe
// closes its own stub when connTimer asks it to through closeReq). An RST needs
// SO_LINGER 0 on the sockets, which a toxic cannot reach; Toxiproxy sets it at
// accept on both sockets of any connection whose upstream chain holds a
// reset_peer toxic (link.go), whatever that toxic's toxicity. Hops whose expiry
// resets carry a reset_peer wrapper of toxicity 0 (it runs as a noop) for exactly
// that side effect, so their closes go out as RSTs. The price: while such a hop is
// up, an end's own orderly close is also passed on as an RST.
//
// Pipe invariants (CREATING_TOXICS.md): every blocking operation also selects on
// Interrupt; a chunk read and meant to be forwarded is written before returning on
// Interrupt; a nil chunk means EOF and the stub is closed (for a blackholed
// connection, once the box would let that end learn of it). After a stub closes,
// its pipe keeps reading its input until EOF so the toxics before it never block.

// IdleToxic is an idle timer that passes data through unchanged: traffic in a
// watched direction re-arms it; when it elapses the connection is closed, reset or
// blackholed. It is registered as "kalab_idle" and must be wired by netlab (see
// the invariant above): an unwired one closes every connection at once, so a
// misconfiguration cannot pass for a working middlebox.
type IdleToxic struct {
	// Timeout is the idle time before expiry, already scaled; nanoseconds in JSON.
	Timeout time.Duration `json:"timeout"`
	// Watches says which directions re-arm the timer.
	Watches middlebox.Direction `json:"watches"`
	// AtExpiry is what the connection's ends observe at expiry.
	AtExpiry middlebox.Expiry `json:"at_expiry"`
	// ResetOnNextPacket: after a blackhole, an end that sends is reset.
	ResetOnNextPacket bool `json:"reset_on_next_packet"`

	w *wiring
}

// LifetimeToxic is a maximum connection age from accept, whatever passes; data
// passes through unchanged until then. Registered as "kalab_lifetime"; wired like
// IdleToxic.
type LifetimeToxic struct {
	// Timeout is the maximum age, already scaled; nanoseconds in JSON.
	Timeout time.Duration `json:"timeout"`
	// AtExpiry is what the connection's ends observe at expiry.
	AtExpiry middlebox.Expiry `json:"at_expiry"`
	// ResetOnNextPacket: after a blackhole, an end that sends is reset.
	ResetOnNextPacket bool `json:"reset_on_next_packet"`

	w *wiring
}

// Toxic type names, as registered with Toxiproxy.
const (
	IdleToxicType     = "kalab_idle"
	LifetimeToxicType = "kalab_lifetime"
)

func init() {
	toxics.Register(IdleToxicType, new(IdleToxic))
	toxics.Register(LifetimeToxicType, new(LifetimeToxic))
}

// wiring connects one toxic wrapper (one direction of one hop) to its hop's timer.
type wiring struct {
	hop *hopTimer
	dir dir
}

// wirable is implemented by the timer toxics; netlab wires each wrapper after
// ToxicCollection.AddToxicJson has built it and before the proxy starts.
type wirable interface {
	wire(*wiring)
}

func (t *IdleToxic) wire(w *wiring)     { t.w = w }
func (t *LifetimeToxic) wire(w *wiring) { t.w = w }

// NewState implements toxics.StatefulToxic: the per-connection state shared by
// both directions.
func (t *IdleToxic) NewState() interface{} { return newState(t.w) }

// NewState implements toxics.StatefulToxic.
func (t *LifetimeToxic) NewState() interface{} { return newState(t.w) }

// Pipe implements toxics.Toxic.
func (t *IdleToxic) Pipe(stub *toxics.ToxicStub) { pipe(t.w, stub) }

// Pipe implements toxics.Toxic.
func (t *LifetimeToxic) Pipe(stub *toxics.ToxicStub) { pipe(t.w, stub) }

func newState(w *wiring) interface{} {
	if w == nil {
		return (*connTimer)(nil)
	}
	if w.dir == up {
		return w.hop.open()
	}
	return w.hop.pair()
}

// pipe moves one direction's chunks for one connection.
func pipe(w *wiring, stub *toxics.ToxicStub) {
	c, _ := stub.State.(*connTimer)
	if w == nil || c == nil {
		stub.Close()
		drainUnwired(stub)
		return
	}
	d := w.dir
	if stub.Closed() { // re-run after an interrupt while draining
		c.drainThenEnd(d, stub)
		return
	}
	for {
		select {
		case <-stub.Interrupt:
			return
		case <-c.closeReq[d]:
			c.closeThenEnd(d, stub)
			return
		case <-c.hop.done:
			c.closeThenEnd(d, stub)
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				if !c.inputEOF(d) {
					// Blackholed: this end stays open until released.
					select {
					case <-stub.Interrupt:
						return // re-run reads the closed input again
					case <-c.closeReq[d]:
					case <-c.hop.done:
					}
				}
				stub.Close()
				c.pipeEnded()
				return
			}
			if !c.traffic(d) {
				continue // expired: dropped
			}
			select {
			case stub.Output <- chunk:
			case <-c.closeReq[d]:
				c.closeThenEnd(d, stub) // the box is closing: in-flight data is lost
				return
			case <-c.hop.done:
				c.closeThenEnd(d, stub)
				return
			case <-stub.Interrupt:
				select { // flush the chunk in flight before yielding
				case stub.Output <- chunk:
				case <-c.closeReq[d]:
				case <-c.hop.done:
				}
				return
			}
		}
	}
}

// closeThenEnd closes the stub's output (Toxiproxy closes the destination socket)
// and drains the input until EOF.
func (c *connTimer) closeThenEnd(d dir, stub *toxics.ToxicStub) {
	stub.Close()
	c.drainThenEnd(d, stub)
}

// drainThenEnd reads and drops the input until EOF, so the toxics before this one
// never block; chunks still count as packets for a blackhole's reset on next
// packet. It returns early on Interrupt (the re-run continues).
func (c *connTimer) drainThenEnd(d dir, stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				c.pipeEnded()
				return
			}
			c.traffic(d)
		}
	}
}

func drainUnwired(stub *toxics.ToxicStub) {
	for {
		select {
		case <-stub.Interrupt:
			return
		case chunk := <-stub.Input:
			if chunk == nil {
				return
			}
		}
	}
}
