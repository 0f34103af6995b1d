package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// A scenario file holds one scenario per YAML document ("---" separates several):
//
//	name: nginx                      # required, unique
//	description: nginx proxy_read_timeout 60 s in front of the bot
//	duration: 24h                    # Go duration; default 24h
//	seeds: [1, 2, 3]                 # default [1, 2, 3]
//	path:                            # client → server; default: no middlebox
//	  - nginx                        # catalog name (kalab middleboxes)
//	  - nginx:timeout=75s            # catalog name with overrides (compact form)
//	  - idle:45s:both:close          # custom timer (compact form)
//	  - {profile: aws-nlb, timeout: 600s}
//	  - {name: my-lb, kind: idle, timeout: 45s, watches: both, at_expiry: blackhole}
//	network: {rtt: 100ms, jitter: 20ms, loss: 0.001, tcp_give_up: 15m}
//	server: {inbound_per_hour: 30, inbound_mode: poisson}
//	faults:
//	  - {kind: restart, at: 6h, duration: 30s}
//	clients:                         # required, one or more
//	  - preset: whatsmeow            # name defaults to the preset
//	    expect: ["true_uptime >= 99%"]
//	  - name: whatsmeow-15s          # a preset with overrides
//	    preset: whatsmeow
//	    config: {interval_min: 10s, interval_max: 15s}
//	  - name: custom                 # a full config (zero fields take defaults)
//	    config: {strategy: ping, interval: 20s}
//
// Field names are those of the YAML tags of sim.Network, sim.Server, sim.Fault and
// keepalive.Config; unknown fields are errors.

// topFields are the keys of a scenario document, sorted.
var topFields = []string{"clients", "description", "duration", "faults", "name", "network", "path", "seeds", "server"}

// clientFields are the keys of a client entry, sorted.
var clientFields = []string{"config", "expect", "name", "preset"}

// Parse reads every scenario of one YAML file; file names the data in errors. Errors
// are an ErrorList.
func Parse(file string, data []byte) ([]Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []Scenario
	for doc := 0; ; doc++ {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, ErrorList{syntaxError(file, err)}
		}
		if doc >= 100 {
			return nil, ErrorList{{File: file, Msg: "more than 100 documents in one file"}}
		}
		if len(root.Content) == 0 {
			continue
		}
		s, err := parseDocument(file, root.Content[0])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, ErrorList{{File: file, Msg: "no scenario in file (expected a mapping with name, path, clients, ...)"}}
	}
	if err := checkUnique(out); err != nil {
		return nil, err
	}
	return out, nil
}

// syntaxError turns a YAML parser error ("yaml: line 3: ...") into a located Error.
func syntaxError(file string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ":"); ok {
			if _, scanErr := fmt.Sscanf(n, "%d", &line); scanErr == nil {
				msg = strings.TrimSpace(tail)
			}
		}
	}
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// parseDocument decodes and validates one scenario document.
func parseDocument(file string, n *yaml.Node) (Scenario, error) {
	d := newDecoder(file)
	s := Scenario{File: file, Duration: DefaultDuration, line: n.Line}
	n = d.resolve(n, "")
	if n == nil {
		return s, d.errs
	}
	entries, ok := d.mapping(n, "")
	if !ok {
		return s, d.errs
	}
	got := map[string]entry{}
	for _, e := range entries {
		if !slices.Contains(topFields, e.key) {
			d.unknownField(e.keyNode, "", e.key, topFields)
			continue
		}
		got[e.key] = e
	}
	if e, ok := got["name"]; ok {
		d.decode(e.value, reflect.ValueOf(&s.Name).Elem(), "name")
	}
	if strings.TrimSpace(s.Name) == "" {
		d.fail(n, "name", "missing: every scenario needs a name")
	}
	if e, ok := got["description"]; ok {
		d.decode(e.value, reflect.ValueOf(&s.Description).Elem(), "description")
	}
	if e, ok := got["duration"]; ok {
		d.decode(e.value, reflect.ValueOf(&s.Duration).Elem(), "duration")
		if s.Duration <= 0 {
			d.fail(e.value, "duration", "must be > 0, got %v", s.Duration)
		}
	}
	s.Seeds = slices.Clone(DefaultSeeds)
	if e, ok := got["seeds"]; ok {
		d.seeds(e.value, &s)
	}
	if e, ok := got["path"]; ok {
		s.Path = d.path(e.value)
	}
	if e, ok := got["network"]; ok {
		d.decode(e.value, reflect.ValueOf(&s.Network).Elem(), "network")
	}
	if e, ok := got["server"]; ok {
		d.decode(e.value, reflect.ValueOf(&s.Server).Elem(), "server")
	}
	if e, ok := got["faults"]; ok {
		d.faults(e.value, &s)
	}
	if e, ok := got["clients"]; ok {
		s.Clients = d.clients(e.value)
	} else {
		d.fail(n, "clients", "missing: list the clients to compare (e.g. - preset: whatsmeow)")
	}
	if len(d.errs) == 0 {
		d.checkRun(n, got, s)
	}
	if len(d.errs) > 0 {
		return s, d.errs
	}
	return s, nil
}

// seeds decodes the seed list: one or more distinct non-negative integers.
func (d *decoder) seeds(n *yaml.Node, s *Scenario) {
	if n = d.resolve(n, "seeds"); n == nil {
		return
	}
	var seeds []uint64
	before := len(d.errs)
	d.decode(n, reflect.ValueOf(&seeds).Elem(), "seeds")
	if len(d.errs) > before {
		return
	}
	if len(seeds) == 0 {
		d.fail(n, "seeds", "empty: give one or more seeds, e.g. [1, 2, 3]")
		return
	}
	seen := map[uint64]bool{}
	for i, v := range seeds {
		if seen[v] {
			d.fail(n.Content[i], fmt.Sprintf("seeds[%d]", i), "seed %d listed twice", v)
		}
		seen[v] = true
	}
	s.Seeds = seeds
}

// path decodes the path list: compact strings or mappings.
func (d *decoder) path(n *yaml.Node) []middlebox.Spec {
	n = d.resolve(n, "path")
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		// A whole path in one string: "nginx,aws-nlb".
		specs, err := middlebox.ParsePath(n.Value)
		if err != nil {
			d.fail(n, "path", "%v", err)
		}
		return specs
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, "path", "expected a list of middleboxes, got %s", describe(n))
		return nil
	}
	specs := make([]middlebox.Spec, 0, len(n.Content))
	for i, item := range n.Content {
		field := fmt.Sprintf("path[%d]", i)
		item = d.resolve(item, field)
		if item == nil {
			return nil
		}
		var (
			s  middlebox.Spec
			ok bool
		)
		switch item.Kind {
		case yaml.ScalarNode:
			s, ok = d.pathElement(item, field)
		case yaml.MappingNode:
			s, ok = d.pathMapping(item, field)
		default:
			d.fail(item, field, "expected a middlebox name (e.g. nginx, idle:45s:both:close) or a mapping, got %s", describe(item))
		}
		if ok {
			specs = append(specs, s)
		}
	}
	return specs
}

func (d *decoder) pathElement(n *yaml.Node, field string) (middlebox.Spec, bool) {
	s, err := middlebox.ParseElement(n.Value)
	if err != nil {
		d.fail(n, field, "%v", err)
		return s, false
	}
	return s, true
}

// specFields are the keys of a path mapping, sorted.
var specFields = []string{"at_expiry", "description", "kind", "name", "profile", "reset_on_next_packet", "source", "timeout", "watches"}

// pathMapping decodes {profile: NAME, overrides...} or a full custom spec.
func (d *decoder) pathMapping(n *yaml.Node, field string) (middlebox.Spec, bool) {
	entries, ok := d.mapping(n, field)
	if !ok {
		return middlebox.Spec{}, false
	}
	before := len(d.errs)
	var profile *entry
	for i, e := range entries {
		if !slices.Contains(specFields, e.key) {
			d.unknownField(e.keyNode, field, e.key, specFields)
		}
		if e.key == "profile" {
			profile = &entries[i]
		}
	}
	if len(d.errs) > before {
		return middlebox.Spec{}, false
	}
	if profile != nil {
		// Catalog entry with overrides: spelt as the compact form, so both syntaxes
		// share one meaning (e.g. haproxy's timeout becoming an idle timer).
		name, ok := d.scalar(d.resolve(profile.value, join(field, "profile")), join(field, "profile"))
		if !ok {
			return middlebox.Spec{}, false
		}
		compact := []string{strings.TrimSpace(name)}
		var label, desc *entry
		for i, e := range entries {
			switch e.key {
			case "profile":
			case "name":
				label = &entries[i]
			case "description":
				desc = &entries[i]
			case "source":
				d.fail(e.keyNode, join(field, e.key), "a catalog profile keeps its source; drop this field or leave out profile")
				return middlebox.Spec{}, false
			default:
				v, ok := d.scalar(d.resolve(e.value, join(field, e.key)), join(field, e.key))
				if !ok {
					return middlebox.Spec{}, false
				}
				if strings.ContainsAny(v, ":,=") {
					d.fail(e.value, join(field, e.key), "invalid value %q", v)
					return middlebox.Spec{}, false
				}
				compact = append(compact, e.key+"="+v)
			}
		}
		s, err := middlebox.ParseElement(strings.Join(compact, ":"))
		if err != nil {
			d.fail(profile.value, field, "%v", err)
			return s, false
		}
		if label != nil {
			d.decode(label.value, reflect.ValueOf(&s.Name).Elem(), join(field, "name"))
		}
		if desc != nil {
			d.decode(desc.value, reflect.ValueOf(&s.Description).Elem(), join(field, "description"))
		}
		return s, len(d.errs) == before
	}
	var s middlebox.Spec
	d.structure(n, reflect.ValueOf(&s).Elem(), field)
	if len(d.errs) > before {
		return s, false
	}
	if s.Name == "" {
		s.Name = s.Compact()
	}
	if err := s.Validate(); err != nil {
		d.fail(n, field, "%v", err)
		return s, false
	}
	return s, true
}

// faultKinds are the fault kinds the simulator injects, sorted.
var faultKinds = []string{
	string(sim.FaultLatencySpike), string(sim.FaultLogout), string(sim.FaultPartition),
	string(sim.FaultReplaced), string(sim.FaultRestart), string(sim.FaultStreamError503),
	string(sim.FaultStreamError515),
}

func (d *decoder) faults(n *yaml.Node, s *Scenario) {
	before := len(d.errs)
	d.decode(n, reflect.ValueOf(&s.Faults).Elem(), "faults")
	if len(d.errs) > before {
		return
	}
	n = d.resolve(n, "faults")
	if n == nil || n.Kind != yaml.SequenceNode {
		return
	}
	for i, f := range s.Faults {
		item := n.Content[i]
		field := fmt.Sprintf("faults[%d].kind", i)
		switch {
		case f.Kind == "":
			d.fail(item, field, "missing (one of %s)", strings.Join(faultKinds, ", "))
		case !slices.Contains(faultKinds, string(f.Kind)):
			if sug, ok := middlebox.ClosestOf(string(f.Kind), faultKinds); ok {
				d.fail(item, field, "unknown fault %q (did you mean %q?)", f.Kind, sug)
			} else {
				d.fail(item, field, "unknown fault %q (one of %s)", f.Kind, strings.Join(faultKinds, ", "))
			}
		}
	}
}

// clients decodes the client list.
func (d *decoder) clients(n *yaml.Node) []Client {
	n = d.resolve(n, "clients")
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.fail(n, "clients", "expected a list of one or more clients, got %s", describe(n))
		return nil
	}
	var out []Client
	names := map[string]int{}
	for i, item := range n.Content {
		field := fmt.Sprintf("clients[%d]", i)
		c, ok := d.client(item, field)
		if !ok {
			continue
		}
		if prev, dup := names[c.Name]; dup {
			d.fail(item, join(field, "name"), "client %q already used by clients[%d]; give each a distinct name", c.Name, prev)
			continue
		}
		names[c.Name] = i
		out = append(out, c)
	}
	return out
}

func (d *decoder) client(n *yaml.Node, field string) (Client, bool) {
	var c Client
	n = d.resolve(n, field)
	if n == nil {
		return c, false
	}
	before := len(d.errs)
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		// "- whatsmeow" is short for "- preset: whatsmeow".
		return d.preset(n, join(field, "preset"), n.Value)
	}
	entries, ok := d.mapping(n, field)
	if !ok {
		return c, false
	}
	got := map[string]entry{}
	for _, e := range entries {
		if !slices.Contains(clientFields, e.key) {
			d.unknownField(e.keyNode, field, e.key, clientFields)
			continue
		}
		got[e.key] = e
	}
	if e, ok := got["preset"]; ok {
		var name string
		d.decode(e.value, reflect.ValueOf(&name).Elem(), join(field, "preset"))
		if len(d.errs) > before {
			return c, false
		}
		pc, ok := d.preset(e.value, join(field, "preset"), name)
		if !ok {
			return c, false
		}
		c = pc
	}
	if e, ok := got["name"]; ok {
		d.decode(e.value, reflect.ValueOf(&c.Name).Elem(), join(field, "name"))
	}
	cfg, hasCfg := got["config"]
	if hasCfg {
		d.decode(cfg.value, reflect.ValueOf(&c.Config).Elem(), join(field, "config"))
	}
	if _, ok := got["preset"]; !ok && !hasCfg {
		d.fail(n, field, "give a preset (%s) or a config", strings.Join(keepalive.PresetNames(), ", "))
		return c, false
	}
	if strings.TrimSpace(c.Name) == "" {
		d.fail(n, join(field, "name"), "missing: a client without a preset needs a name")
	}
	if e, ok := got["expect"]; ok {
		c.Expect = d.expectations(e.value, join(field, "expect"))
	}
	if len(d.errs) > before {
		return c, false
	}
	if _, err := keepalive.NewPolicy(c.Config); err != nil {
		at := n
		if hasCfg {
			at = cfg.value
		}
		d.fail(at, join(field, "config"), "%v", err)
		return c, false
	}
	return c, true
}

// preset starts a client from the named keepalive preset.
func (d *decoder) preset(n *yaml.Node, field, name string) (Client, bool) {
	name = strings.ToLower(strings.TrimSpace(name))
	cfg, ok := keepalive.Preset(name)
	if !ok {
		if sug, ok := middlebox.ClosestOf(name, keepalive.PresetNames()); ok {
			d.fail(n, field, "unknown preset %q (did you mean %q?)", name, sug)
		} else {
			d.fail(n, field, "unknown preset %q (one of %s)", name, strings.Join(keepalive.PresetNames(), ", "))
		}
		return Client{}, false
	}
	return Client{Name: name, Preset: name, Config: cfg}, true
}

func (d *decoder) expectations(n *yaml.Node, field string) []Expectation {
	n = d.resolve(n, field)
	if n == nil || isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		// A single expectation may be written without the list.
		n = &yaml.Node{Kind: yaml.SequenceNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{n}}
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, field, "expected a list of expectations like \"true_uptime >= 99.9%%\", got %s", describe(n))
		return nil
	}
	var out []Expectation
	for i, item := range n.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		item = d.resolve(item, f)
		if item == nil {
			return nil
		}
		text, ok := d.scalar(item, f)
		if !ok {
			continue
		}
		e, err := ParseExpectation(text)
		if err != nil {
			d.fail(item, f, "%v", err)
			continue
		}
		out = append(out, e)
	}
	return out
}

// checkRun lets the simulator validate what it will run (network, server, faults,
// path), so a file never loads that sim.Simulate would refuse. The simulator's
// error names a field ("faults[1] (partition): duration: ..."); it is reported at
// that field's line.
func (d *decoder) checkRun(n *yaml.Node, top map[string]entry, s Scenario) {
	runs := s.Runs()
	if len(runs) == 0 {
		return
	}
	r := runs[0]
	r.Scenario, r.Client = "", "" // errors then name the bare field
	_, err := sim.Normalize(r)
	if err == nil {
		return
	}
	msg := strings.TrimPrefix(err.Error(), "sim: ")
	field, rest, ok := strings.Cut(msg, ": ")
	if !ok {
		d.fail(n, "", "%s", msg)
		return
	}
	if base, _, ok := strings.Cut(field, " ("); ok {
		field = base // "faults[1] (partition)" → "faults[1]"
	}
	if sub, tail, ok := strings.Cut(rest, ": "); ok && strings.HasPrefix(field, "faults[") && !strings.Contains(sub, " ") {
		field, rest = field+"."+sub, tail
	}
	d.fail(locate(n, top, field), field, "%s", rest)
}

// locate returns the node of a field path like "network.loss" or
// "faults[1].duration", or the closest enclosing node that exists.
func locate(root *yaml.Node, top map[string]entry, field string) *yaml.Node {
	head, restPath, _ := strings.Cut(field, ".")
	name, idx := head, -1
	if b, a, ok := strings.Cut(head, "["); ok {
		name = b
		fmt.Sscanf(a, "%d]", &idx)
	}
	e, ok := top[name]
	if !ok {
		return root
	}
	node := e.value
	for node != nil && node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if idx >= 0 && node != nil && node.Kind == yaml.SequenceNode && idx < len(node.Content) {
		node = node.Content[idx]
	}
	for node != nil && node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if restPath != "" && node != nil && node.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == restPath {
				return node.Content[i+1]
			}
		}
	}
	if node == nil {
		return root
	}
	return node
}

// checkUnique rejects two scenarios of the same name.
func checkUnique(ss []Scenario) error {
	seen := map[string]string{}
	var errs ErrorList
	for _, s := range ss {
		if prev, ok := seen[s.Name]; ok {
			errs = append(errs, &Error{File: s.File, Line: s.line, Field: "name", Msg: fmt.Sprintf("scenario %q is already defined in %s", s.Name, prev)})
			continue
		}
		seen[s.Name] = s.File
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
