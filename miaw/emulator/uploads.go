package emulator

import (
	"fmt"
	"strings"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// FailUpload reports, after the fact, that the end user's file sent with
// messageID failed to upload: Salesforce's asynchronous upload result
// (miaw-api.md §1.8). It emits a MessageUpdated entry (on the
// CONVERSATION_MESSAGE event, with the end user as sender) whose
// abstractMessage is the file's message again, its attachment carrying
// attachmentUploadResult {"type":"Error","errorType":errorType}, marks the
// transcript's file with the error and returns the entry id. errorType
// defaults to InternalServerError. The conversation must still be open and
// have such a file (ErrNotFound otherwise).
func (s *Server) FailUpload(conversationID, messageID, errorType string) (string, error) {
	if messageID == "" {
		return "", badRequest("fail upload: messageId is required")
	}
	if errorType == "" {
		errorType = miaw.UploadErrInternalServerError
	}
	var id string
	err := s.withConv(conversationID, func(c *conversation) error {
		if err := requireState(c, "fail upload", StateWaiting, StateActive); err != nil {
			return err
		}
		var te *TranscriptEntry
		for i := range c.transcript {
			e := &c.transcript[i]
			if e.Role == miaw.RoleEndUser && e.Attachment != nil && strings.EqualFold(e.MessageID, messageID) {
				te = e
			}
		}
		if te == nil {
			return fmt.Errorf("%w: no end-user file sent as message %s in %s", ErrNotFound, messageID, conversationID)
		}
		f := te.Attachment
		f.UploadError = errorType
		am := map[string]any{"messageType": "StaticContentMessage", "id": te.MessageID, "inReplyToMessageId": nil, "references": []any{},
			"staticContent": map[string]any{"formatType": miaw.FormatAttachments, "text": nullable(te.Text),
				"attachments": []map[string]any{{"id": f.ID, "name": f.Name, "mimeType": f.MimeType, "url": f.URL, "referenceId": f.ID,
					"attachmentUploadResult": map[string]any{"type": miaw.UploadError, "errorType": errorType}}}}}
		sender, name := endUserParticipant(c)
		id = s.emitLocked(c, entrySpec{event: miaw.EventMessage, entryType: miaw.EntryMessageUpdated, sender: sender, displayName: name,
			payload: map[string]any{"abstractMessage": am}, related: []string{te.EntryID}})
		return nil
	})
	return id, err
}
