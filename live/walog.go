package live

import (
	"context"
	"fmt"
	"log/slog"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// waLogger routes whatsmeow's logs (waLog.Logger) into slog, where the redacting
// handler sees them like kalab's own lines. Each line carries "component"
// (whatsmeow) and "module" (whatsmeow's sub-logger path, e.g. "Client/Recv").
// Formatting is skipped when the level is off: whatsmeow logs every received
// node at debug level.
type waLogger struct {
	l      *slog.Logger
	module string
}

// newWALogger returns a waLog.Logger writing to l.
func newWALogger(l *slog.Logger, module string) waLog.Logger {
	return &waLogger{l: l, module: module}
}

func (w *waLogger) log(level slog.Level, msg string, args []any) {
	ctx := context.Background()
	if !w.l.Enabled(ctx, level) {
		return
	}
	w.l.LogAttrs(ctx, level, fmt.Sprintf(msg, args...),
		slog.String("component", "whatsmeow"), slog.String("module", w.module))
}

func (w *waLogger) Errorf(msg string, args ...any) { w.log(slog.LevelError, msg, args) }
func (w *waLogger) Warnf(msg string, args ...any)  { w.log(slog.LevelWarn, msg, args) }
func (w *waLogger) Infof(msg string, args ...any)  { w.log(slog.LevelInfo, msg, args) }
func (w *waLogger) Debugf(msg string, args ...any) { w.log(slog.LevelDebug, msg, args) }

func (w *waLogger) Sub(module string) waLog.Logger {
	if w.module != "" {
		module = w.module + "/" + module
	}
	return &waLogger{l: w.l, module: module}
}
