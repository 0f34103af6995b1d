package keepalive

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Prometheus metric names the Engine exports (EngineOptions.Registerer).
const (
	// MetricHeartbeatsSent counts heartbeats dispatched, by strategy ("presence", "ping").
	MetricHeartbeatsSent = "kalab_heartbeats_sent_total"
	// MetricHeartbeatsFailed counts heartbeats that failed (send error or no reply
	// within the deadline), by strategy.
	MetricHeartbeatsFailed = "kalab_heartbeats_failed_total"
	// MetricPingRTT is the histogram of acknowledged ping round trips, in seconds.
	MetricPingRTT = "kalab_ping_rtt_seconds"
	// MetricReconnects counts reconnect attempts (every Connect after a session was
	// up once), by the cause of the disconnect that led to it.
	MetricReconnects = "kalab_reconnects_total"
	// MetricDisconnects counts connections lost, by cause.
	MetricDisconnects = "kalab_disconnects_total"
	// MetricConnectFailures counts Connect calls that failed or timed out.
	MetricConnectFailures = "kalab_connect_failures_total"
	// MetricSessionState is the number of sessions in each state.
	MetricSessionState = "kalab_session_state"
	// MetricAlerts counts operator alerts, by kind.
	MetricAlerts = "kalab_alerts_total"
)

// metrics holds the engine's collectors with the hot label values resolved once.
// A nil *metrics records nothing.
type metrics struct {
	sentPresence, sentPing     prometheus.Counter
	failedPresence, failedPing prometheus.Counter
	rttHist                    prometheus.Histogram
	reconnects                 *prometheus.CounterVec
	disconnects                *prometheus.CounterVec
	connectFailures            prometheus.Counter
	states                     [StateStopped + 1]prometheus.Gauge
	alerts                     *prometheus.CounterVec
}

// newMetrics builds the collectors and registers them on reg.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	sent := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricHeartbeatsSent,
		Help: "Heartbeats dispatched, by strategy (presence or ping).",
	}, []string{"strategy"})
	failed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricHeartbeatsFailed,
		Help: "Heartbeats that failed to send or got no reply within the deadline, by strategy.",
	}, []string{"strategy"})
	rtt := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    MetricPingRTT,
		Help:    "Round-trip time of acknowledged pings, in seconds.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2, 14), // 5 ms … 41 s
	})
	reconnects := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricReconnects,
		Help: "Reconnect attempts, by the cause of the disconnect that led to them.",
	}, []string{"cause"})
	disconnects := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricDisconnects,
		Help: "Connections lost, by cause.",
	}, []string{"cause"})
	connectFailures := prometheus.NewCounter(prometheus.CounterOpts{
		Name: MetricConnectFailures,
		Help: "Connect attempts that failed or timed out.",
	})
	states := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: MetricSessionState,
		Help: "Sessions in each state.",
	}, []string{"state"})
	alerts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricAlerts,
		Help: "Operator alerts raised, by kind.",
	}, []string{"kind"})

	m := &metrics{
		sentPresence:    sent.WithLabelValues(string(StrategyPresence)),
		sentPing:        sent.WithLabelValues(string(StrategyPing)),
		failedPresence:  failed.WithLabelValues(string(StrategyPresence)),
		failedPing:      failed.WithLabelValues(string(StrategyPing)),
		rttHist:         rtt,
		reconnects:      reconnects,
		disconnects:     disconnects,
		connectFailures: connectFailures,
		alerts:          alerts,
	}
	for s := range m.states {
		m.states[s] = states.WithLabelValues(State(s).String())
	}
	var errs []error
	for _, c := range []prometheus.Collector{sent, failed, rtt, reconnects, disconnects, connectFailures, states, alerts} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("keepalive: register engine metrics: %w", err)
	}
	return m, nil
}

func (m *metrics) sent(kind ActionKind) {
	if m == nil {
		return
	}
	if kind == ActionSendPing {
		m.sentPing.Inc()
	} else {
		m.sentPresence.Inc()
	}
}

func (m *metrics) failed(kind ActionKind) {
	if m == nil {
		return
	}
	if kind == ActionSendPing {
		m.failedPing.Inc()
	} else {
		m.failedPresence.Inc()
	}
}

func (m *metrics) rtt(d time.Duration) {
	if m != nil {
		m.rttHist.Observe(d.Seconds())
	}
}

func (m *metrics) reconnect(c Cause) {
	if m != nil {
		m.reconnects.WithLabelValues(c.String()).Inc()
	}
}

func (m *metrics) disconnect(c Cause) {
	if m != nil {
		m.disconnects.WithLabelValues(c.String()).Inc()
	}
}

func (m *metrics) connectFailed() {
	if m != nil {
		m.connectFailures.Inc()
	}
}

func (m *metrics) alert(k AlertKind) {
	if m != nil {
		m.alerts.WithLabelValues(k.String()).Inc()
	}
}

func (m *metrics) stateInc(s State) {
	if m != nil && int(s) < len(m.states) {
		m.states[s].Inc()
	}
}

func (m *metrics) stateDec(s State) {
	if m != nil && int(s) < len(m.states) {
		m.states[s].Dec()
	}
}

func (m *metrics) stateMove(from, to State) {
	m.stateDec(from)
	m.stateInc(to)
}
