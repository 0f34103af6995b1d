package sweep

import (
	"fmt"
	"strings"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
)

// Part is one shard's results and the name it was read from (for errors).
type Part struct {
	Name    string
	Results *reports.Results
}

// cellKey identifies a cell: the path's scenario name and the cell's client name.
type cellKey struct{ path, cell string }

// cellOrder lists the cells of a sweep in sweep order.
func cellOrder(sw *reports.Sweep) []cellKey {
	var out []cellKey
	for _, p := range sw.Paths {
		for _, s := range sw.Strategies {
			for _, iv := range sw.Intervals {
				out = append(out, cellKey{p, CellName(keepalive.Strategy(s), iv)})
			}
		}
	}
	return out
}

// Merge joins the results of every shard of one sweep into the results of the
// whole sweep, byte-identical (once marshalled) to running the sweep at once. It
// refuses results that are not shards, shards of different sweeps (fingerprints
// differ) or of different splits (counts differ), overlapping and missing shards,
// and shards that do not hold exactly their cells.
func Merge(parts []Part) (*reports.Results, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no shard results given")
	}
	first := parts[0]
	byIndex := map[int]string{}
	for _, p := range parts {
		sw := p.Results.Sweep
		switch {
		case sw == nil:
			return nil, fmt.Errorf("merge: %s: not a sweep's results (no \"sweep\" section; kalab run results cannot be merged)", p.Name)
		case sw.Shard == nil:
			return nil, fmt.Errorf("merge: %s: the results of a whole sweep, not of a shard (nothing to merge)", p.Name)
		case sw.Fingerprint != first.Results.Sweep.Fingerprint:
			return nil, fmt.Errorf("merge: %s and %s are shards of different sweeps (fingerprints %s and %s): run every shard with the same paths, strategies, intervals, seeds, duration, network, server, faults and kalab version",
				first.Name, p.Name, first.Results.Sweep.Fingerprint, sw.Fingerprint)
		case first.Results.Sweep.Shard != nil && sw.Shard.Count != first.Results.Sweep.Shard.Count:
			return nil, fmt.Errorf("merge: %s is shard %d/%d but %s is shard %d/%d: the sweep was split in two different ways",
				first.Name, first.Results.Sweep.Shard.Index, first.Results.Sweep.Shard.Count, p.Name, sw.Shard.Index, sw.Shard.Count)
		case sw.Shard.Index < 1 || sw.Shard.Index > sw.Shard.Count:
			return nil, fmt.Errorf("merge: %s: shard %d/%d is out of range", p.Name, sw.Shard.Index, sw.Shard.Count)
		}
		if other, dup := byIndex[sw.Shard.Index]; dup {
			return nil, fmt.Errorf("merge: %s and %s overlap: both are shard %d/%d", other, p.Name, sw.Shard.Index, sw.Shard.Count)
		}
		byIndex[sw.Shard.Index] = p.Name
	}
	n := first.Results.Sweep.Shard.Count
	var missing []string
	for i := 1; i <= n; i++ {
		if _, ok := byIndex[i]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("merge: missing shard(s) %s (got %d of %d)", strings.Join(missing, ", "), len(parts), n)
	}

	sw := *first.Results.Sweep
	sw.Shard = nil
	order := cellOrder(&sw)
	clients := map[cellKey]reports.Client{}
	scen := map[string]reports.Scenario{}
	for _, p := range parts {
		sh := Shard{Index: p.Results.Sweep.Shard.Index, Count: n}
		want := map[cellKey]bool{}
		for k, c := range order {
			if sh.holds(k) {
				want[c] = true
			}
		}
		got := 0
		for _, s := range p.Results.Scenarios {
			if _, ok := scen[s.Name]; !ok {
				bare := s
				bare.Clients = nil
				scen[s.Name] = bare
			}
			for _, c := range s.Clients {
				key := cellKey{s.Name, c.Name}
				if !want[key] {
					return nil, fmt.Errorf("merge: %s: shard %s holds cell %s / %s, which is not one of its cells", p.Name, sh, s.Name, c.Name)
				}
				clients[key] = c
				got++
			}
		}
		if got != len(want) {
			return nil, fmt.Errorf("merge: %s: shard %s holds %d cells, want %d (an incomplete or edited shard)", p.Name, sh, got, len(want))
		}
	}

	out := &reports.Results{SchemaVersion: first.Results.SchemaVersion, Passed: true, Scenarios: []reports.Scenario{}, Sweep: &sw}
	for _, path := range sw.Paths {
		s, ok := scen[path]
		if !ok {
			return nil, fmt.Errorf("merge: no shard holds path %s", path)
		}
		s.Passed = true
		for _, c := range order {
			if c.path != path {
				continue
			}
			rc := clients[c]
			s.Clients = append(s.Clients, rc)
			s.Passed = s.Passed && rc.Passed
		}
		out.Passed = out.Passed && s.Passed
		out.Scenarios = append(out.Scenarios, s)
	}
	return out, nil
}
