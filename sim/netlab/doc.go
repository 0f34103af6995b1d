// Package netlab is kalab's network lab: it realises a path of middleboxes
// (sim/middlebox.Spec) as a chain of Toxiproxy proxies on loopback, so real clients
// and servers can be run through the same idle, lifetime, reset and blackhole
// behaviour the simulator models, with every duration divided by a time scale.
//
// # Embedded chain
//
// NewChain starts Toxiproxy in process (the library, no HTTP API), one proxy per
// hop, each listening on 127.0.0.1 with an ephemeral port, chained client → hop 0 →
// hop 1 → … → target:
//
//	client ──► hop 0 (127.0.0.1:p0) ──► hop 1 (127.0.0.1:p1) ──► target
//	           middlebox path[0]         middlebox path[1]
//	           + Network toxics
//
// Chain.Addr is where a client dials; Chain.Expiries is the ground truth of every
// timer that fired (time, hop, connection, action); Chain.Close stops every proxy,
// releases every connection and returns once the custom toxics have wound down.
//
// In use:
//
//	c, err := netlab.NewChain(serverAddr, path, netlab.DefaultScale, netlab.Options{Network: nw})
//	if err != nil { … }          // bad spec, or a scale too high for a timer
//	defer c.Close()
//	conn, _ := net.Dial("tcp", c.Addr())
//	…
//	recs := c.Expiries().Records() // or Expiries().Wait(ctx, n)
//
// Records carry scaled times (Age, Idle); multiply by Chain.Scale for the
// real-world figure. Connection numbers count per hop, in accept order.
//
// Middleboxes with a timer become kalab's own toxics, registered with Toxiproxy by
// name in init: "kalab_idle" (an idle timer that passes data through and watches
// up, down or both directions of the same connection) and "kalab_lifetime" (a
// maximum age from accept). At expiry they close (FIN both ways), reset (RST both
// ways) or blackhole (forward nothing, keep both sockets open; optionally RST an end
// on its next packet). See toxic.go for the invariants they rely on. Known
// deviation: an RST needs SO_LINGER 0, which Toxiproxy only sets at accept, so on a
// hop whose expiry resets (or whose blackhole resets on the next packet) an end's
// own orderly close before expiry also reaches the other end as an RST. The Network
// (RTT, jitter, bandwidth, reset_peer) uses Toxiproxy's built-in toxics.
//
// # Time
//
// Toxics run in real time: runs over Toxiproxy are statistical, not replayable.
// Every duration of a path and a network is divided by the scale (DefaultScale:
// a 60 s timeout becomes 600 ms); a scale that makes a timer shorter than
// Options.MinTimer (DefaultMinTimer, 20 ms) is refused, because loopback scheduling
// (and the race detector on a loaded machine) cannot tell such timers apart from
// their jitter. Timers and expiry records read Options.Clock (real by default), so
// the timer state machine is unit-tested with a fake clock.
//
// # External toxiproxy-server
//
// NewExternalChain builds the same chain on a toxiproxy-server a user already runs
// (through Toxiproxy's Go client). Only built-in toxics exist there, so only hops
// of kind none and the Network can be realised; every timer profile is refused
// with an error naming the hop and why (see ExternalSupport).
//
// netlab may import sim/middlebox, keepalive and the simulator packages; it must
// never import cmd/… or reports.
package netlab
