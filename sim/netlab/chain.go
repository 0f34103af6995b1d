package netlab

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Options configures NewChain. The zero value is valid.
type Options struct {
	// Network is applied on hop 0 with Toxiproxy's built-in toxics.
	Network Network
	// Clock drives the middlebox timers and stamps expiry records. Default: the
	// real clock (Toxiproxy's own toxics always use real time).
	Clock clockwork.Clock
	// MinTimer is the shortest scaled timer accepted. Default: DefaultMinTimer.
	MinTimer time.Duration
	// CloseWait bounds how long Close waits for connections to wind down after
	// releasing them. Default: 5 s.
	CloseWait time.Duration
}

// ProxyChain is a chain of proxies a client dials instead of its server: the
// embedded Chain or an ExternalChain.
type ProxyChain interface {
	// Addr is the host:port clients dial.
	Addr() string
	// Close removes the chain and ends its connections.
	Close() error
}

// Hop describes one proxy of a chain.
type Hop struct {
	// Name is the middlebox's name ("network" for the lone hop of an empty path).
	Name string
	// Listen is the proxy's address; Upstream is where it connects.
	Listen, Upstream string
	// Spec is the middlebox with its timeout scaled (zero for the network hop).
	Spec middlebox.Spec
}

// Chain is a path of middleboxes realised by Toxiproxy running in this process.
// Its methods are safe for concurrent use.
type Chain struct {
	hops      []Hop
	proxies   []*toxiproxy.Proxy // same order as hops
	timers    []*hopTimer        // nil for hops without a timer
	log       *ExpiryLog
	scale     float64
	closeWait time.Duration

	closeOnce sync.Once
	closeErr  error
}

var _ ProxyChain = (*Chain)(nil)

// NewChain starts one proxy per hop of path (client side first) on 127.0.0.1, the
// last one connecting to target (host:port), with every duration divided by scale
// (0 = DefaultScale). An empty path gives one plain hop carrying opts.Network.
// It refuses invalid specs and scales that make a timer shorter than
// opts.MinTimer, naming the hop.
func NewChain(target string, path []middlebox.Spec, scale float64, opts Options) (*Chain, error) {
	if target == "" {
		return nil, errors.New("netlab: NewChain: empty target address")
	}
	scale, err := normScale(scale)
	if err != nil {
		return nil, err
	}
	if err := opts.Network.validate(); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.MinTimer <= 0 {
		opts.MinTimer = DefaultMinTimer
	}
	if opts.CloseWait <= 0 {
		opts.CloseWait = 5 * time.Second
	}
	timeouts := make([]time.Duration, len(path))
	for i, s := range path {
		if timeouts[i], err = checkSpec(i, s, scale, opts.MinTimer); err != nil {
			return nil, err
		}
	}
	if len(path) == 0 {
		path = []middlebox.Spec{{Name: "network", Kind: middlebox.KindNone}}
		timeouts = []time.Duration{0}
	}

	c := &Chain{
		hops:      make([]Hop, len(path)),
		proxies:   make([]*toxiproxy.Proxy, len(path)),
		timers:    make([]*hopTimer, len(path)),
		log:       NewExpiryLog(),
		scale:     scale,
		closeWait: opts.CloseWait,
	}
	server := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	upstream := target
	// Start from the server side: each hop's upstream is the next hop's listener.
	for i := len(path) - 1; i >= 0; i-- {
		s := path[i]
		hop := Hop{Name: hopName(i, s), Upstream: upstream, Spec: s}
		hop.Spec.Timeout = timeouts[i]
		var timer *hopTimer
		if s.Kind != middlebox.KindNone {
			timer = newHopTimer(i, s, timeouts[i], opts.Clock, c.log)
		}
		var nw Network
		if i == 0 {
			nw = opts.Network
		}
		p, err := startProxy(server, i, hop, timer, nw, scale)
		if err != nil {
			c.closeStarted()
			return nil, err
		}
		hop.Listen = p.Listen
		c.hops[i], c.proxies[i], c.timers[i] = hop, p, timer
		upstream = p.Listen
	}
	return c, nil
}

// startProxy creates hop i's proxy with its toxics and starts it.
func startProxy(server *toxiproxy.ApiServer, i int, hop Hop, timer *hopTimer, n Network, scale float64) (*toxiproxy.Proxy, error) {
	name := fmt.Sprintf("hop%d-%s", i, hop.Name)
	p := toxiproxy.NewProxy(server, name, "127.0.0.1:0", hop.Upstream)
	var list []toxicJSON
	if timer != nil {
		list = append(list, timerToxics(hop.Spec)...)
	}
	list = append(list, n.toxics(scale)...)
	if timer != nil && timer.needsLinger() {
		// Only for its side effect: SO_LINGER 0 on both sockets at accept (toxic.go).
		list = append(list, toxicJSON{Name: "linger0", Type: "reset_peer", Stream: "upstream", Toxicity: 0,
			Attributes: map[string]any{"timeout": 0}})
	}
	for _, t := range list {
		body, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("netlab: hop %d (%s): encoding toxic %s: %w", i, hop.Name, t.Name, err)
		}
		w, err := p.Toxics.AddToxicJson(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("netlab: hop %d (%s): adding toxic %s: %w", i, hop.Name, t.Name, err)
		}
		if wt, ok := w.Toxic.(wirable); ok {
			d := up
			if t.Stream == "downstream" {
				d = down
			}
			wt.wire(&wiring{hop: timer, dir: d})
		}
	}
	if err := p.Start(); err != nil {
		return nil, fmt.Errorf("netlab: hop %d (%s): starting proxy on 127.0.0.1: %w", i, hop.Name, err)
	}
	return p, nil
}

// timerToxics returns the two wrappers (one per direction) of a timer spec whose
// Timeout is already scaled.
func timerToxics(s middlebox.Spec) []toxicJSON {
	typ := IdleToxicType
	attrs := map[string]any{"timeout": int64(s.Timeout), "at_expiry": s.AtExpiry, "reset_on_next_packet": s.ResetOnNextPacket}
	if s.Kind == middlebox.KindLifetime {
		typ = LifetimeToxicType
	} else {
		attrs["watches"] = s.Watches
	}
	// Upstream first: the pairing invariant of toxic.go needs no particular add
	// order, but a fixed one keeps listings stable.
	return []toxicJSON{
		{Name: typ + "_upstream", Type: typ, Stream: "upstream", Toxicity: 1, Attributes: attrs},
		{Name: typ + "_downstream", Type: typ, Stream: "downstream", Toxicity: 1, Attributes: attrs},
	}
}

// Addr is the address clients dial: hop 0's listener.
func (c *Chain) Addr() string { return c.hops[0].Listen }

// Hops describes the chain's proxies, client side first.
func (c *Chain) Hops() []Hop { return append([]Hop(nil), c.hops...) }

// Scale is the time scale in use.
func (c *Chain) Scale() float64 { return c.scale }

// Expiries is the log of every middlebox timer that fired on this chain.
func (c *Chain) Expiries() *ExpiryLog { return c.log }

// Close stops every timer (nothing is recorded after it starts), releases
// blackholed connections, stops the proxies (closing every socket) and waits up to
// Options.CloseWait for the middlebox toxics to wind down. It reports connections
// that did not wind down and any broken pairing invariant (toxic.go). Calling it
// again returns the first result.
func (c *Chain) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.closeStarted() })
	return c.closeErr
}

func (c *Chain) closeStarted() error {
	for _, t := range c.timers {
		if t != nil {
			t.shutdown()
		}
	}
	for _, p := range c.proxies {
		if p != nil {
			p.Stop()
		}
	}
	var errs []error
	for _, t := range c.timers {
		if t != nil {
			errs = append(errs, t.wait(c.closeWait))
		}
	}
	return errors.Join(errs...)
}

// String lists the hops, for logs.
func (c *Chain) String() string {
	var b strings.Builder
	for i, h := range c.hops {
		if i > 0 {
			b.WriteString(" → ")
		}
		fmt.Fprintf(&b, "%s(%s)", h.Name, h.Listen)
	}
	if n := len(c.hops); n > 0 {
		fmt.Fprintf(&b, " → %s", c.hops[n-1].Upstream)
	}
	return b.String()
}
