package reports

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

func sampleResults() *Results {
	nginx, _ := middlebox.Lookup("nginx")
	return &Results{
		SchemaVersion: SchemaVersion,
		Passed:        false,
		Scenarios: []Scenario{{
			Name: "nginx", Description: "d", File: "suite/nginx.yaml", Duration: 24 * time.Hour,
			Seeds: []uint64{1}, PathText: "nginx", Path: []middlebox.Spec{nginx},
			Faults: []sim.Fault{},
			Clients: []Client{{
				Name: "seed", Preset: "seed",
				Runs: []sim.Result{{Scenario: "nginx", Client: "seed", Seed: 1, TrueUptime: 0.72,
					DisconnectsByCause: map[string]int{"idle_timeout:nginx": 800, "fault:restart": 1}}},
				Aggregate: map[string]Stat{"true_uptime": {Mean: 0.72, Min: 0.72, Max: 0.72}, "alerts": {}},
				Verdicts: []Verdict{{Expectation: "true_uptime >= 99.9%", Metric: "true_uptime", Op: ">=",
					Bound: 0.999, Unit: "ratio", Measured: 0.72, WorstSeed: 1, Passed: false}},
			}},
		}},
	}
}

func TestWriteLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", ResultsFile)
	r := sampleResults()
	require.NoError(t, r.Write(path))
	got, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, r, got)
	assert.Equal(t, 1, got.Failures())

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")
}

func TestMarshalDeterministic(t *testing.T) {
	a, err := sampleResults().Marshal()
	require.NoError(t, err)
	for range 5 {
		b, err := sampleResults().Marshal()
		require.NoError(t, err)
		require.Equal(t, a, b)
	}
	s := string(a)
	assert.Regexp(t, `(?s)"alerts".*"true_uptime"`, s, "map keys sorted")
	assert.Regexp(t, `(?s)"fault:restart": 1,.*"idle_timeout:nginx": 800`, s)
	assert.Contains(t, s, "\n  \"schema_version\": 1,\n")
	assert.Equal(t, byte('\n'), a[len(a)-1])
}

func TestMarshalRejects(t *testing.T) {
	r := sampleResults()
	r.Scenarios[0].Clients[0].Aggregate["true_uptime"] = Stat{Mean: math.NaN()}
	_, err := r.Marshal()
	require.ErrorContains(t, err, "nginx/seed: aggregate true_uptime is not finite")

	r = sampleResults()
	r.Scenarios[0].Clients[0].Verdicts[0].Measured = math.Inf(1)
	_, err = r.Marshal()
	require.ErrorContains(t, err, `verdict "true_uptime >= 99.9%" is not finite`)

	r = sampleResults()
	r.SchemaVersion = 0
	_, err = r.Marshal()
	require.ErrorContains(t, err, "schema_version not set")
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		`not json`:          "not a results file",
		`{"scenarios": []}`: "no schema_version",
		`{"schema_version": 99, "scenarios": []}`:  "schema_version 99 is not supported",
		`{"schema_version": 0}`:                    "schema_version 0 is not supported",
		`{"schema_version": 1, "scenarioz": []}`:   `unknown field "scenarioz"`,
		`{"schema_version": 1, "passed": "maybe"}`: "cannot unmarshal",
	}
	for in, want := range cases {
		_, err := Decode("r.json", []byte(in))
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
		assert.Contains(t, err.Error(), "r.json", in)
	}
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
}

func TestRunInfoWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunInfoFile)
	info := RunInfo{Command: []string{"kalab", "run"}, Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Runs: 3, Workers: 2}
	require.NoError(t, info.Write(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"started": "2026-01-02T03:04:05Z"`)
	assert.Contains(t, string(b), `"runs": 3`)
}
