package reports

import (
	"time"
)

// The renderers draw from a view: the results flattened into what a page shows, one
// value per figure, already normalised per day and aggregated over seeds. view.go
// builds it from Results; the renderers never read Results directly, so a schema
// change touches one file.

// view is a whole report.
type view struct {
	// Title heads the page and the Markdown summary.
	Title     string
	Scenarios []scenarioView
}

// passed reports whether every expectation of every scenario holds.
func (v view) passed() bool {
	for _, s := range v.Scenarios {
		if !s.passed() {
			return false
		}
	}
	return true
}

// counts returns the number of expectations and of failed ones over all scenarios.
func (v view) counts() (total, failed int) {
	for _, s := range v.Scenarios {
		t, f := s.counts()
		total += t
		failed += f
	}
	return total, failed
}

// scenarioView is one scenario: its clients compared side by side.
type scenarioView struct {
	Name        string
	Slug        string // file-name and anchor safe form of Name
	Description string
	Duration    time.Duration // simulated time of one run
	Seeds       int           // number of seeds aggregated
	Clients     []clientView
}

func (s scenarioView) passed() bool {
	_, f := s.counts()
	return f == 0
}

func (s scenarioView) counts() (total, failed int) {
	for _, c := range s.Clients {
		for _, ch := range c.Checks {
			total++
			if !ch.Passed {
				failed++
			}
		}
	}
	return total, failed
}

// hasTimeline reports whether any client carries a timeline to draw.
func (s scenarioView) hasTimeline() bool {
	for _, c := range s.Clients {
		if c.Timeline != nil {
			return true
		}
	}
	return false
}

// hasDelays reports whether any client has delivery delays to draw.
func (s scenarioView) hasDelays() bool {
	for _, c := range s.Clients {
		if len(c.DelayHist) > 0 || len(c.delayRuns) > 0 {
			return true
		}
	}
	return false
}

// clientView is one client's metrics in one scenario, aggregated over seeds.
type clientView struct {
	Name string
	// Policy describes the heartbeat in words ("presence every 60 s"); may be empty.
	Policy string

	TrueUptime     float64 // fraction of time a message sent would arrive, 0..1
	ReportedUptime float64 // fraction of time the client believes it is connected, 0..1
	ZombiePerDay   time.Duration
	// ZombieEpisodes is the number of zombie stretches per day; ZombieLongest the
	// longest one seen.
	ZombieEpisodes float64
	ZombieLongest  time.Duration

	DisconnectsPerDay float64
	// CausesPerDay splits DisconnectsPerDay by ground-truth cause name.
	CausesPerDay map[string]float64
	// DetectedBy splits the disconnects per day by how the client learned of them.
	DetectedBy map[string]float64
	DetectMean time.Duration
	DetectMax  time.Duration
	Reconnects float64 // reconnect attempts per day

	DelayP50 time.Duration
	DelayP99 time.Duration
	DelayMax time.Duration
	HasDelay bool // whether any message was delivered (the delay figures mean something)

	HeartbeatsPerDay float64
	BytesPerDay      float64
	PresencePerDay   float64

	// DelayHist is the delivery delay histogram over all seeds, for the CDF; when
	// results carry none (older files), delayRuns holds each seed's percentiles.
	DelayHist []histBucket
	delayRuns []delayQuantiles
	// Timeline is one run (the first seed) drawn over time; nil when absent.
	Timeline *timelineView

	Checks []checkView
}

// histBucket counts the delays in (previous UpTo, UpTo].
type histBucket struct {
	UpTo  time.Duration
	Count int
}

// delayQuantiles are one run's delivery delay percentiles.
type delayQuantiles struct{ P50, P99, Max time.Duration }

// checkView is one expectation of one client and its verdict.
type checkView struct {
	// Expectation as written, e.g. "true_uptime >= 99.9%".
	Expectation string
	Metric      string
	// Measured and Bound are formatted with units.
	Measured string
	Bound    string
	Passed   bool
}

// connState is what the ground truth says about a connection at a moment.
type connState uint8

const (
	stateUp     connState = iota // connected, and a message would arrive
	stateZombie                  // client believes connected, it is not
	stateDown                    // client knows it is not connected
)

func (s connState) String() string {
	switch s {
	case stateUp:
		return "up"
	case stateZombie:
		return "zombie"
	}
	return "down"
}

// timelineView is one run drawn over time.
type timelineView struct {
	Seed        uint64
	Duration    time.Duration
	Bands       []bandView
	Interval    []pointView // heartbeat interval (Value in seconds) at time At
	RTT         []pointView // mean ping RTT (Value in milliseconds) from time At
	Disconnects []markView
}

// bandView is a stretch [From, To) in one state.
type bandView struct {
	From, To time.Duration
	State    connState
}

// pointView is a value at a time from the start of the run.
type pointView struct {
	At    time.Duration
	Value float64
}

// markView is a disconnect at a time, with its cause.
type markView struct {
	At    time.Duration
	Cause string
}
