package secmedia

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory hands pion's loggers to a *slog.Logger, so DTLS speaks in
// natsbc's log with the leg's attributes. pion's Trace goes to a level
// below Debug: it logs every record.
type slogFactory struct{ log *slog.Logger }

const levelTrace = slog.LevelDebug - 4

func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return slogLogger{f.log.With("scope", scope)}
}

type slogLogger struct{ log *slog.Logger }

func (l slogLogger) logf(level slog.Level, format string, args ...any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, fmt.Sprintf(format, args...))
	}
}

func (l slogLogger) Trace(msg string)             { l.log.Log(context.Background(), levelTrace, msg) }
func (l slogLogger) Tracef(f string, args ...any) { l.logf(levelTrace, f, args...) }
func (l slogLogger) Debug(msg string)             { l.log.Debug(msg) }
func (l slogLogger) Debugf(f string, args ...any) { l.logf(slog.LevelDebug, f, args...) }
func (l slogLogger) Info(msg string)              { l.log.Info(msg) }
func (l slogLogger) Infof(f string, args ...any)  { l.logf(slog.LevelInfo, f, args...) }
func (l slogLogger) Warn(msg string)              { l.log.Warn(msg) }
func (l slogLogger) Warnf(f string, args ...any)  { l.logf(slog.LevelWarn, f, args...) }
func (l slogLogger) Error(msg string)             { l.log.Error(msg) }
func (l slogLogger) Errorf(f string, args ...any) { l.logf(slog.LevelError, f, args...) }
