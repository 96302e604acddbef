package emulator

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/liveagent-bridge/liveagent/miaw"
)

// A late upload failure of the end user's file, asked through the control
// API, streams a MessageUpdated whose attachment carries the error, and
// marks the transcript's file; an unknown message is 404.
func TestFailUploadStreamsMessageUpdated(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.guestToken()
	st := e.openStream(tok, "", "")
	conv := e.createConversation(tok, nil)
	st.expect(miaw.EventRoutingResult, miaw.EventSessionStatusChanged, miaw.EventQueuePosition)
	if err := e.s.Accept(conv, "Ann"); err != nil {
		t.Fatal(err)
	}
	st.expect(miaw.EventRoutingWorkResult, miaw.EventParticipantChanged, miaw.EventSessionStatusChanged)
	msgID := uuid.NewString()
	if r := e.sendFile(tok, conv, fileEntry(msgID, uuid.NewString(), ""), "scan.pdf", "application/pdf", []byte("%PDF scan")); r.status != 202 {
		t.Fatalf("file: %d %s", r.status, r.body)
	}
	st.expect(miaw.EventMessage)

	if r := e.call("POST", "/emulator/v1/conversations/"+conv+"/upload-failures", "", "", map[string]string{"messageId": "nope"}); r.status != 404 {
		t.Fatalf("unknown message: %d %s", r.status, r.body)
	}
	r := e.call("POST", "/emulator/v1/conversations/"+conv+"/upload-failures", "", "", map[string]string{"messageId": msgID, "errorType": "AttachmentTooLarge"})
	if r.status != 200 {
		t.Fatalf("upload failure: %d %s", r.status, r.body)
	}
	ev := st.next() // acknowledgements of the file may come first
	for ev.Name != miaw.EventMessage {
		ev = st.next()
	}
	decoded, err := miaw.DecodeEvent(ev.Name, ev.ID, []byte(ev.Data))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := decoded.Payload.(*miaw.MessageUpdatedPayload)
	if !ok || decoded.Entry.EntryType != miaw.EntryMessageUpdated {
		t.Fatalf("payload %T entry type %q", decoded.Payload, decoded.Entry.EntryType)
	}
	failed := p.FailedUploads()
	if p.AbstractMessage.ID != msgID || len(failed) != 1 || failed[0].Name != "scan.pdf" || failed[0].UploadResult.ErrorType != "AttachmentTooLarge" {
		t.Fatalf("updated message %s, failed %+v", p.AbstractMessage.ID, failed)
	}
	var marked bool
	for _, te := range e.s.Transcript(conv) {
		marked = marked || (te.Attachment != nil && strings.EqualFold(te.MessageID, msgID) && te.Attachment.UploadError == "AttachmentTooLarge")
	}
	if !marked {
		t.Error("the transcript's file is not marked failed")
	}
}
