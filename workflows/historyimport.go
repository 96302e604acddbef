package workflows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Loading the assistant's conversation natively into the agent's console
// with Salesforce's Conversation History API, where the org allows it
// (salesforce.conversation_history). The API is unverified for custom
// clients (Salesforce documents it for Bring Your Own Channel partners too),
// so it never is the only way the agent gets the context: when the import
// fails for any reason, the session attaches the transcript file instead
// (handoff.go), as sessions without the API always do.

// ActivityImportHistory loads the assistant's conversation into the agent's
// console. It is persisted in history: never rename it.
const ActivityImportHistory = "ImportHistory"

// HandoffTurn is one turn of the assistant's conversation in the import file
// (SessionRequest.HistoryImport), a JSON array of turns, oldest first.
type HandoffTurn struct {
	FromUser bool      `json:"fromUser"` // the user said it; else the assistant
	Text     string    `json:"text"`
	At       time.Time `json:"at,omitzero"` // zero when the assistant gave no time
}

// EncodeHandoffTurns is the import file's content for turns.
func EncodeHandoffTurns(turns []HandoffTurn) ([]byte, error) {
	if len(turns) == 0 {
		return nil, errors.New("no turns")
	}
	return json.Marshal(turns)
}

// DecodeHandoffTurns reads an import file; unknown fields are refused, so a
// file of another format is an error rather than an empty history.
func DecodeHandoffTurns(data []byte) ([]HandoffTurn, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var turns []HandoffTurn
	if err := dec.Decode(&turns); err != nil {
		return nil, fmt.Errorf("handoff turns: %w", err)
	}
	if len(turns) == 0 {
		return nil, errors.New("handoff turns: none")
	}
	return turns, nil
}

// ImportHistoryInput is the argument of ActivityImportHistory.
type ImportHistoryInput struct {
	UserID         string
	ConversationID string
	// Turns is the import file (a JSON array of HandoffTurn) in the
	// attachment store.
	Turns UserAttachment
	// HandoffAt is when the assistant handed the user over: the end of its
	// part of the conversation.
	HandoffAt time.Time
}

// MetricHistoryImports counts sessions that tried the Conversation History
// API, tagged with MetricTagResult: historyImported, or historyFellBack when
// the transcript file was attached instead.
const (
	MetricHistoryImports = "liveagent_history_imports"
	MetricTagResult      = "result"
	historyImported      = "imported"
	historyFellBack      = "attached_file"
)

// importedNotice is the transcript's line for an imported conversation.
const importedNotice = "The conversation with the assistant, loaded into the agent's console"

func countHistoryImport(ctx workflow.Context, result string) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{MetricTagResult: result}).
		Counter(MetricHistoryImports).Inc(1)
}

// importHistory loads the assistant's conversation into the agent's console
// and reports whether it did; on false the caller attaches the transcript
// file. Asked (GetVersion) only by sessions that carry an import file, so
// histories recorded before it carry no marker.
func (s *session) importHistory(ctx workflow.Context) bool {
	if s.req.HistoryImport == nil ||
		workflow.GetVersion(ctx, changeHistoryImport, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	err := workflow.ExecuteActivity(importHistoryOptions(ctx), ActivityImportHistory, ImportHistoryInput{
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		Turns:          *s.req.HistoryImport,
		HandoffAt:      workflow.Now(ctx),
	}).Get(ctx, nil)
	if err != nil {
		s.logger.Warn("The conversation history API did not take the assistant's conversation; attaching it as a file", "error", err)
		countHistoryImport(ctx, historyFellBack)
		return false
	}
	countHistoryImport(ctx, historyImported)
	s.addTranscript(TranscriptEntry{ID: historyMessageID, At: workflow.Now(ctx), From: FromSystem, Text: importedNotice})
	return true
}

// importHistoryOptions bounds the import to one minute in all: the session
// waits for it before it waits for an agent, and the file is a good
// fallback. The activity heartbeats the entries sent, so a retry resumes.
func importHistoryOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              TaskQueue,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		HeartbeatTimeout:       15 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
		},
		Summary: "import assistant conversation",
	})
}
