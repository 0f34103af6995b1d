package keepalive

import (
	"context"
	"log/slog"
	"time"
)

// Log messages of the session lifecycle (the seed's moments), for people and for
// tests that look for them. Every line carries the "session" attribute.
const (
	// LogConnected: the connection is up (Info).
	LogConnected = "connected"
	// LogKeepAliveStarted: heartbeats begin; attributes "strategy", "interval" (Info).
	LogKeepAliveStarted = "keep-alive started"
	// LogHeartbeatSent: one heartbeat dispatched; "strategy", "seq", "interval" (Debug).
	LogHeartbeatSent = "heartbeat sent"
	// LogHeartbeatFailed: a heartbeat failed; "strategy", "seq", "error" (Warn).
	LogHeartbeatFailed = "heartbeat failed"
	// LogKeepAliveStopped: heartbeats stop because the connection is gone; "cause" (Info).
	LogKeepAliveStopped = "keep-alive stopped"
	// LogReconnecting: the next attempt is scheduled; "delay", "cause" (Warn).
	LogReconnecting = "reconnecting"
	// LogConnectFailed: a connect attempt failed; "error" (Warn).
	LogConnectFailed = "connect failed"
	// LogSessionStopped: the session ended for good; "reason" (Info).
	LogSessionStopped = "session stopped"
	// LogAlert: an operator alert; "alert", "value" (Warn).
	LogAlert = "alert"
)

var bg = context.Background()

func heartbeatStrategy(kind ActionKind) string {
	if kind == ActionSendPing {
		return string(StrategyPing)
	}
	return string(StrategyPresence)
}

func (e *Engine) logConnected(ent *entry) {
	if !e.log.Enabled(bg, slog.LevelInfo) {
		return
	}
	e.log.LogAttrs(bg, slog.LevelInfo, LogConnected, slog.String("session", ent.id))
	e.log.LogAttrs(bg, slog.LevelInfo, LogKeepAliveStarted,
		slog.String("session", ent.id),
		slog.String("strategy", string(ent.sess.Policy().Config().Strategy)),
		slog.Duration("interval", ent.sess.Health().Interval))
}

func (e *Engine) logSent(ent *entry, a *Action) {
	if !e.log.Enabled(bg, slog.LevelDebug) {
		return
	}
	e.log.LogAttrs(bg, slog.LevelDebug, LogHeartbeatSent,
		slog.String("session", ent.id),
		slog.String("strategy", heartbeatStrategy(a.Kind)),
		slog.Uint64("seq", a.Seq),
		slog.Duration("interval", a.Interval))
}

func (e *Engine) logFailed(ent *entry, kind ActionKind, seq uint64, err error) {
	e.log.LogAttrs(bg, slog.LevelWarn, LogHeartbeatFailed,
		slog.String("session", ent.id),
		slog.String("strategy", heartbeatStrategy(kind)),
		slog.Uint64("seq", seq),
		slog.Any("error", err))
}

func (e *Engine) logKeepAliveStopped(ent *entry) {
	e.log.LogAttrs(bg, slog.LevelInfo, LogKeepAliveStopped,
		slog.String("session", ent.id),
		slog.String("cause", ent.cause.String()))
}

func (e *Engine) logReconnecting(ent *entry, delay time.Duration) {
	e.log.LogAttrs(bg, slog.LevelWarn, LogReconnecting,
		slog.String("session", ent.id),
		slog.Duration("delay", delay),
		slog.String("cause", ent.cause.String()))
}

func (e *Engine) logConnectFailed(ent *entry, err error) {
	e.log.LogAttrs(bg, slog.LevelWarn, LogConnectFailed,
		slog.String("session", ent.id),
		slog.Any("error", err))
}

func (e *Engine) logStopped(ent *entry, why EventKind) {
	e.log.LogAttrs(bg, slog.LevelInfo, LogSessionStopped,
		slog.String("session", ent.id),
		slog.String("reason", why.String()))
}

func (e *Engine) logAlert(ent *entry, a *Action) {
	e.log.LogAttrs(bg, slog.LevelWarn, LogAlert,
		slog.String("session", ent.id),
		slog.String("alert", a.Alert.String()),
		slog.Duration("value", a.Value))
}
