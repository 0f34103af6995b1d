package sim

import "time"

// Result is what one run measured, from ground truth. Fractions are in [0, 1];
// durations are time.Duration (nanoseconds in JSON); "per day" figures are scaled to
// 24 h of simulated time. The JSON names are the names scenario expectations use.
type Result struct {
	// Scenario, Client and Seed name the run (from Run).
	Scenario string `json:"scenario"`
	Client   string `json:"client"`
	Seed     uint64 `json:"seed"`
	// Duration is the simulated time the run covered.
	Duration time.Duration `json:"duration"`

	// TrueUptime is the fraction of the run during which a message sent now would
	// arrive: the client holds an established connection that every box still
	// forwards, the server holds it, and no partition is in force.
	TrueUptime float64 `json:"true_uptime"`
	// ReportedUptime is the fraction of the run the engine believed it was
	// connected (state connected).
	ReportedUptime float64 `json:"reported_uptime"`
	// ZombieTime is the total time the engine believed it was connected while it
	// was not truly up; ZombieEvents counts those episodes, ZombieMean and
	// ZombieMax are their mean and longest duration, and ZombieFraction is
	// ZombieTime over Duration.
	ZombieTime     time.Duration `json:"zombie_time"`
	ZombieEvents   int           `json:"zombie_events"`
	ZombieMean     time.Duration `json:"zombie_mean"`
	ZombieMax      time.Duration `json:"zombie_max"`
	ZombieFraction float64       `json:"zombie_fraction"`

	// Disconnects counts established connections that were lost (by a box, the
	// server, a fault, or the client replacing a connection it judged dead);
	// DisconnectsPerDay is the same per 24 h.
	Disconnects       int     `json:"disconnects"`
	DisconnectsPerDay float64 `json:"disconnects_per_day"`
	// DisconnectsByCause counts them by ground-truth cause: "idle_timeout:<box>",
	// "lifetime:<box>", "fault:<kind>", "server_idle_close", "client" (the client
	// dropped a connection that was in fact still up).
	DisconnectsByCause map[string]int `json:"disconnects_by_cause"`
	// IdleDisconnects counts the disconnects caused by an idle timer of any box.
	IdleDisconnects int `json:"idle_disconnects"`
	// DetectedBy counts how the client learned of each disconnect: the cause it saw
	// ("closed", "reset", "tcp_timeout", "stream_error"), the engine's reason to
	// reconnect ("heartbeat_timeout", "silence", "local"), "logged_out",
	// "replaced", or "undetected" (still unnoticed at the end of the run).
	DetectedBy map[string]int `json:"detected_by"`
	// TimeToDetectMean and TimeToDetectMax are the mean and longest time from a
	// connection's loss to the client noticing it, over the detected disconnects.
	TimeToDetectMean time.Duration `json:"time_to_detect_mean"`
	TimeToDetectMax  time.Duration `json:"time_to_detect_max"`

	// ConnectAttempts counts ActionConnect; Connects the ones that logged in;
	// Reconnects = Connects − 1 (the first login is not a reconnect);
	// ConnectFailures the ones that did not.
	ConnectAttempts int `json:"connect_attempts"`
	Connects        int `json:"connects"`
	Reconnects      int `json:"reconnects"`
	ConnectFailures int `json:"connect_failures"`

	// MessagesSent counts inbound messages the server created; MessagesDelivered
	// those that reached the client; MessagesQueued those still undelivered at the
	// end. Delivery delay = arrival − creation; DeliveryDelayP50, P99 and Max are
	// exact over every delivered message (nearest rank).
	MessagesSent      int           `json:"messages_sent"`
	MessagesDelivered int           `json:"messages_delivered"`
	MessagesQueued    int           `json:"messages_queued"`
	DeliveryDelayP50  time.Duration `json:"delivery_delay_p50"`
	DeliveryDelayP99  time.Duration `json:"delivery_delay_p99"`
	DeliveryDelayMax  time.Duration `json:"delivery_delay_max"`
	// DeliveryDelayHistogram counts the delivered messages in log-spaced delay
	// buckets (ten per decade from 1 ms; empty buckets left out), for plots.
	DeliveryDelayHistogram []DelayBucket `json:"delivery_delay_histogram,omitempty"`

	// Heartbeats = Pings + Presences sent by the engine (including those that failed
	// to send); HeartbeatsFailed counts the failures the engine counted (missed
	// or late ping replies, failed sends). HeartbeatsPerDay and PingsPerDay are
	// per 24 h.
	Heartbeats       int     `json:"heartbeats"`
	HeartbeatsPerDay float64 `json:"heartbeats_per_day"`
	HeartbeatsFailed int     `json:"heartbeats_failed"`
	Pings            int     `json:"pings"`
	PingsPerDay      float64 `json:"pings_per_day"`
	Presences        int     `json:"presences"`
	// PresencePerDay is presence updates sent per day (each one shows the account
	// online and silences the phone's notifications).
	PresencePerDay float64 `json:"presence_per_day"`
	// PresenceReceived counts presence stanzas that reached the server.
	PresenceReceived int `json:"presence_received"`

	// BytesUp (client→server) and BytesDown (server→client) count bytes on the
	// wire (frames, handshakes; TCP/IP headers not counted); BytesPerDay (both
	// directions), BytesUpPerDay and BytesDownPerDay are per 24 h.
	BytesUp         int64   `json:"bytes_up"`
	BytesDown       int64   `json:"bytes_down"`
	BytesPerDay     float64 `json:"bytes_per_day"`
	BytesUpPerDay   float64 `json:"bytes_up_per_day"`
	BytesDownPerDay float64 `json:"bytes_down_per_day"`

	// RTTSamples counts the acknowledged pings; RTTP50, RTTP99 and RTTMax are
	// their RTT as the engine saw them, exact over all samples; EngineRTTP50 and
	// EngineRTTP99 are the engine's own window (Health) at the end.
	RTTSamples   int           `json:"rtt_samples"`
	RTTP50       time.Duration `json:"rtt_p50"`
	RTTP99       time.Duration `json:"rtt_p99"`
	RTTMax       time.Duration `json:"rtt_max"`
	EngineRTTP50 time.Duration `json:"engine_rtt_p50"`
	EngineRTTP99 time.Duration `json:"engine_rtt_p99"`

	// RTTTimeline is the RTT of acknowledged pings over the run: mean and max in
	// each of RTTTimelineBuckets equal time buckets (empty ones left out), for plots.
	RTTTimeline []RTTPoint `json:"rtt_timeline,omitempty"`

	// Alerts counts the engine's alert actions; Faults the faults injected.
	Alerts int `json:"alerts"`
	Faults int `json:"faults"`

	// FinalState and FinalInterval are the engine's state and interval at the end.
	FinalState    string        `json:"final_state"`
	FinalInterval time.Duration `json:"final_interval"`
	// MaxInterval is the largest heartbeat interval the engine used.
	MaxInterval time.Duration `json:"max_interval"`
	// IntervalTrajectory lists the points where the heartbeat interval changed (from
	// the Interval of each heartbeat action), at most MaxTrajectoryPoints: when the
	// list is full every second point is dropped and from then on only every second
	// change is recorded (and so on), so a long or random-interval run keeps an
	// evenly thinned history that starts with the first point.
	IntervalTrajectory []IntervalPoint `json:"interval_trajectory"`

	// Timeline is the connection's history for plots.
	Timeline Timeline `json:"timeline"`
}

// IntervalPoint is one change of the heartbeat interval.
type IntervalPoint struct {
	// At is when the new interval took effect, from the start of the run.
	At time.Duration `json:"at"`
	// Interval is the heartbeat interval from At on.
	Interval time.Duration `json:"interval"`
}

// Band states of the timeline.
const (
	BandUp     = "up"     // truly up
	BandZombie = "zombie" // believed up, not truly up
	BandDown   = "down"   // known down (reconnecting, waiting, stopped)
)

// Band is a span of one connection state.
type Band struct {
	// Start and End bound the span, from the start of the run.
	Start time.Duration `json:"start"`
	End   time.Duration `json:"end"`
	// State is BandUp, BandZombie or BandDown.
	State string `json:"state"`
}

// Mark is one disconnect: when the connection was lost, why, and how the client
// learned it.
type Mark struct {
	// At is when the connection was lost, from the start of the run.
	At time.Duration `json:"at"`
	// Cause is the ground-truth cause (a key of Result.DisconnectsByCause).
	Cause string `json:"cause"`
	// DetectedBy is how the client learned it (a key of Result.DetectedBy).
	DetectedBy string `json:"detected_by"`
}

// Limits of the timeline and trajectory, so that results stay small on long runs.
const (
	MaxTimelineBands    = 1000
	MaxTimelineMarks    = 1000
	MaxTrajectoryPoints = 512
)

// Timeline is the run's connection-state bands and disconnect marks.
//
// Bounds: with more than MaxTimelineBands bands, the run is cut into
// MaxTimelineBands equal buckets, each bucket takes the state that occupied most of
// it (ties: down, then zombie, then up), and equal neighbours merge; Downsampled
// says so. With more than MaxTimelineMarks marks, an evenly spaced subset of
// MaxTimelineMarks is kept (first and last included); MarksTotal is the full count.
type Timeline struct {
	// Bands are the state spans in time order, from the start of the run to its end.
	Bands []Band `json:"bands"`
	// Marks are the disconnects in time order (a subset if MarksTotal is larger).
	Marks []Mark `json:"marks"`
	// MarksTotal counts every disconnect, kept or not.
	MarksTotal int `json:"marks_total"`
	// Downsampled says the bands were merged into MaxTimelineBands buckets.
	Downsampled bool `json:"downsampled"`
}
