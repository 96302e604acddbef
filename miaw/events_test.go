package miaw

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// sseData builds an SSE data object the way Salesforce sends it: the
// entryPayload object JSON-encoded as a string.
func sseData(conversationID, entryType, identifier string, sender Participant, payload string, relatedRecords ...string) []byte {
	entry := map[string]any{
		"senderDisplayName": "Jane Agent", "identifier": identifier, "entryType": entryType,
		"entryPayload": payload, "sender": sender, "contextParamMap": map[string]any{},
		"transcriptedTimestamp": 1700000000000, "clientTimestamp": 1700000000001, "clientDuration": 0,
		"relatedRecords": relatedRecords,
	}
	b, _ := json.Marshal(map[string]any{
		"channelPlatformKey": "cpk", "channelType": "embedded_messaging", "channelAddressIdentifier": "cai",
		"conversationId": conversationID, "conversationEntry": entry,
	})
	return b
}

var agent = Participant{Role: RoleAgent, AppType: "agent", Subject: "005xx0000012345", ClientIdentifier: "cid"}

// realEvents are real-shaped events of every modelled type (also the fuzz seed corpus).
var realEvents = []struct {
	event, entryType, payload string
	related                   []string
}{
	{EventMessage, EntryMessage, `{"entryType":"Message","id":"m1","abstractMessage":{"messageType":"StaticContentMessage","id":"m1","inReplyToMessageId":null,"references":[],"staticContent":{"formatType":"Text","text":"Hi, how can I help?"}},"messageReason":null}`, nil},
	{EventMessage, EntryMessage, `{"entryType":"Message","id":"m2","abstractMessage":{"messageType":"StaticContentMessage","id":"m2","inReplyToMessageId":null,"references":[],"staticContent":{"formatType":"Attachments","text":null,"attachments":[{"id":"a1","name":"invoice.pdf","mimeType":"application/pdf","url":"https://acme.my.salesforce-scrt.com/files/a1","referenceId":"r1","attachmentUploadResult":null}]}},"messageReason":null}`, nil},
	{EventMessage, EntryMessage, `{"entryType":"Message","id":"m3","abstractMessage":{"messageType":"StaticContentMessage","id":"m3","staticContent":{"formatType":"RichLink","linkItem":{"url":"https://example.com/help","titleItem":{"title":"Help center"}}}}}`, nil},
	{EventMessage, EntryMessage, `{"entryType":"Message","id":"m4","abstractMessage":{"messageType":"ChoicesMessage","id":"m4","choices":{"formatType":"Buttons","optionItems":[]}}}`, nil},
	{EventParticipantChanged, EntryParticipantChanged, `{"entryType":"ParticipantChanged","id":"p1","entries":[{"operation":"add","menuMetadata":null,"displayName":"Jane Agent","participant":{"role":"Agent","appType":"agent","subject":"005xx","clientIdentifier":"c"}}]}`, nil},
	{EventRoutingResult, EntryRoutingResult, `{"entryType":"RoutingResult","id":"r1","recordId":"0Mw1","errorMessages":[],"pendingServiceRoutingId":"0JR1","routingType":"Initial","estimatedWaitTime":{"estimatedWaitTimeInSeconds":120,"isEWTRequested":true},"failureReason":null,"failureType":"None","isExternallyRouted":false,"routingConfigurationDetails":{"routingConfigurationType":"QueueRoutingType","queueId":"00G1"},"workOwnerId":null,"cancelReason":null}`, nil},
	{EventRoutingWorkResult, EntryRoutingWorkResult, `{"entryType":"RoutingWorkResult","id":"w1","workType":"Accepted"}`, nil},
	{EventDeliveryAck, EntryDeliveryAck, `{"entryType":"DeliveryAcknowledgement","id":"d1","acknowledgementTimestamp":1700000000000}`, []string{"acked-entry"}},
	{EventReadAck, EntryReadAck, `{"entryType":"ReadAcknowledgement","id":"rd1","acknowledgedConversationEntryIdentifier":"explicit","acknowledgementTimestamp":1700000000000}`, []string{"other"}},
	{EventTypingStarted, EntryTypingStarted, `{"entryType":"TypingStartedIndicator","id":"t1","timestamp":1700000000000}`, nil},
	{EventTypingStopped, EntryTypingStopped, `{"entryType":"TypingStoppedIndicator","id":"t2","timestamp":1700000000000}`, nil},
	{EventCloseConversation, EntryCloseConversation, `{"entryType":"CloseConversation","id":"c1","conversationIdentifier":"` + testConvID + `"}`, nil},
	{EventSessionStatusChanged, EntrySessionStatusChanged, `{"entryType":"SessionStatusChanged","id":"s1","sessionId":"0Mw1","channelAddressIdentifier":"cai","conversationIdentifier":"` + testConvID + `","sessionStatus":"Ended","sessionStatusPrev":"Active","sessionStartTime":1,"sessionEndTime":2,"sessionEndedByRole":"Agent"}`, nil},
	{EventQueuePosition, EntryQueuePosition, `{"entryType":"QueuePosition","id":"q1","pendingServiceRoutingId":"0JR1","workItemId":"0Mw1","position":3}`, nil},
}

func TestDecodeEveryEventType(t *testing.T) {
	for i, re := range realEvents {
		data := sseData(testConvID, re.entryType, "entry-id", agent, re.payload, re.related...)
		ev, err := DecodeEvent(re.event, "1700000000123-0", data)
		if err != nil {
			t.Fatalf("%d %s: %v", i, re.event, err)
		}
		if ev.ID != "1700000000123-0" || ev.Type != re.event || ev.ConversationID != testConvID || ev.ChannelType != "embedded_messaging" ||
			ev.Entry.Identifier != "entry-id" || ev.Entry.Sender != agent || ev.Entry.SenderDisplayName != "Jane Agent" ||
			ev.Entry.TranscriptedTimestamp != 1700000000000 || ev.Payload == nil || ev.Payload != ev.Entry.Payload || len(ev.Entry.RawPayload) == 0 {
			t.Fatalf("%d %s: decoded %+v", i, re.event, ev)
		}
		// The same entry with entryPayload as an object decodes identically.
		var env map[string]any
		_ = json.Unmarshal(data, &env)
		env["conversationEntry"].(map[string]any)["entryPayload"] = json.RawMessage(re.payload)
		objData, _ := json.Marshal(env)
		ev2, err := DecodeEvent(re.event, "x", objData)
		if err != nil {
			t.Fatalf("%d %s as object: %v", i, re.event, err)
		}
		if a, b := mustJSON(ev.Payload), mustJSON(ev2.Payload); a != b {
			t.Fatalf("%d: string and object payloads decode differently:\n%s\n%s", i, a, b)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func decodeReal(t *testing.T, i int) Event {
	t.Helper()
	re := realEvents[i]
	ev, err := DecodeEvent(re.event, "id", sseData(testConvID, re.entryType, "e", agent, re.payload, re.related...))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestDecodedPayloadFields(t *testing.T) {
	if m := decodeReal(t, 0).Payload.(*MessagePayload); m.Text() != "Hi, how can I help?" || m.AbstractMessage.StaticContent.FormatType != FormatText {
		t.Errorf("text message %+v", m)
	}
	att := decodeReal(t, 1).Payload.(*MessagePayload).AbstractMessage.StaticContent
	if att.FormatType != FormatAttachments || len(att.Attachments) != 1 ||
		att.Attachments[0] != (Attachment{ID: "a1", Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://acme.my.salesforce-scrt.com/files/a1", ReferenceID: "r1"}) {
		t.Errorf("attachments %+v", att)
	}
	link := decodeReal(t, 2).Payload.(*MessagePayload).AbstractMessage.StaticContent
	if link.FormatType != FormatRichLink || link.LinkItem == nil || link.LinkItem.URL != "https://example.com/help" || link.LinkItem.TitleStr != "Help center" {
		t.Errorf("rich link %+v", link.LinkItem)
	}
	choices := decodeReal(t, 3).Payload.(*MessagePayload).AbstractMessage
	if choices.MessageType != "ChoicesMessage" || choices.StaticContent != nil || len(choices.Raw) == 0 {
		t.Errorf("unmodelled message type kept raw: %+v", choices)
	}
	pc := decodeReal(t, 4).Payload.(*ParticipantChangedPayload)
	if len(pc.Entries) != 1 || pc.Entries[0].Operation != "add" || pc.Entries[0].DisplayName != "Jane Agent" || pc.Entries[0].Participant.Role != RoleAgent {
		t.Errorf("participant changed %+v", pc)
	}
	rr := decodeReal(t, 5).Payload.(*RoutingResultPayload)
	if rr.RoutingType != "Initial" || rr.FailureType != "None" || rr.EstimatedWaitTime == nil || rr.EstimatedWaitTime.EstimatedWaitTimeInSeconds != 120 || rr.RecordID != "0Mw1" {
		t.Errorf("routing result %+v", rr)
	}
	if w := decodeReal(t, 6).Payload.(*RoutingWorkResultPayload); w.WorkType != "Accepted" {
		t.Errorf("work result %+v", w)
	}
	if d := decodeReal(t, 7).Payload.(*AcknowledgementPayload); d.AcknowledgedEntryID != "acked-entry" || d.EntryType != EntryDeliveryAck {
		t.Errorf("delivery ack must fall back to relatedRecords[0]: %+v", d)
	}
	if r := decodeReal(t, 8).Payload.(*AcknowledgementPayload); r.AcknowledgedEntryID != "explicit" {
		t.Errorf("read ack %+v", r)
	}
	if ty := decodeReal(t, 9).Payload.(*TypingPayload); ty.EntryType != EntryTypingStarted || ty.Timestamp == 0 {
		t.Errorf("typing %+v", ty)
	}
	if cc := decodeReal(t, 11).Payload.(*CloseConversationPayload); cc.ConversationIdentifier != testConvID {
		t.Errorf("close %+v", cc)
	}
	ss := decodeReal(t, 12).Payload.(*SessionStatusChangedPayload)
	if ss.SessionStatus != SessionEnded || ss.SessionStatusPrev != SessionActive || ss.SessionEndedByRole != RoleAgent {
		t.Errorf("session status %+v", ss)
	}
	if q := decodeReal(t, 13).Payload.(*QueuePositionPayload); q.Position != 3 {
		t.Errorf("queue position %+v", q)
	}
}

func TestDecodeSkipsPingAndUnknown(t *testing.T) {
	for _, name := range []string{EventPing, "CONVERSATION_PROGRESS_INDICATOR", "CONVERSATION_STREAMING_TOKEN", "SOMETHING_NEW", "", "message"} {
		if _, err := DecodeEvent(name, "1", []byte(`3`)); !errors.Is(err, ErrSkipEvent) {
			t.Errorf("%q: %v, want ErrSkipEvent", name, err)
		}
	}
	// A known event carrying an entry type we do not model has a nil payload.
	ev, err := DecodeEvent(EventMessage, "1", sseData(testConvID, "SessionContext", "e", agent, `{"entryType":"SessionContext","id":"u"}`))
	if err != nil || ev.Payload != nil || ev.Entry.EntryType != "SessionContext" {
		t.Errorf("unmodelled entry type: %+v, %v", ev, err)
	}
	// A missing envelope entryType is taken from the payload.
	ev, err = DecodeEvent(EventTypingStarted, "1", sseData(testConvID, "", "e", agent, `{"entryType":"TypingStartedIndicator","id":"t"}`))
	if err != nil || ev.Entry.EntryType != EntryTypingStarted {
		t.Errorf("entry type from payload: %+v, %v", ev, err)
	}
}

func TestDecodeMalformed(t *testing.T) {
	cases := map[string][]byte{
		"not json":           []byte(`{"conversationId":`),
		"array":              []byte(`[1,2]`),
		"no entry":           []byte(`{"conversationId":"c"}`),
		"no conversation id": sseData("", EntryMessage, "e", agent, `{"entryType":"Message","id":"m"}`),
		"no payload":         []byte(`{"conversationId":"c","conversationEntry":{"entryType":"Message"}}`),
		"payload not object": sseData("c", EntryMessage, "e", agent, `"just text"`),
		"payload garbage":    sseData("c", EntryMessage, "e", agent, `{"entryType":`),
		"wrong field type":   sseData("c", EntryQueuePosition, "e", agent, `{"entryType":"QueuePosition","position":"third"}`),
		"bad sender":         []byte(`{"conversationId":"c","conversationEntry":{"entryType":"Message","sender":"x","entryPayload":{}}}`),
	}
	for name, data := range cases {
		if _, err := DecodeEvent(EventMessage, "9", data); err == nil || errors.Is(err, ErrSkipEvent) {
			t.Errorf("%s: got %v, want a decode error", name, err)
		}
	}
}

func TestLinkItemTitleForms(t *testing.T) {
	for _, in := range []string{`{"url":"u","titleItem":"T"}`, `{"url":"u","titleItem":{"title":"T"}}`, `{"url":"u","title":"T"}`} {
		var l LinkItem
		if err := json.Unmarshal([]byte(in), &l); err != nil || l.URL != "u" || l.TitleStr != "T" {
			t.Errorf("%s: %+v %v", in, l, err)
		}
	}
}

// FuzzDecodeEvent: DecodeEvent must never panic, and a successful decode is
// self-consistent.
func FuzzDecodeEvent(f *testing.F) {
	for _, re := range realEvents {
		f.Add(re.event, "1700000000123-0", sseData(testConvID, re.entryType, "e", agent, re.payload, re.related...))
		f.Add(re.event, "1", []byte(`{"conversationId":"c","conversationEntry":{"entryType":"`+re.entryType+`","entryPayload":`+re.payload+`}}`))
	}
	f.Add(EventPing, "", []byte("3"))
	f.Add("UNKNOWN", "x", []byte("{}"))
	f.Add(EventMessage, "", []byte(`{"conversationId":"c","conversationEntry":{"entryPayload":"\"{}\""}}`))
	f.Add(EventMessage, "1\x01", sseData(testConvID, EntryMessage, "e", agent, realEvents[0].payload))
	f.Add(EventMessage, "1", []byte(`{"conversationId":"c","conversationEntry":{"transcriptedTimestamp":9223372036854775807,"entryPayload":{"entryType":"Message"}}}`))
	f.Fuzz(func(t *testing.T, eventType, id string, data []byte) {
		// Whatever id a frame carries, the one Stream keeps as its cursor
		// is a valid Last-Event-ID header value.
		frame := parseFrame([]byte("id: " + id + "\nevent: " + eventType + "\ndata: x\n"))
		if frame.id != "" && !validHeaderValue(frame.id) {
			t.Fatalf("cursor %q from id %q is not a valid header value", frame.id, id)
		}
		ev, err := DecodeEvent(eventType, id, data)
		if err != nil {
			return
		}
		if ev.ID != id || ev.Type != eventType || ev.ConversationID == "" || ev.Payload != ev.Entry.Payload {
			t.Fatalf("inconsistent event %+v", ev)
		}
		if ev.ID != "" && (!ValidEventID(ev.ID) || !validHeaderValue(ev.ID)) {
			t.Fatalf("kept event id %q is not a valid cursor", ev.ID)
		}
		// Every kept event can be encoded (signalled, logged, stored).
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("kept event cannot be encoded: %v", err)
		}
		if ev.Entry.TranscriptedTimestamp != PlausibleMillis(ev.Entry.TranscriptedTimestamp) ||
			ev.Entry.ClientTimestamp != PlausibleMillis(ev.Entry.ClientTimestamp) {
			t.Fatalf("impossible timestamps kept: %+v", ev.Entry)
		}
	})
}

// validHeaderValue is net/http's rule for a header field value (RFC 7230
// field-value: no control characters but tab) plus no surrounding
// whitespace, which a header round trip would trim.
func validHeaderValue(v string) bool {
	if strings.TrimSpace(v) != v {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < 0x20 && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}
