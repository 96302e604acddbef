package activities

import (
	"errors"
	"reflect"
	"testing"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func updatedFile(messageID string, results ...*miaw.AttachmentUploadResult) *miaw.MessageUpdatedPayload {
	var atts []miaw.Attachment
	for i, r := range results {
		atts = append(atts, miaw.Attachment{ID: "f", Name: []string{"scan.pdf", "ok.png"}[i], UploadResult: r})
	}
	return &miaw.MessageUpdatedPayload{EntryType: miaw.EntryMessageUpdated, ID: "upd", AbstractMessage: miaw.AbstractMessage{
		MessageType: "StaticContentMessage", ID: messageID,
		StaticContent: &miaw.StaticContent{FormatType: miaw.FormatAttachments, Attachments: atts}}}
}

// A MessageUpdated reporting a failed upload of the user's own file is kept
// (the end user is its sender: it is no echo) and names the file, its
// message and Salesforce's reason; other updates are skipped; one that does
// not say which message it updates is malformed.
func TestTranslateMessageUpdated(t *testing.T) {
	failed := &miaw.AttachmentUploadResult{Status: miaw.UploadError, ErrorType: miaw.UploadErrStorageLimitExceeded}
	ev := mkEvent("1", miaw.EventMessage, miaw.EntryMessageUpdated, miaw.RoleEndUser, "Guest",
		updatedFile("msg-1", failed, &miaw.AttachmentUploadResult{Status: miaw.UploadCompleted}))
	ae, keep, reason, err := TranslateEvent(ev)
	if err != nil || !keep {
		t.Fatalf("keep=%v reason=%q err=%v, want kept", keep, reason, err)
	}
	if ae.Kind != workflows.AgentUploadFailed || ae.EntryID != "entry-1" {
		t.Errorf("kind %q entry %q", ae.Kind, ae.EntryID)
	}
	want := []workflows.FailedUpload{{MessageID: "msg-1", FileName: "scan.pdf", ErrorType: miaw.UploadErrStorageLimitExceeded}}
	if !reflect.DeepEqual(ae.FailedUploads, want) {
		t.Errorf("failed uploads %+v, want %+v", ae.FailedUploads, want)
	}
	// An error without a type is still a failure, of unknown reason.
	ae, keep, _, _ = TranslateEvent(mkEvent("1b", miaw.EventMessageUpdated, "", miaw.RoleSystem, "",
		updatedFile("msg-2", &miaw.AttachmentUploadResult{Status: "error"})))
	if !keep || len(ae.FailedUploads) != 1 || ae.FailedUploads[0].ErrorType != "Unknown" {
		t.Errorf("untyped error: keep=%v %+v", keep, ae.FailedUploads)
	}

	_, keep, reason, err = TranslateEvent(mkEvent("2", miaw.EventMessage, miaw.EntryMessageUpdated, miaw.RoleEndUser, "Guest",
		updatedFile("msg-1", &miaw.AttachmentUploadResult{Status: miaw.UploadCompleted})))
	if err != nil || keep || reason == "" {
		t.Errorf("completed upload: keep=%v reason=%q err=%v, want skipped", keep, reason, err)
	}
	_, keep, _, err = TranslateEvent(mkEvent("3", miaw.EventMessage, miaw.EntryMessageUpdated, miaw.RoleEndUser, "Guest", updatedFile("", failed)))
	if !errors.Is(err, ErrMalformedEvent) || keep {
		t.Errorf("no message id: keep=%v err=%v, want ErrMalformedEvent", keep, err)
	}
}
