package workflows

import (
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Salesforce's upload error types (miaw-api.md §1.8) that have a more
// specific notice than fileUploadFailedFormat.
const (
	uploadErrTooLarge   = "AttachmentTooLarge"
	uploadErrNotAllowed = "AttachmentUploadNotAllowed"
)

// onUploadFailed tells the user about each file Salesforce accepted at first
// and reports as failed later (AgentUploadFailed): a system notice naming the
// file, once per file. The name is the one the user sent the file with when
// the transcript still has it (Salesforce's echo of it otherwise).
func (s *session) onUploadFailed(ctx workflow.Context, ev AgentEvent) {
	if workflow.GetVersion(ctx, changeLateUploadFailure, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		s.logger.Warn("Late upload failure not told (legacy run)", "entryID", ev.EntryID)
		return
	}
	for _, f := range ev.FailedUploads {
		name := s.userFileName(f.MessageID, f.FileName)
		s.logger.Warn("Salesforce reports a user file failed", "messageID", f.MessageID, "file", name, "errorType", f.ErrorType)
		s.notify(ctx, "upload-failed/"+strings.ToLower(f.MessageID)+"/"+name, uploadFailedNotice(s.req.Settings, f.ErrorType, name))
	}
}

// userFileName is the name of the user's file sent as MIAW message id
// messageID (miawMessageID; Salesforce may echo it in another case), else
// fallback.
func (s *session) userFileName(messageID, fallback string) string {
	for i := len(s.transcript) - 1; i >= 0; i-- {
		e := s.transcript[i]
		if e.From == FromUser && e.Attachment != nil && strings.EqualFold(miawMessageID(s.conversationID, e.ID), messageID) {
			return e.Attachment.Name
		}
	}
	return fallback
}

// uploadFailedNotice is the user's text for a late upload failure of file
// name: the too-large and type-refused texts where Salesforce's reason is
// one of those, the general one otherwise.
func uploadFailedNotice(st Settings, errorType, name string) string {
	switch errorType {
	case uploadErrTooLarge:
		return fileText(st.FileTooLargeMessage, fileTooLargeFormat, name)
	case uploadErrNotAllowed:
		return fileText(st.FileTypeRefusedMessage, fileTypeRefusedFormat, name)
	}
	return fileText(st.FileUploadFailedMessage, fileUploadFailedFormat, name)
}
