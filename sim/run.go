// Package sim is kalab's discrete-event simulator: it runs the real keep-alive engine
// core (keepalive.Session) in virtual time against a modelled link, a path of
// middleboxes and a WhatsApp server, and measures what a user cares about — true
// uptime, zombie time, disconnects, message delivery delay — from ground truth.
// A day takes milliseconds; the same Run gives the same Result, bit for bit.
//
// It steps the engine core directly (never the driver) and never sleeps or reads
// the wall clock.
package sim

import (
	"time"

	"github.com/kalab-dev/kalab/keepalive"
	"github.com/kalab-dev/kalab/sim/middlebox"
)

// Network models the link between the client and the server.
type Network struct {
	// RTT is the base round-trip time. Default: 100 ms.
	RTT time.Duration `yaml:"rtt" json:"rtt"`
	// Jitter adds a uniform random delay in [0, Jitter] to each one-way trip.
	Jitter time.Duration `yaml:"jitter" json:"jitter"`
	// Loss is the probability that a frame is lost (retransmitted by TCP after one
	// RTO, so it arrives late rather than never).
	Loss float64 `yaml:"loss" json:"loss"`
	// TCPGiveUp is how long TCP retransmits unacknowledged data before the client's
	// kernel reports the connection dead (Linux tcp_retries2=15: about 15 min).
	// Default: 924.6 s.
	TCPGiveUp time.Duration `yaml:"tcp_give_up" json:"tcp_give_up"`
	// ConnectTimeout is how long a connect attempt waits when nothing answers (its
	// SYNs vanish in a partition) before it fails. Default: 20 s.
	ConnectTimeout time.Duration `yaml:"connect_timeout" json:"connect_timeout"`
}

// InboundMode says how the server's inbound messages are spaced.
type InboundMode string

const (
	// InboundPoisson: exponential gaps at Server.InboundPerHour.
	InboundPoisson InboundMode = "poisson"
	// InboundBursts: bursts of Server.BurstSize messages at InboundPerHour/BurstSize.
	InboundBursts InboundMode = "bursts"
)

// Server models the WhatsApp server's behaviour.
type Server struct {
	// PingServiceTime is how long the server takes to answer a ping. Default: 5 ms.
	PingServiceTime time.Duration `yaml:"ping_service_time" json:"ping_service_time"`
	// InboundPerHour is the mean rate of inbound messages to the client. 0 = none.
	InboundPerHour float64 `yaml:"inbound_per_hour" json:"inbound_per_hour"`
	// InboundMode spaces the messages. Default: InboundPoisson.
	InboundMode InboundMode `yaml:"inbound_mode" json:"inbound_mode"`
	// BurstSize is the number of messages in a burst (InboundBursts). Default: 5.
	BurstSize int `yaml:"burst_size" json:"burst_size"`
	// MessageBytes is the size of an inbound message frame. Default: 600.
	MessageBytes int `yaml:"message_bytes" json:"message_bytes"`
	// IdleClose closes a connection from which the server received nothing for this
	// long (a server-side idle policy). 0 = never.
	IdleClose time.Duration `yaml:"idle_close" json:"idle_close"`
}

// FaultKind names a fault the server or network can inject.
type FaultKind string

const (
	// FaultRestart: the server restarts; connections close and logins fail for
	// Fault.Duration.
	FaultRestart FaultKind = "restart"
	// FaultStreamError515: stream:error 515 (reconnect requested).
	FaultStreamError515 FaultKind = "stream_error_515"
	// FaultStreamError503: stream:error 503 (service unavailable).
	FaultStreamError503 FaultKind = "stream_error_503"
	// FaultLogout: stream:error 401 device_removed; the client must stop.
	FaultLogout FaultKind = "logout"
	// FaultReplaced: conflict replaced; the client must stop.
	FaultReplaced FaultKind = "replaced"
	// FaultPartition: the path drops everything, silently, for Fault.Duration.
	FaultPartition FaultKind = "partition"
	// FaultLatencySpike: Fault.Extra is added to each one-way trip for Fault.Duration.
	FaultLatencySpike FaultKind = "latency_spike"
)

// Fault is one injected event: at At, and again every Every if Every > 0.
type Fault struct {
	// Kind is what happens (one of the Fault* constants).
	Kind FaultKind `yaml:"kind" json:"kind"`
	// At is the time of the first occurrence from the start of the run.
	At time.Duration `yaml:"at" json:"at"`
	// Every repeats the fault at this period. 0 = once.
	Every time.Duration `yaml:"every" json:"every"`
	// Duration is how long a partition, restart or spike lasts.
	Duration time.Duration `yaml:"duration" json:"duration"`
	// Extra is the latency a spike adds to each one-way trip.
	Extra time.Duration `yaml:"extra" json:"extra"`
}

// Run is one simulation: one client policy × one path × one seed × a duration.
type Run struct {
	// Scenario and Client name the run in results and traces.
	Scenario string
	Client   string
	// Policy is the client's keep-alive configuration.
	Policy keepalive.Config
	// Path is the ordered list of middleboxes from client to server.
	Path []middlebox.Spec
	// Network is the link's latency and loss model.
	Network Network
	// Server is the server model's behaviour.
	Server Server
	// Faults are injected each at its own At (and every Every); list order does
	// not matter.
	Faults []Fault
	// Duration is the simulated time. Default: 24 h.
	Duration time.Duration
	// Seed seeds every random draw of the run (engine, link, server).
	Seed uint64
}
