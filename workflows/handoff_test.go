package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func historyFile() *workflows.UserAttachment {
	return &workflows.UserAttachment{Name: "assistant-conversation.txt", MimeType: "text/plain", Size: 120, SHA256: sha}
}

// The agent gets the assistant's summary with the description in the first
// message, and the conversation so far as one file right after it.
func TestHandoffCarriesSummaryAndHistory(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.MaxMessageBytes = 200
	in.Request.Summary = "User cannot log in since the password reset."
	in.Request.History = historyFile()
	h.updateAt(time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	sent := h.sf.Sent()
	require.NotEmpty(t, sent)
	require.Equal(t, "My invoice is wrong.\n\nSummary from the assistant:\nUser cannot log in since the password reset.", sent[0].Text)
	atts := h.sf.Attachments()
	require.Len(t, atts, 1)
	require.Equal(t, "assistant-conversation.txt", atts[0].Attachment.Name)
	require.Equal(t, sha, atts[0].Attachment.SHA256)
	require.Equal(t, workflows.MIAWMessageID(h.conversationID(), "history"), atts[0].MessageID)
	view := h.finalView()
	require.Equal(t, workflows.FromSystem, view.Transcript[1].From)
	require.NotNil(t, view.Transcript[1].Attachment)
}

// A history file Salesforce refuses does not stop the session.
func TestHandoffHistoryFailureKeepsSession(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.History = historyFile()
	h.sf.SendAttachmentErr = func(workflows.SendAttachmentInput) error {
		return temporal.NewNonRetryableApplicationError("413 too large", workflows.ErrTypeSalesforcePermanent, nil)
	}
	acceptEvents(h, time.Second, "Ann")
	active := h.queryAt(time.Minute)
	h.updateAt(2*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)
	require.Equal(t, workflows.StateActive, active.State)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Contains(t, h.logs.String(), "could not be attached")
}

func TestHandoffValidation(t *testing.T) {
	cases := map[string]func(*workflows.SessionRequest){
		"Description and Summary are": func(r *workflows.SessionRequest) { r.Summary = strings.Repeat("s", 100) },
		"History.SHA256":              func(r *workflows.SessionRequest) { r.History = historyFile(); r.History.SHA256 = "x" },
		"History.Size":                func(r *workflows.SessionRequest) { r.History = historyFile(); r.History.Size = 0 },
		"HistoryImport needs History": func(r *workflows.SessionRequest) { r.HistoryImport = importFile() },
		"HistoryImport.MimeType": func(r *workflows.SessionRequest) {
			r.History, r.HistoryImport = historyFile(), importFile()
			r.HistoryImport.MimeType = ""
		},
	}
	for want, mutate := range cases {
		h := newHarness(t)
		in := testInput()
		mutate(&in.Request)
		h.run(in)
		require.ErrorContains(t, h.env.GetWorkflowError(), want)
		require.Empty(t, h.sf.Created())
	}
}

// A file kept while waiting and refused by Salesforce later is explained to
// the user by name (nobody waits for its update any more).
func TestKeptFileRefusedBySalesforceIsExplained(t *testing.T) {
	h := newHarness(t)
	h.sf.SendAttachmentErr = func(in workflows.SendAttachmentInput) error {
		return temporal.NewNonRetryableApplicationError("413: file too large", workflows.ErrTypeAttachmentTooLarge, nil)
	}
	kept := h.updateAt(time.Second, workflows.UpdateSendAttachment, workflows.UserAttachment{
		ID: "f1", Name: "scan.pdf", MimeType: "application/pdf", Size: 10, SHA256: sha})
	acceptEvents(h, time.Minute, "Ann")
	h.updateAt(5*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())
	kept.requireResult(t, workflows.UpdateQueued)
	require.Contains(t, h.sf.DeliveredTexts(workflows.DeliverSystem),
		`Sorry, your file "scan.pdf" is too large for the agent's chat; it was not delivered.`)
}
