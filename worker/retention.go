package worker

import (
	"context"
	"log/slog"
	"time"

	"github.com/liveagent-bridge/liveagent/attachstore"
)

// attachmentSweepEvery is how often a worker removes the stored files past
// attachments.retention. Every worker sharing the store sweeps it; removing
// twice is harmless.
const attachmentSweepEvery = time.Hour

// sweepAttachments removes the files of store last put more than retention
// ago, at once and then every interval, until ctx ends. A retention of 0
// keeps files forever.
func sweepAttachments(ctx context.Context, store *attachstore.Store, retention, every time.Duration, logger *slog.Logger) {
	if retention <= 0 {
		return
	}
	for {
		removed, err := store.RemoveOlderThan(time.Now().Add(-retention))
		if err != nil {
			logger.Warn("attachment retention: some files were not removed", "error", err)
		}
		if removed > 0 {
			logger.Info("attachment retention: removed old files", "count", removed, "retention", retention)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}
