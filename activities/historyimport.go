package activities

import (
	"context"
	"errors"
	"fmt"
	"io"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// HistoryImporter is the part of *miaw.HistoryClient ImportHistory uses
// (Salesforce's Conversation History API). Tests provide a fake.
type HistoryImporter interface {
	Upload(ctx context.Context, u miaw.HistoryUpload, sent int, progress func(sent int)) (string, error)
}

// maxImportFileBytes bounds the import file read from the store: the
// starter refuses a history whose transcript is over 256 KiB, and the JSON
// of the same turns is at most a few times that.
const maxImportFileBytes = 4 << 20

// ImportHistory loads the assistant's conversation before the handoff into
// the agent's console (ActivityImportHistory). It heartbeats the number of
// entries Salesforce has taken, and a retried attempt resumes after them.
// Without a configured HistoryImporter, or when Salesforce refuses the
// import (403 for a deployment not allowed to use the API, 4xx for a
// payload it does not take), it fails non-retryably and the session attaches
// the transcript file instead.
func (a *Activities) ImportHistory(ctx context.Context, in workflows.ImportHistoryInput) error {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return err
	}
	if a.History == nil {
		return invalidInput("import history: salesforce.conversation_history is not configured on this worker")
	}
	if a.Store == nil {
		return invalidInput("import history: no attachment store configured")
	}
	data, err := a.readStored(in.Turns.SHA256)
	if err != nil {
		return err
	}
	turns, err := workflows.DecodeHandoffTurns(data)
	if err != nil {
		return invalidInput("import history: %v", err)
	}
	entries := make([]miaw.HistoryEntry, len(turns))
	for i, t := range turns {
		entries[i] = miaw.HistoryEntry{FromUser: t.FromUser, Text: t.Text, At: t.At}
	}
	sent := 0
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &sent) // a bad detail restarts from 0: entries have stable ids
	}
	_, err = a.History.Upload(ctx, miaw.HistoryUpload{
		ConversationID: in.ConversationID,
		UserSubject:    in.UserID,
		HandoffAt:      in.HandoffAt,
		Entries:        entries,
	}, sent, func(n int) { activity.RecordHeartbeat(ctx, n) })
	return salesforceError(ctx, "import history", err)
}

// readStored reads a stored file of at most maxImportFileBytes.
func (a *Activities) readStored(sha256 string) ([]byte, error) {
	rc, _, err := a.Store.Open(sha256)
	switch {
	case errors.Is(err, attachstore.ErrNotFound), errors.Is(err, attachstore.ErrInvalidKey):
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("import history: %v", err), ErrTypeAttachmentNotFound, nil)
	case err != nil:
		return nil, retryableError(fmt.Sprintf("import history: %v", err), ErrTypeStorage, 0)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxImportFileBytes+1))
	if err != nil {
		return nil, retryableError(fmt.Sprintf("import history: read %s: %v", sha256, err), ErrTypeStorage, 0)
	}
	if len(data) > maxImportFileBytes {
		return nil, invalidInput("import history: the import file is over %d bytes", maxImportFileBytes)
	}
	return data, nil
}
