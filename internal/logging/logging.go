// Package logging builds the process logger of every binary from config.Log.
package logging

import (
	"io"
	"log/slog"
	"strings"

	"github.com/liveagent-bridge/liveagent/config"
)

// NewLogger builds the process logger from cfg.Log: text or JSON to w, at
// the configured level. Unknown values fall back to info/text (Validate
// rejects them earlier).
func NewLogger(cfg config.Log, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: parseLevel(cfg.Level)}
	if strings.EqualFold(cfg.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) slog.Level {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
