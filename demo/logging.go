package main

import (
	"context"
	"log/slog"
)

// quietSDK drops the Temporal SDK's log records unless verbose: the SDK logs
// expected events at warn/error level (a listener activity "failing" with
// context canceled when its session ends, pollers cut off at shutdown) that
// would interleave with the conversation. Failures still surface as the
// demo's own errors.
type quietSDK struct {
	slog.Handler
	drop bool
}

func (h quietSDK) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.drop && h.Handler.Enabled(ctx, l)
}

func (h quietSDK) Handle(ctx context.Context, r slog.Record) error {
	if h.drop {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietSDK) WithAttrs(attrs []slog.Attr) slog.Handler {
	drop := h.drop
	for _, a := range attrs {
		if a.Key == "component" && a.Value.String() == "temporal-sdk" {
			drop = true
		}
	}
	return quietSDK{Handler: h.Handler.WithAttrs(attrs), drop: drop}
}

func (h quietSDK) WithGroup(name string) slog.Handler {
	return quietSDK{Handler: h.Handler.WithGroup(name), drop: h.drop}
}
