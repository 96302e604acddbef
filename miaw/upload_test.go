package miaw

import "testing"

// A MessageUpdated entry decodes to the updated message; its attachments
// whose upload failed are reported, whichever accepted shape the result has.
func TestDecodeMessageUpdatedUploadResults(t *testing.T) {
	payload := `{"entryType":"MessageUpdated","id":"upd-1","abstractMessage":{"messageType":"StaticContentMessage","id":"msg-1",
		"staticContent":{"formatType":"Attachments","attachments":[
		{"id":"f1","name":"scan.pdf","mimeType":"application/pdf","url":"","attachmentUploadResult":{"type":"Error","errorType":"AttachmentTooLarge"}},
		{"id":"f2","name":"ok.png","mimeType":"image/png","url":"","attachmentUploadResult":"Completed"},
		{"id":"f3","name":"later.txt","mimeType":"text/plain","url":"","attachmentUploadResult":{"status":"Pending","referenceId":"r3"}},
		{"id":"f4","name":"logs.txt","mimeType":"text/plain","url":"","attachmentUploadResult":{"result":"Error","errorType":"InternalServerError"}},
		{"id":"f5","name":"plain.txt","mimeType":"text/plain","url":"","attachmentUploadResult":null}]}}}`
	for _, name := range []string{EventMessage, EventMessageUpdated} {
		ev, err := DecodeEvent(name, "1", sseData(testConvID, EntryMessageUpdated, "e", agent, payload))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, ok := ev.Payload.(*MessageUpdatedPayload)
		if !ok {
			t.Fatalf("%s: payload %T, want *MessageUpdatedPayload", name, ev.Payload)
		}
		if p.AbstractMessage.ID != "msg-1" {
			t.Errorf("%s: updated message id %q", name, p.AbstractMessage.ID)
		}
		failed := p.FailedUploads()
		if len(failed) != 2 || failed[0].Name != "scan.pdf" || failed[0].UploadResult.ErrorType != UploadErrAttachmentTooLarge ||
			failed[1].Name != "logs.txt" || failed[1].UploadResult.ErrorType != UploadErrInternalServerError {
			t.Errorf("%s: failed uploads %+v", name, failed)
		}
	}
	var none *MessageUpdatedPayload
	if none.FailedUploads() != nil {
		t.Error("nil payload has failed uploads")
	}
}
