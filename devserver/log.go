package devserver

import (
	"context"
	"log/slog"

	serverlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogAdapter forwards Temporal server log lines at or above minLevel to a
// slog.Logger. The server is chatty at info level (membership, shard and
// namespace-cache messages), so the dev server keeps only warnings and errors
// by default.
type slogAdapter struct {
	log      *slog.Logger
	minLevel slog.Leveler
	tags     []tag.Tag
}

var _ serverlog.Logger = (*slogAdapter)(nil)
var _ serverlog.WithLogger = (*slogAdapter)(nil)

func (l *slogAdapter) write(level slog.Level, msg string, tags []tag.Tag) {
	if level < l.minLevel.Level() {
		return
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(l.tags)+len(tags)+1)
	attrs = append(attrs, slog.String("component", "temporal-server"))
	for _, t := range l.tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

func (l *slogAdapter) Debug(msg string, tags ...tag.Tag)  { l.write(slog.LevelDebug, msg, tags) }
func (l *slogAdapter) Info(msg string, tags ...tag.Tag)   { l.write(slog.LevelInfo, msg, tags) }
func (l *slogAdapter) Warn(msg string, tags ...tag.Tag)   { l.write(slog.LevelWarn, msg, tags) }
func (l *slogAdapter) Error(msg string, tags ...tag.Tag)  { l.write(slog.LevelError, msg, tags) }
func (l *slogAdapter) DPanic(msg string, tags ...tag.Tag) { l.write(slog.LevelError, msg, tags) }
func (l *slogAdapter) Panic(msg string, tags ...tag.Tag) {
	l.write(slog.LevelError, msg, tags)
	panic(msg)
}
func (l *slogAdapter) Fatal(msg string, tags ...tag.Tag) {
	l.write(slog.LevelError, msg, tags)
	panic(msg)
}

func (l *slogAdapter) With(tags ...tag.Tag) serverlog.Logger {
	merged := make([]tag.Tag, 0, len(l.tags)+len(tags))
	merged = append(merged, l.tags...)
	merged = append(merged, tags...)
	return &slogAdapter{log: l.log, minLevel: l.minLevel, tags: merged}
}

// NewServerLogger is a Temporal server logger that forwards lines at or above
// minLevel to log, for servers started outside Start (the cluster nodes).
func NewServerLogger(log *slog.Logger, minLevel slog.Leveler) serverlog.Logger {
	return &slogAdapter{log: log, minLevel: minLevel}
}
