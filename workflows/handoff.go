package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/workflow"
)

// What the agent receives from the assistant at the handoff: the
// description with the assistant's summary in the first message, and the
// conversation so far as one file (never replayed message by message:
// Salesforce accepts about 22 inbound messages per conversation per minute).

// historyMessageID is the assistant-side id of the history file.
const historyMessageID = "history"

// summaryHeading introduces the assistant's summary in the first message.
const summaryHeading = "Summary from the assistant:"

// FirstMessage is the text of a session's first message: the description,
// then the assistant's summary if there is one. It must fit in
// Settings.MaxMessageBytes.
func FirstMessage(r SessionRequest) string {
	if r.Summary == "" {
		return r.Description
	}
	return r.Description + "\n\n" + summaryHeading + "\n" + r.Summary
}

// validateHandoff checks the summary (with the description it must fit in
// one message) and the history file references.
func validateHandoff(r SessionRequest) error {
	if n := len(FirstMessage(r)); r.Summary != "" && n > r.Settings.MaxMessageBytes {
		return fmt.Errorf("Description and Summary are %d bytes together, the limit is %d", n, r.Settings.MaxMessageBytes)
	}
	if r.HistoryImport != nil && r.History == nil {
		return errors.New("HistoryImport needs History, the file attached when the import fails")
	}
	if err := validateStoredFile("History", r.History); err != nil {
		return err
	}
	return validateStoredFile("HistoryImport", r.HistoryImport)
}

// validateStoredFile checks a reference to a file in the attachment store
// (nil is valid: no file).
func validateStoredFile(field string, f *UserAttachment) error {
	switch {
	case f == nil:
		return nil
	case f.Size <= 0:
		return fmt.Errorf("%s.Size must be positive, got %d", field, f.Size)
	case !isSHA256Hex(f.SHA256):
		return fmt.Errorf("%s.SHA256 must be 64 lowercase hex digits", field)
	case f.Name == "" || len(f.Name) > maxNameLength:
		return fmt.Errorf("%s.Name must be 1 to %d bytes", field, maxNameLength)
	case f.MimeType == "":
		return fmt.Errorf("%s.MimeType is empty", field)
	}
	return nil
}

// attachHistory sends the history file to the conversation. The chat does
// not depend on it: a failure is logged and noted in the transcript.
func (s *session) attachHistory(ctx workflow.Context) {
	h := *s.req.History
	h.ID = historyMessageID
	entry := TranscriptEntry{ID: historyMessageID, At: workflow.Now(ctx), From: FromSystem,
		Text:       "The conversation with the assistant, attached for the agent",
		Attachment: &AttachmentRef{Name: h.Name, MimeType: h.MimeType, Size: h.Size, SHA256: h.SHA256}}
	if _, err := s.sendAttachment(ctx, h); err != nil {
		s.logger.Warn("The assistant conversation could not be attached", "error", err)
		entry.Text = "The conversation with the assistant could not be attached"
	}
	s.addTranscript(entry)
}
