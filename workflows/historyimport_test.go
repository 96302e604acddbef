package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func importFile() *workflows.UserAttachment {
	return &workflows.UserAttachment{Name: "conversation-with-assistant.json", MimeType: "application/json", Size: 80, SHA256: sha}
}

// Where the deployment allows it, the assistant's conversation is loaded
// into the agent's console and no file is attached.
func TestHistoryImportReplacesTheFile(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.History, in.Request.HistoryImport = historyFile(), importFile()
	h.updateAt(time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	imports := h.sf.Imports()
	require.Len(t, imports, 1)
	require.Equal(t, h.conversationID(), imports[0].ConversationID)
	require.Equal(t, in.Request.UserID, imports[0].UserID)
	require.Equal(t, *importFile(), imports[0].Turns)
	require.False(t, imports[0].HandoffAt.IsZero())
	require.Empty(t, h.sf.Attachments(), "the file is only the fallback")
	view := h.finalView()
	require.Equal(t, workflows.FromSystem, view.Transcript[1].From)
	require.Contains(t, view.Transcript[1].Text, "loaded into the agent's console")
	require.Nil(t, view.Transcript[1].Attachment)
}

// An import Salesforce refuses (403 10057 for a deployment that may not use
// the API) falls back to the file; the session goes on.
func TestHistoryImportFailureAttachesTheFile(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.History, in.Request.HistoryImport = historyFile(), importFile()
	h.sf.ImportErr = temporal.NewNonRetryableApplicationError("import history: 403 10057", workflows.ErrTypeSalesforcePermanent, nil)
	acceptEvents(h, time.Second, "Ann")
	active := h.queryAt(time.Minute)
	h.updateAt(2*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	require.Equal(t, workflows.StateActive, active.State)
	atts := h.sf.Attachments()
	require.Len(t, atts, 1)
	require.Equal(t, "assistant-conversation.txt", atts[0].Attachment.Name)
	require.Contains(t, h.logs.String(), "attaching it as a file")
	view := h.finalView()
	require.NotNil(t, view.Transcript[1].Attachment)
}

func TestHandoffTurnsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	turns := []workflows.HandoffTurn{{FromUser: true, Text: "hi", At: at}, {Text: "hello"}}
	data, err := workflows.EncodeHandoffTurns(turns)
	require.NoError(t, err)
	got, err := workflows.DecodeHandoffTurns(data)
	require.NoError(t, err)
	require.Equal(t, turns, got)
	_, err = workflows.EncodeHandoffTurns(nil)
	require.Error(t, err)
	for _, bad := range []string{`[]`, `{"fromUser":true}`, `[{"from":"user","text":"x"}]`, `not json`} {
		_, err := workflows.DecodeHandoffTurns([]byte(bad))
		require.Error(t, err, bad)
	}
}
