package netlab

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	toxiclient "github.com/Shopify/toxiproxy/v2/client"

	"github.com/kalab-dev/kalab/sim/middlebox"
)

// ExternalOptions configures NewExternalChain. The zero value is valid.
type ExternalOptions struct {
	// Network is applied on hop 0 with the server's built-in toxics.
	Network Network
	// ListenHost is the host the server's proxies listen on (each on an ephemeral
	// port). Default: 127.0.0.1, which suits a server on this machine.
	ListenHost string
	// NamePrefix starts every proxy name, so a shared server's other proxies are
	// never touched. Default: "kalab".
	NamePrefix string
}

// ExternalChain is a path realised on a toxiproxy-server reached through its HTTP
// API (Toxiproxy's Go client). Only hops of kind none and the Network can be
// realised there; see ExternalSupport.
type ExternalChain struct {
	hops    []Hop
	proxies []*toxiclient.Proxy // same order as hops

	closeOnce sync.Once
	closeErr  error
}

var _ ProxyChain = (*ExternalChain)(nil)

var externalSeq atomic.Uint64

// ExternalSupport reports whether a middlebox can be realised on a stock
// toxiproxy-server, and if not, why. Its built-in toxics cannot keep a timer that
// passes data through:
//   - idle timers (any watches, any action): "timeout" drops every byte from the
//     start and never re-arms on traffic, so nothing — a direction, both
//     directions of one connection — can be watched while data flows;
//   - lifetime timers: no built-in closes a connection at an age while passing
//     data ("reset_peer" drops the first chunk and counts from it, not from accept;
//     a toxic added later applies to every connection of the proxy, not one);
//   - blackhole (only ever an expiry of the two above): "timeout" with 0 is a
//     blackhole from the start, not after an idle period.
//
// Only hops of kind none (Traefik, Caddy, HAProxy's defaults) qualify. Use the
// embedded chain (NewChain) for the rest.
func ExternalSupport(s middlebox.Spec) error {
	switch s.Kind {
	case middlebox.KindNone:
		return nil
	case middlebox.KindIdle:
		return fmt.Errorf("an idle timer that passes data through (watching %s, %s at expiry) has no built-in Toxiproxy toxic: \"timeout\" drops all data from the start and is never re-armed by traffic", s.Watches, s.AtExpiry)
	case middlebox.KindLifetime:
		return fmt.Errorf("a lifetime timer (%s at expiry) has no built-in Toxiproxy toxic: \"reset_peer\" drops the first chunk and counts from it, and toxics apply to a whole proxy, not one connection's age", s.AtExpiry)
	default:
		return fmt.Errorf("unknown kind %q", s.Kind)
	}
}

// NewExternalChain creates one proxy per hop of path on the toxiproxy-server whose
// API listens at apiAddr (host:port, e.g. 127.0.0.1:8474), chained to target like
// NewChain, with the Network's built-in toxics on hop 0 and durations divided by
// scale (0 = DefaultScale). Every hop is checked before anything is created: a
// profile the server cannot realise is refused with its name and the reason.
func NewExternalChain(apiAddr, target string, path []middlebox.Spec, scale float64, opts ExternalOptions) (*ExternalChain, error) {
	switch {
	case apiAddr == "":
		return nil, errors.New("netlab: NewExternalChain: empty toxiproxy-server API address")
	case target == "":
		return nil, errors.New("netlab: NewExternalChain: empty target address")
	}
	scale, err := normScale(scale)
	if err != nil {
		return nil, err
	}
	if err := opts.Network.validate(); err != nil {
		return nil, err
	}
	if opts.ListenHost == "" {
		opts.ListenHost = "127.0.0.1"
	}
	if opts.NamePrefix == "" {
		opts.NamePrefix = "kalab"
	}
	var refused []error
	for i, s := range path {
		if err := ExternalSupport(s); err != nil {
			refused = append(refused, fmt.Errorf("netlab: path[%d] (%s) cannot run on an external toxiproxy-server: %w; use the embedded chain", i, hopName(i, s), err))
		}
	}
	if len(refused) > 0 {
		return nil, errors.Join(refused...)
	}
	if len(path) == 0 {
		path = []middlebox.Spec{{Name: "network", Kind: middlebox.KindNone}}
	}

	cl := toxiclient.NewClient(apiAddr)
	c := &ExternalChain{hops: make([]Hop, len(path)), proxies: make([]*toxiclient.Proxy, len(path))}
	seq := externalSeq.Add(1)
	upstream := target
	for i := len(path) - 1; i >= 0; i-- {
		hop := Hop{Name: hopName(i, path[i]), Upstream: upstream, Spec: path[i]}
		name := fmt.Sprintf("%s-%d-%d-hop%d-%s", opts.NamePrefix, os.Getpid(), seq, i, hop.Name)
		p, err := cl.CreateProxy(name, opts.ListenHost+":0", upstream)
		if err != nil {
			c.closeErr = c.remove()
			return nil, errors.Join(fmt.Errorf("netlab: toxiproxy-server %s: creating proxy %s: %w", apiAddr, name, err), c.closeErr)
		}
		c.proxies[i] = p
		if i == 0 {
			for _, t := range opts.Network.toxics(scale) {
				if _, err := p.AddToxic(t.Name, t.Type, t.Stream, t.Toxicity, toxiclient.Attributes(t.Attributes)); err != nil {
					c.closeErr = c.remove()
					return nil, errors.Join(fmt.Errorf("netlab: toxiproxy-server %s: adding toxic %s to %s: %w", apiAddr, t.Name, name, err), c.closeErr)
				}
			}
		}
		hop.Listen = p.Listen
		c.hops[i] = hop
		upstream = p.Listen
	}
	return c, nil
}

// Addr is the address clients dial: hop 0's listener on the server.
func (c *ExternalChain) Addr() string { return c.hops[0].Listen }

// Hops describes the chain's proxies, client side first.
func (c *ExternalChain) Hops() []Hop { return append([]Hop(nil), c.hops...) }

// Close deletes the chain's proxies from the server, which closes their
// connections. Calling it again returns the first result.
func (c *ExternalChain) Close() error {
	c.closeOnce.Do(func() { c.closeErr = c.remove() })
	return c.closeErr
}

func (c *ExternalChain) remove() error {
	var errs []error
	for _, p := range c.proxies {
		if p == nil {
			continue
		}
		if err := p.Delete(); err != nil {
			errs = append(errs, fmt.Errorf("netlab: deleting proxy %s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}
