package sweep

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/reports"
	"github.com/kalab-dev/kalab/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testGrid is a small sweep: two paths (a catalog profile and a custom timer), two
// strategies, intervals on both sides of the timers, two seeds, 6 simulated hours.
func testGrid() Grid {
	return Grid{
		Paths:      []string{"nginx", "idle:45s:down:close"},
		Strategies: []keepalive.Strategy{keepalive.StrategyPing, keepalive.StrategyPresence},
		Intervals:  []time.Duration{20 * time.Second, 40 * time.Second, 50 * time.Second, 70 * time.Second},
		Seeds:      []uint64{1, 2},
		Duration:   6 * time.Hour,
		Server:     sim.Server{InboundPerHour: 6},
	}
}

func marshal(t *testing.T, r *reports.Results) []byte {
	t.Helper()
	b, err := r.Marshal()
	require.NoError(t, err)
	return b
}

// shards runs every shard of g split n ways and returns them as read back from
// their results.json (as kalab merge sees them).
func shards(t *testing.T, g Grid, n int) []Part {
	t.Helper()
	var parts []Part
	for i := 1; i <= n; i++ {
		r, err := Run(context.Background(), g, Options{Shard: Shard{Index: i, Count: n}, Workers: 2})
		require.NoError(t, err)
		require.NotNil(t, r.Sweep.Shard)
		name := filepath.Join("shard", string(rune('0'+i)), "results.json")
		dec, err := reports.Decode(name, marshal(t, r))
		require.NoError(t, err)
		parts = append(parts, Part{Name: name, Results: dec})
	}
	return parts
}

func TestShardMergeRoundTripIsByteIdentical(t *testing.T) {
	g := testGrid()
	whole, err := Run(context.Background(), g, Options{Workers: 1})
	require.NoError(t, err)
	want := marshal(t, whole)
	require.Nil(t, whole.Sweep.Shard)
	require.Len(t, whole.Scenarios, 2)
	assert.Len(t, whole.Scenarios[0].Clients, 8, "2 strategies × 4 intervals")

	for _, n := range []int{2, 3, 16} { // 16 > 16 cells: some shards are empty
		parts := shards(t, g, n)
		cells := 0
		for _, p := range parts {
			cells += p.Results.Sweep.Shard.Cells
		}
		assert.Equal(t, 16, cells, "the shards of a %d-way split hold every cell once", n)
		// Merge does not depend on the order the shards are given in.
		parts[0], parts[len(parts)-1] = parts[len(parts)-1], parts[0]
		merged, err := Merge(parts)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(marshal(t, merged)), "%d shards merged = one run", n)
	}
}

func TestRunIsIndependentOfWorkers(t *testing.T) {
	g := testGrid()
	g.Paths = g.Paths[:1]
	a, err := Run(context.Background(), g, Options{Workers: 1})
	require.NoError(t, err)
	b, err := Run(context.Background(), g, Options{Workers: 4})
	require.NoError(t, err)
	assert.Equal(t, string(marshal(t, a)), string(marshal(t, b)))
}

func TestMergeRefusesMismatchedShards(t *testing.T) {
	g := testGrid()
	g.Paths, g.Intervals, g.Duration = g.Paths[:1], g.Intervals[:2], time.Hour
	parts := shards(t, g, 2)

	other := g
	other.Seeds = []uint64{7, 8}
	foreign := shards(t, other, 2)
	split3 := shards(t, g, 3)
	whole, err := Run(context.Background(), g, Options{})
	require.NoError(t, err)

	edited, err := reports.Decode("edited.json", marshal(t, parts[1].Results))
	require.NoError(t, err)
	edited.Scenarios[0].Clients = edited.Scenarios[0].Clients[:1]

	cases := []struct {
		name  string
		parts []Part
		want  string
	}{
		{"none", nil, "no shard results given"},
		{"different sweep", []Part{parts[0], foreign[1]}, "shards of different sweeps"},
		{"overlap", []Part{parts[0], parts[0]}, "overlap: both are shard 1/2"},
		{"missing", []Part{parts[1]}, "missing shard(s) 1/2"},
		{"different split", []Part{parts[0], split3[1]}, "split in two different ways"},
		{"whole sweep", []Part{{Name: "whole.json", Results: whole}}, "whole.json: the results of a whole sweep"},
		{"not a sweep", []Part{{Name: "run.json", Results: &reports.Results{SchemaVersion: 1}}}, "run.json: not a sweep's results"},
		{"edited shard", []Part{parts[0], {Name: "edited.json", Results: edited}}, "edited.json: shard 2/2 holds 1 cells, want 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Merge(c.parts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestFingerprint(t *testing.T) {
	g := testGrid()
	a, err := Fingerprint(g)
	require.NoError(t, err)
	assert.Len(t, a, 32)
	// The same sweep written differently (interval order, path spelling) is the same sweep.
	same := g
	same.Intervals = []time.Duration{70 * time.Second, 20 * time.Second, 50 * time.Second, 40 * time.Second}
	same.Paths = []string{" nginx ", "idle:45s:down:close"}
	b, err := Fingerprint(same)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	for name, mod := range map[string]func(*Grid){
		"duration": func(g *Grid) { g.Duration = 7 * time.Hour },
		"seeds":    func(g *Grid) { g.Seeds = []uint64{1, 3} },
		"inbound":  func(g *Grid) { g.Server.InboundPerHour = 7 },
		"path":     func(g *Grid) { g.Paths[0] = "nginx:timeout=75s" },
		"faults":   func(g *Grid) { g.Faults = []sim.Fault{{Kind: sim.FaultStreamError515, At: time.Hour}} },
		"deadline": func(g *Grid) { g.ReplyDeadline = 5 * time.Second },
	} {
		x := testGrid()
		mod(&x)
		c, err := Fingerprint(x)
		require.NoError(t, err, name)
		assert.NotEqual(t, a, c, "changing %s changes the fingerprint", name)
	}
}

func TestCellsTellSafeFromUnsafe(t *testing.T) {
	res, err := Run(context.Background(), testGrid(), Options{})
	require.NoError(t, err)
	cells, err := Cells(res)
	require.NoError(t, err)
	require.Len(t, cells, 16)
	safe := map[string]bool{}
	for _, c := range cells {
		safe[c.Path+" "+CellName(c.Strategy, c.Interval)] = c.Safe
		assert.Equal(t, 2, c.Seeds)
	}
	// nginx: 60 s idle over both directions; pings and presence below it hold.
	assert.True(t, safe["nginx ping@50s"])
	assert.True(t, safe["nginx presence@50s"])
	assert.False(t, safe["nginx ping@1m10s"], "above the timer the box closes the connection")
	// A timer that watches only server→client traffic: the ping's reply re-arms
	// it, presence never does, whatever its interval.
	assert.True(t, safe["idle:45s:down:close ping@40s"])
	assert.False(t, safe["idle:45s:down:close presence@20s"])
	hi, ok := SafeMax(cells)
	assert.False(t, ok, "presence fails the down-only path at every interval: %v", hi)
}

func TestWriteReport(t *testing.T) {
	g := testGrid()
	g.Duration = time.Hour
	res, err := Run(context.Background(), g, Options{})
	require.NoError(t, err)
	dir := t.TempDir()
	files, err := WriteReport(res, dir, false)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		filepath.Join(dir, reports.ResultsFile), filepath.Join(dir, SummaryFile),
		filepath.Join(dir, PlotsDir, PlotName+".png"), filepath.Join(dir, PlotsDir, PlotName+".svg"),
	}, files)
	back, err := reports.Load(filepath.Join(dir, reports.ResultsFile))
	require.NoError(t, err)
	assert.Equal(t, string(marshal(t, res)), string(marshal(t, back)))
	md, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## idle:45s:down:close")
	assert.Contains(t, string(md), "| ping | 50s |")
	svg, err := os.ReadFile(filepath.Join(dir, PlotsDir, PlotName+".svg"))
	require.NoError(t, err)
	assert.Contains(t, string(svg), "nginx / presence", "one curve per path and strategy")
}

func TestGridErrors(t *testing.T) {
	cases := map[string]struct {
		mod  func(*Grid)
		want string
	}{
		"no path":        {func(g *Grid) { g.Paths = nil }, "no path"},
		"bad path":       {func(g *Grid) { g.Paths = []string{"nginx,ngnix"} }, `path 1 "nginx,ngnix": path element 2 "ngnix"`},
		"duplicate path": {func(g *Grid) { g.Paths = []string{"nginx", "nginx"} }, "is path 1 again"},
		"no interval":    {func(g *Grid) { g.Intervals = nil }, "no interval"},
		"dup interval":   {func(g *Grid) { g.Intervals = []time.Duration{time.Second, time.Second} }, "given twice"},
		"bad strategy":   {func(g *Grid) { g.Strategies = []keepalive.Strategy{"noop"} }, `strategy "noop"`},
		"dup seed":       {func(g *Grid) { g.Seeds = []uint64{1, 1} }, "seed 1 given twice"},
		"too big": {func(g *Grid) {
			g.Intervals = nil
			for i := 1; i <= 300000; i++ {
				g.Intervals = append(g.Intervals, time.Duration(i)*time.Millisecond)
			}
		}, "exceed the limit"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := testGrid()
			c.mod(&g)
			_, err := Run(context.Background(), g, Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestParseIntervals(t *testing.T) {
	got, err := ParseIntervals("10s:30s:10s, 45s,20s")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{10 * time.Second, 20 * time.Second, 30 * time.Second, 45 * time.Second}, got)
	for text, want := range map[string]string{
		"":           "empty",
		"10s:5s:1s":  "MAX 5s is below MIN 10s",
		"10s:20s":    "want MIN:MAX:STEP",
		"ten":        `"ten" is not a duration`,
		"0s":         "not positive",
		"1ms:1h:1ns": "raise the step",
	} {
		_, err := ParseIntervals(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want, text)
	}
}

func TestParseShard(t *testing.T) {
	s, err := ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 2, Count: 4}, s)
	assert.Equal(t, "2/4", s.String())
	// Round-robin: cells 1, 5, 9 … (from 0) belong to shard 2 of 4.
	assert.True(t, s.holds(1))
	assert.True(t, s.holds(5))
	assert.False(t, s.holds(2))
	for text, want := range map[string]string{
		"2":   "want i/n",
		"0/4": "within 1..4",
		"5/4": "within 1..4",
		"a/b": "whole numbers",
		"1/0": "n must be ≥ 1",
	} {
		_, err := ParseShard(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want, text)
	}
}

func TestParseStrategies(t *testing.T) {
	got, err := ParseStrategies("ping, Presence")
	require.NoError(t, err)
	assert.Equal(t, []keepalive.Strategy{keepalive.StrategyPing, keepalive.StrategyPresence}, got)
	_, err = ParseStrategies("ping,noop")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `strategy "noop"`)
}
