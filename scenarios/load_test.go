package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

const example = `name: example
description: every feature once
duration: 2h
seeds: [7, 3]
path:
  - nginx
  - nginx:timeout=75s
  - idle:45s:up:reset
  - {profile: aws-nlb, timeout: 600s, name: my-nlb}
  - {name: custom-lb, kind: idle, timeout: 30s, watches: down, at_expiry: blackhole}
network: {rtt: 80ms, jitter: 5ms, loss: 0.01, tcp_give_up: 15m}
server:
  inbound_per_hour: 12
  inbound_mode: bursts
  burst_size: 3
faults:
  - {kind: restart, at: 1h, duration: 30s}
  - {kind: latency_spike, at: 30m, every: 1h, duration: 1m, extra: 2s}
clients:
  - preset: whatsmeow
    expect: ["true_uptime >= 99.9%", "zombie_time <= 0s"]
  - name: whatsmeow-fast
    preset: whatsmeow
    config: {interval_min: 5s, interval_max: 8s, detection: {max_failures: 2}}
    expect: "disconnects_per_day <= 1"
  - name: custom
    config:
      strategy: ping
      interval: 20s
  - kalab
`

func TestParseExample(t *testing.T) {
	ss, err := Parse("example.yaml", []byte(example))
	require.NoError(t, err)
	require.Len(t, ss, 1)
	s := ss[0]
	assert.Equal(t, "example", s.Name)
	assert.Equal(t, "every feature once", s.Description)
	assert.Equal(t, "example.yaml", s.File)
	assert.Equal(t, 2*time.Hour, s.Duration)
	assert.Equal(t, []uint64{7, 3}, s.Seeds)

	require.Len(t, s.Path, 5)
	nginx, _ := middlebox.Lookup("nginx")
	assert.Equal(t, nginx, s.Path[0])
	assert.Equal(t, "nginx:timeout=75s", s.Path[1].Name)
	assert.Equal(t, 75*time.Second, s.Path[1].Timeout)
	assert.Equal(t, middlebox.Spec{Name: "idle:45s:up:reset", Kind: middlebox.KindIdle, Timeout: 45 * time.Second, Watches: middlebox.Up, AtExpiry: middlebox.Reset}, s.Path[2])
	assert.Equal(t, "my-nlb", s.Path[3].Name)
	assert.Equal(t, 600*time.Second, s.Path[3].Timeout)
	assert.True(t, s.Path[3].ResetOnNextPacket, "overrides keep the profile's other fields")
	assert.Equal(t, middlebox.Spec{Name: "custom-lb", Kind: middlebox.KindIdle, Timeout: 30 * time.Second, Watches: middlebox.Down, AtExpiry: middlebox.Blackhole}, s.Path[4])
	assert.Equal(t, "nginx,nginx:timeout=75s,idle:45s:up:reset,my-nlb,custom-lb", s.PathString())

	assert.Equal(t, sim.Network{RTT: 80 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.01, TCPGiveUp: 15 * time.Minute}, s.Network)
	assert.Equal(t, sim.Server{InboundPerHour: 12, InboundMode: sim.InboundBursts, BurstSize: 3}, s.Server)
	assert.Equal(t, []sim.Fault{
		{Kind: sim.FaultRestart, At: time.Hour, Duration: 30 * time.Second},
		{Kind: sim.FaultLatencySpike, At: 30 * time.Minute, Every: time.Hour, Duration: time.Minute, Extra: 2 * time.Second},
	}, s.Faults)

	require.Len(t, s.Clients, 4)
	wm, _ := keepalive.Preset("whatsmeow")
	assert.Equal(t, Client{Name: "whatsmeow", Preset: "whatsmeow", Config: wm, Expect: []Expectation{
		{Text: "true_uptime >= 99.9%", Metric: "true_uptime", Op: OpGE, Bound: 0.999},
		{Text: "zombie_time <= 0s", Metric: "zombie_time", Op: OpLE, Bound: 0},
	}}, s.Clients[0])

	fast := wm
	fast.IntervalMin, fast.IntervalMax = 5*time.Second, 8*time.Second
	fast.Detection.MaxFailures = 2
	assert.Equal(t, "whatsmeow-fast", s.Clients[1].Name)
	assert.Equal(t, "whatsmeow", s.Clients[1].Preset)
	assert.Equal(t, fast, s.Clients[1].Config, "overrides change only the fields they set")
	assert.Equal(t, []Expectation{{Text: "disconnects_per_day <= 1", Metric: "disconnects_per_day", Op: OpLE, Bound: 1}}, s.Clients[1].Expect)

	assert.Equal(t, Client{Name: "custom", Config: keepalive.Config{Strategy: keepalive.StrategyPing, Interval: 20 * time.Second}}, s.Clients[2])
	kl, _ := keepalive.Preset("kalab")
	assert.Equal(t, Client{Name: "kalab", Preset: "kalab", Config: kl}, s.Clients[3], "a bare name is a preset")
}

func TestParseDefaults(t *testing.T) {
	ss, err := Parse("min.yaml", []byte("name: min\nclients: [\" Seed\"]\n"))
	require.NoError(t, err)
	s := ss[0]
	assert.Equal(t, "seed", s.Clients[0].Name, "preset names are matched and stored in lower case")
	assert.Equal(t, "seed", s.Clients[0].Preset)
	assert.Equal(t, DefaultDuration, s.Duration)
	assert.Equal(t, DefaultSeeds, s.Seeds)
	assert.Empty(t, s.Path)
	assert.Equal(t, "none", s.PathString())
	assert.Equal(t, sim.Network{}, s.Network, "zero fields are left for the simulator's defaults")
}

func TestParseAnchorsAndMerge(t *testing.T) {
	src := `name: anchors
network: &net {rtt: 50ms}
clients:
  - &base
    name: a
    preset: grpc
    config: {interval: 15s}
  - <<: *base
    name: b
`
	ss, err := Parse("a.yaml", []byte(src))
	require.NoError(t, err)
	require.Len(t, ss[0].Clients, 2)
	assert.Equal(t, "b", ss[0].Clients[1].Name)
	assert.Equal(t, 15*time.Second, ss[0].Clients[1].Config.Interval)
}

func TestRunsExpansion(t *testing.T) {
	ss, err := Parse("example.yaml", []byte(example))
	require.NoError(t, err)
	s := ss[0]
	runs := s.Runs()
	require.Len(t, runs, len(s.Clients)*len(s.Seeds))
	i := 0
	for _, c := range s.Clients {
		for _, seed := range s.Seeds {
			r := runs[i]
			assert.Equal(t, "example", r.Scenario)
			assert.Equal(t, c.Name, r.Client)
			assert.Equal(t, seed, r.Seed)
			assert.Equal(t, c.Config, r.Policy)
			assert.Equal(t, s.Path, r.Path)
			assert.Equal(t, s.Faults, r.Faults)
			assert.Equal(t, 2*time.Hour, r.Duration)
			i++
		}
	}
	runs[0].Path[0].Timeout = time.Hour
	assert.Equal(t, 60*time.Second, s.Path[0].Timeout, "runs must not share the scenario's path")
}

// TestErrors covers every error class with its exact location and text.
func TestErrors(t *testing.T) {
	const head = "name: x\nclients: [seed]\n"
	cases := []struct {
		name, src string
		line      int
		field     string
		msg       string // a fragment of the message
	}{
		{"syntax", "name: x\nclients: [seed\n", 0, "", "invalid YAML: did not find expected ',' or ']'"},
		{"tab indentation", "name: x\n\tclients: []\n", 2, "", "invalid YAML"},
		{"not a mapping", "- a\n- b\n", 1, "", "expected a mapping"},
		{"empty", "", 0, "", "no scenario in file"},
		{"unknown top field", head + "descripton: d\n", 3, "descripton", `unknown field (did you mean "description"?)`},
		{"unknown far field", head + "zzzzzzzzzz: 1\n", 3, "zzzzzzzzzz", "unknown field (valid: clients, description,"},
		{"duplicate key", "name: x\nname: y\nclients: [seed]\n", 2, "name", "set twice"},
		{"missing name", "clients: [seed]\n", 1, "name", "missing"},
		{"missing clients", "name: x\n", 1, "clients", "missing"},
		{"empty clients", "name: x\nclients: []\n", 2, "clients", "one or more clients"},
		{"duration no unit", head + "duration: 60\n", 3, "duration", `duration "60" has no unit (write e.g. "60s")`},
		{"duration bad", head + "duration: soon\n", 3, "duration", `"soon" is not a duration`},
		{"duration negative", head + "duration: -1h\n", 3, "duration", "must be > 0"},
		{"seeds not list", head + "seeds: 3\n", 3, "seeds", "expected a list"},
		{"seed negative", head + "seeds: [1, -2]\n", 3, "seeds[1]", "whole number ≥ 0"},
		{"seed twice", head + "seeds: [1, 2, 1]\n", 3, "seeds[2]", "seed 1 listed twice"},
		{"seeds empty", head + "seeds: []\n", 3, "seeds", "empty"},
		{"seed twice via alias", head + "description: &s [4, 4]\nseeds: *s\n", 3, "description", "expected a single value"},
		{"seed twice in alias", "name: x\nclients: [seed]\nfaults: []\nnetwork: {}\nseeds: &s [4, 4]\n", 5, "seeds[1]", "seed 4 listed twice"},
		{"path typo", head + "path:\n  - nginx\n  - ngnix\n", 5, "path[1]", `unknown middlebox "ngnix" (did you mean "nginx"?)`},
		{"path bad compact", head + "path: [idle:45]\n", 3, "path[0]", `"45" has no unit`},
		{"path string typo", head + "path: nginx,aws-nbl\n", 3, "path", `path element 2 "aws-nbl": unknown middlebox "aws-nbl" (did you mean "aws-nlb"?)`},
		{"path mapping field", head + "path:\n  - {profile: nginx, timout: 75s}\n", 4, "path[0].timout", `did you mean "timeout"?`},
		{"path mapping profile typo", head + "path:\n  - {profile: cloudflair}\n", 4, "path[0]", `did you mean "cloudflare"?`},
		{"path custom invalid", head + "path:\n  - {kind: idle, watches: both, at_expiry: close}\n", 4, "path[0]", "timeout: must be > 0"},
		{"path custom bad duration", head + "path:\n  - {kind: idle, timeout: 45}\n", 4, "path[0].timeout", "has no unit"},
		{"path item list", head + "path:\n  - [nginx]\n", 4, "path[0]", "expected a middlebox name"},
		{"network field", head + "network:\n  rtt: 10ms\n  jiter: 1ms\n", 5, "network.jiter", `did you mean "jitter"?`},
		{"network type", head + "network: {loss: lots}\n", 3, "network.loss", `expected a number, got "lots"`},
		{"network invalid", head + "network:\n  rtt: 10ms\n  loss: 1.5\n", 5, "network.loss", "must be in [0, 1), got 1.5"},
		{"server invalid", head + "server: {inbound_mode: sometimes}\n", 3, "server.inbound_mode", `unknown "sometimes"`},
		{"fault invalid", head + "faults:\n  - {kind: restart, at: 1h}\n  - {kind: partition, at: 2h}\n", 5, "faults[1].duration", "a partition needs a duration > 0"},
		{"server field", head + "server: {inbound_per_hr: 3}\n", 3, "server.inbound_per_hr", `did you mean "inbound_per_hour"?`},
		{"server int", head + "server: {burst_size: 2.5}\n", 3, "server.burst_size", "whole number"},
		{"fault kind typo", head + "faults:\n  - {kind: restrat, at: 1h}\n", 4, "faults[0].kind", `unknown fault "restrat" (did you mean "restart"?)`},
		{"fault kind missing", head + "faults:\n  - {at: 1h}\n", 4, "faults[0].kind", "missing"},
		{"fault field", head + "faults:\n  - {kind: restart, att: 1h}\n", 4, "faults[0].att", `did you mean "at"?`},
		{"preset typo", "name: x\nclients:\n  - preset: seed\n  - preset: grpc\n  - preset: whatsmeo\n", 5, "clients[2].preset", `unknown preset "whatsmeo" (did you mean "whatsmeow"?)`},
		{"bare preset typo", "name: x\nclients: [baileyz]\n", 2, "clients[0].preset", `did you mean "baileys"?`},
		{"preset unknown far", "name: x\nclients: [zzzzzzzzzzzz]\n", 2, "clients[0].preset", "one of baileys, grpc, kalab, mars, seed, whatsmeow"},
		{"client field", "name: x\nclients:\n  - preset: seed\n    expects: []\n", 4, "clients[0].expects", `did you mean "expect"?`},
		{"config field", "name: x\nclients:\n  - preset: seed\n    config: {interval_mn: 1s}\n", 4, "clients[0].config.interval_mn", `did you mean "interval_min"?`},
		{"config nested field", "name: x\nclients:\n  - preset: seed\n    config:\n      reconnect: {base_dealy: 1s}\n", 5, "clients[0].config.reconnect.base_dealy", `did you mean "base_delay"?`},
		{"config bool", "name: x\nclients:\n  - preset: seed\n    config: {inbound_is_liveness: yes}\n", 4, "clients[0].config.inbound_is_liveness", "expected true or false"},
		{"config invalid", "name: x\nclients:\n  - name: c\n    config: {strategy: pong}\n", 4, "clients[0].config", "pong"},
		{"neither preset nor config", "name: x\nclients:\n  - name: c\n", 3, "clients[0]", "give a preset"},
		{"empty client", "name: x\nclients:\n  - {}\n", 3, "clients[0]", "give a preset"},
		{"null client", "name: x\nclients:\n  - ~\n", 3, "clients[0]", "expected a mapping"},
		{"config without name", "name: x\nclients:\n  - config: {interval: 1s}\n", 3, "clients[0].name", "needs a name"},
		{"duplicate client", "name: x\nclients:\n  - seed\n  - preset: grpc\n    name: seed\n", 4, "clients[1].name", `client "seed" already used by clients[0]`},
		{"metric typo", "name: x\nclients:\n  - preset: seed\n    expect: [\"true_uptim >= 99%\"]\n", 4, "clients[0].expect[0]", `unknown metric "true_uptim" (did you mean "true_uptime"?)`},
		{"no operator", "name: x\nclients:\n  - preset: seed\n    expect: [\"true_uptime 99%\"]\n", 4, "clients[0].expect[0]", "want METRIC OP VALUE"},
		{"bad operator", "name: x\nclients:\n  - preset: seed\n    expect: [\"true_uptime >== 99%\"]\n", 4, "clients[0].expect[0]", "unknown operator"},
		{"ratio above one", "name: x\nclients:\n  - preset: seed\n    expect: [\"true_uptime >= 99.9\"]\n", 4, "clients[0].expect[0]", "for a percentage write 99.9%"},
		{"duration bound no unit", "name: x\nclients:\n  - preset: seed\n    expect: [\"zombie_time <= 30\"]\n", 4, "clients[0].expect[0]", `has no unit (write e.g. "30s")`},
		{"count with percent", "name: x\nclients:\n  - preset: seed\n    expect: [\"disconnects_per_day <= 5%\"]\n", 4, "clients[0].expect[0]", "a count, not a percentage"},
		{"expect mapping", "name: x\nclients:\n  - preset: seed\n    expect: {a: b}\n", 4, "clients[0].expect", "expected a list of expectations"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("suite/case.yaml", []byte(c.src))
			require.Error(t, err)
			var list ErrorList
			require.True(t, errors.As(err, &list), "errors are an ErrorList: %v", err)
			require.NotEmpty(t, list)
			e := list[0]
			assert.Equal(t, "suite/case.yaml", e.File)
			if c.line > 0 {
				assert.Equal(t, c.line, e.Line, err.Error())
			}
			assert.Equal(t, c.field, e.Field, err.Error())
			assert.Contains(t, e.Msg, c.msg)
		})
	}
}

func TestNodeBudget(t *testing.T) {
	ss, err := Parse("a.yaml", []byte(aliasFaults()))
	require.NoError(t, err)
	assert.Len(t, ss[0].Faults, 4)

	d := newDecoder("big.yaml")
	d.budget = 10
	var seeds []uint64
	var root yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"), &root))
	d.decode(root.Content[0], reflect.ValueOf(&seeds).Elem(), "seeds")
	require.Len(t, d.errs, 1)
	assert.Equal(t, "big.yaml:1: seeds[8]: document too large after expanding aliases", d.errs[0].Error())
}

// TestErrorText pins the exact text of a located error.
func TestErrorText(t *testing.T) {
	src := "name: x\nclients:\n  - preset: seed\n  - preset: grpc\n  - preset: whatsmeo\n"
	_, err := Parse("suite/nginx.yaml", []byte(src))
	require.Error(t, err)
	assert.Equal(t, `suite/nginx.yaml:5: clients[2].preset: unknown preset "whatsmeo" (did you mean "whatsmeow"?)`, err.Error())
}

func TestManyErrorsReportedTogether(t *testing.T) {
	src := "name: x\nduration: 5\nnetwork: {jiter: 1ms}\nclients:\n  - preset: whatsmeo\n"
	_, err := Parse("f.yaml", []byte(src))
	var list ErrorList
	require.True(t, errors.As(err, &list))
	require.Len(t, list, 3)
	assert.Equal(t, []string{"duration", "network.jiter", "clients[0].preset"}, []string{list[0].Field, list[1].Field, list[2].Field})
}

func TestMultipleDocuments(t *testing.T) {
	ss, err := Parse("m.yaml", []byte("name: a\nclients: [seed]\n---\nname: b\nclients: [grpc]\n"))
	require.NoError(t, err)
	require.Len(t, ss, 2)
	assert.Equal(t, "b", ss[1].Name)

	_, err = Parse("m.yaml", []byte("name: a\nclients: [seed]\n---\nname: a\nclients: [grpc]\n"))
	require.Error(t, err)
	assert.Equal(t, `m.yaml:4: name: scenario "a" is already defined in m.yaml`, err.Error())
}

// aliasFaults repeats one fault through aliases.
func aliasFaults() string {
	return "name: x\nclients: [seed]\nfaults:\n  - &f {kind: restart, at: 1h}\n  - *f\n  - *f\n  - *f\n"
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "one.yaml"), []byte("name: one\nclients: [seed]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "two.yml"), []byte("name: two\nclients: [grpc]\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644))

	ss, err := Resolve([]string{dir})
	require.NoError(t, err)
	require.Len(t, ss, 2)
	assert.Equal(t, []string{"one", "two"}, []string{ss[0].Name, ss[1].Name})

	ss, err = Resolve([]string{filepath.Join(dir, "two.yml"), "nginx"})
	require.NoError(t, err)
	require.Len(t, ss, 2)
	assert.Equal(t, "two", ss[0].Name)
	assert.Equal(t, "nginx", ss[1].Name)
	assert.Equal(t, "suite/nginx.yaml", ss[1].File)

	all, err := Resolve(nil)
	require.NoError(t, err)
	suite, err := Resolve([]string{"suite"})
	require.NoError(t, err)
	assert.Equal(t, len(all), len(suite))

	_, err = Resolve([]string{"ngnix"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `did you mean "nginx"?`)

	_, err = Resolve([]string{"nginx", "nginx"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `scenario "nginx" is already defined`)

	_, err = Resolve([]string{filepath.Join(dir, "missing.yaml")})
	require.Error(t, err)

	empty := t.TempDir()
	_, err = Resolve([]string{empty})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no scenario files")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("name: bad\nclients: [whatsmeo]\n"), 0o644))
	_, err = Resolve([]string{dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "bad.yaml")+":2: clients[0].preset")
}

// FuzzLoad checks that no input makes the loader panic or hang, and that whatever
// it accepts is a valid scenario the simulator would run.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte(aliasFaults()))
	f.Add([]byte("name: x\nclients: [seed]\ndescription: &s [4, 4]\nseeds: *s\npath: &p [nginx]\n"))
	f.Add([]byte("name: x\nclients:\n  - &c {preset: grpc, expect: [\"true_uptime >= 99%\"]}\n  - {<<: *c, name: g2}\n"))
	for _, n := range SuiteNames() {
		b, err := suiteFS.ReadFile("suite/" + n + ".yaml")
		require.NoError(f, err)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, err := Parse("fuzz.yaml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not a non-empty ErrorList: %v", err)
			}
			for _, e := range list {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("error without file or message: %#v", e)
				}
			}
			return
		}
		for _, s := range ss {
			if s.Name == "" || len(s.Clients) == 0 || len(s.Seeds) == 0 || s.Duration <= 0 {
				t.Fatalf("accepted an incomplete scenario: %+v", s)
			}
			for _, r := range s.Runs() {
				if _, err := sim.Normalize(r); err != nil {
					t.Fatalf("accepted a scenario the simulator refuses: %v", err)
				}
				if _, err := keepalive.NewPolicy(r.Policy); err != nil {
					t.Fatalf("accepted an invalid policy: %v", err)
				}
			}
		}
	})
}

// TestReadmeExample keeps the example in README.md loadable.
func TestReadmeExample(t *testing.T) {
	b, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(b), "```yaml\n")
	require.True(t, ok)
	src, _, ok := strings.Cut(rest, "```")
	require.True(t, ok)
	ss, err := Parse("README.md", []byte(src))
	require.NoError(t, err)
	require.Len(t, ss, 1)
	assert.Len(t, ss[0].Path, 7)
	assert.Len(t, ss[0].Clients, 4)
	assert.Len(t, ss[0].Faults, 2)
}
