package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/kalab-dev/kalab/internal/atomicfile"
	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// SchemaVersion is the version of the results.json schema written by this package.
// It changes when a field is removed or changes meaning; adding a field does not.
// The schema is documented in SCHEMA.md.
const SchemaVersion = 1

// ResultsFile and RunInfoFile are the file names inside a report directory.
const (
	ResultsFile = "results.json"
	RunInfoFile = "run.json"
)

// Results is the content of results.json: everything a run measured, and nothing
// about when or where it ran (that is RunInfo), so the same scenarios and seeds give
// a byte-identical file.
type Results struct {
	// SchemaVersion is SchemaVersion at the time of writing.
	SchemaVersion int `json:"schema_version"`
	// Passed is true when every expectation of every scenario held.
	Passed bool `json:"passed"`
	// Scenarios in the order they were given (files in name order for a directory,
	// the built-in suite in file-name order).
	Scenarios []Scenario `json:"scenarios"`
	// Sweep is set when the results are an interval sweep (kalab sweep, kalab
	// merge); see Sweep. Absent for kalab run.
	Sweep *Sweep `json:"sweep,omitempty"`
	// Lab says the runs went over the network lab (kalab run --net: real sockets,
	// whatsmeow, Toxiproxy, the mock server, in compressed real time) rather than
	// the simulator; absent for simulator runs. Network runs are statistical, not
	// reproducible bit for bit.
	Lab *LabRun `json:"lab,omitempty"`
}

// LabRun describes a network-lab run (Results.Lab).
type LabRun struct {
	// Mode is "network".
	Mode string `json:"mode"`
	// TimeScale is the factor every duration was divided by (real time = scenario
	// time / TimeScale); measurements are reported in scenario time.
	TimeScale float64 `json:"time_scale"`
}

// Scenario is one scenario's setup and its clients' results.
type Scenario struct {
	// Name is the scenario's name, unique in a run.
	Name string `json:"name"`
	// Description says in a sentence what the scenario shows.
	Description string `json:"description,omitempty"`
	// File is where the scenario was read ("suite/nginx.yaml" for built-ins).
	File string `json:"file,omitempty"`
	// Duration is the simulated time of each run (nanoseconds in JSON).
	Duration time.Duration `json:"duration"`
	// Seeds are the seeds every client ran with, in order.
	Seeds []uint64 `json:"seeds"`
	// PathText is the path in the compact syntax ("nginx,aws-nlb"; "none" if empty).
	PathText string `json:"path_text"`
	// Path is the ordered list of middleboxes from client to server, expanded.
	Path []middlebox.Spec `json:"path"`
	// Network, Server and Faults are the scenario's models as written (zero
	// fields mean the simulator's defaults).
	Network sim.Network `json:"network"`
	Server  sim.Server  `json:"server"`
	Faults  []sim.Fault `json:"faults"`
	// Clients are the scenario's policies, in file order.
	Clients []Client `json:"clients"`
	// Passed is true when every expectation of every client held.
	Passed bool `json:"passed"`
}

// Client is one policy's results in one scenario.
type Client struct {
	// Name is the client's name, unique in its scenario.
	Name string `json:"name"`
	// Preset is the keepalive preset the policy started from ("" for a full config).
	Preset string `json:"preset,omitempty"`
	// Config is the policy as written (presets expanded, zero fields = defaults).
	Config keepalive.Config `json:"config"`
	// Runs holds one sim.Result per seed, in seed order. Only the first seed's run
	// keeps its Timeline, IntervalTrajectory and RTTTimeline; the others carry them
	// empty.
	Runs []sim.Result `json:"runs"`
	// Aggregate summarises each metric over the seeds, keyed by metric name, in the
	// metric's unit (ratios as fractions, durations in seconds, counts as is).
	Aggregate map[string]Stat `json:"aggregate"`
	// Verdicts are the client's expectations, in file order.
	Verdicts []Verdict `json:"verdicts"`
	// Passed is true when every verdict passed (true when there are none).
	Passed bool `json:"passed"`
}

// Stat is a metric over the seeds of a client.
type Stat struct {
	// Mean, Min and Max are over the seeds, in the metric's unit.
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// Verdict is one expectation checked on every seed.
type Verdict struct {
	// Expectation is the text as written ("true_uptime >= 99.9%").
	Expectation string `json:"expectation"`
	// Metric is the bounded metric's name (a key of Client.Aggregate).
	Metric string `json:"metric"`
	// Op is ">=", "<=", ">" or "<".
	Op string `json:"op"`
	// Bound and Measured are in Unit: "ratio" (fraction), "seconds" or "count".
	Bound float64 `json:"bound"`
	Unit  string  `json:"unit"`
	// Measured is the worst value over the seeds (the minimum for a lower bound,
	// the maximum for an upper bound); WorstSeed is the seed that gave it.
	Measured  float64 `json:"measured"`
	WorstSeed uint64  `json:"worst_seed"`
	// Passed is true when the expectation held on every seed.
	Passed bool `json:"passed"`
}

// Failures counts the failed verdicts over all scenarios.
func (r *Results) Failures() int {
	n := 0
	for _, s := range r.Scenarios {
		for _, c := range s.Clients {
			for _, v := range c.Verdicts {
				if !v.Passed {
					n++
				}
			}
		}
	}
	return n
}

// Marshal encodes r deterministically: struct fields in declaration order, map keys
// sorted, two-space indentation, a final newline. Non-finite numbers are an error.
func (r *Results) Marshal() ([]byte, error) {
	if r.SchemaVersion == 0 {
		return nil, fmt.Errorf("results: schema_version not set")
	}
	if err := r.checkFinite(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, fmt.Errorf("results: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// checkFinite names the first aggregate or verdict number that JSON cannot hold.
func (r *Results) checkFinite() error {
	bad := func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 0) }
	for _, s := range r.Scenarios {
		for _, c := range s.Clients {
			for name, st := range c.Aggregate {
				if bad(st.Mean) || bad(st.Min) || bad(st.Max) {
					return fmt.Errorf("results: %s/%s: aggregate %s is not finite", s.Name, c.Name, name)
				}
			}
			for _, v := range c.Verdicts {
				if bad(v.Bound) || bad(v.Measured) {
					return fmt.Errorf("results: %s/%s: verdict %q is not finite", s.Name, c.Name, v.Expectation)
				}
			}
		}
	}
	return nil
}

// Write writes r to path atomically (temporary file + rename).
func (r *Results) Write(path string) error {
	b, err := r.Marshal()
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// Load reads a results.json. It refuses a schema version newer than this package's.
func Load(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(path, b)
}

// Decode parses results.json content; name labels errors.
func Decode(name string, b []byte) (*Results, error) {
	var head struct {
		SchemaVersion *int `json:"schema_version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, fmt.Errorf("%s: not a results file: %w", name, err)
	}
	switch {
	case head.SchemaVersion == nil:
		return nil, fmt.Errorf("%s: not a results file: no schema_version", name)
	case *head.SchemaVersion > SchemaVersion || *head.SchemaVersion < 1:
		return nil, fmt.Errorf("%s: schema_version %d is not supported (this kalab reads 1 to %d)", name, *head.SchemaVersion, SchemaVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r Results
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &r, nil
}

// RunInfo is the content of run.json: the wall-clock facts of a run, kept out of
// results.json so that file stays reproducible.
type RunInfo struct {
	// Command is the command line as run.
	Command []string `json:"command"`
	// Started is when the run began (UTC); WallSeconds how long it took.
	Started     time.Time `json:"started"`
	WallSeconds float64   `json:"wall_seconds"`
	// Runs is the number of simulations; RunsPerSecond their throughput.
	Runs          int     `json:"runs"`
	RunsPerSecond float64 `json:"runs_per_second"`
	// Workers ran simulations in parallel; GOMAXPROCS and NumCPU describe the machine.
	Workers    int `json:"workers"`
	GOMAXPROCS int `json:"gomaxprocs"`
	NumCPU     int `json:"num_cpu"`
	// GOOS, GOARCH and GoVersion are the binary's platform and Go release.
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	GoVersion string `json:"go_version"`
	// Hostname is the machine's name; empty if unknown.
	Hostname string `json:"hostname,omitempty"`
}

// Write writes info to path atomically.
func (info *RunInfo) Write(path string) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("run info: encode: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'), 0o644)
}
