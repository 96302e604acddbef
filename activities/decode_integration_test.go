package activities

import (
	"encoding/json"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// sseData builds the data of an SSE event as Salesforce sends it: the entry
// payload is a JSON string inside the envelope.
func sseData(t *testing.T, role, name, entryType string, payload map[string]any) []byte {
	t.Helper()
	payload["entryType"] = entryType
	p, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]any{
		"channelPlatformKey": "k", "channelType": "embedded_messaging", "channelAddressIdentifier": "addr",
		"conversationId": "conv-1",
		"conversationEntry": map[string]any{
			"senderDisplayName": name, "identifier": "entry-1", "entryType": entryType, "entryPayload": string(p),
			"sender":                map[string]any{"role": role, "appType": "agent", "subject": "005xx"},
			"transcriptedTimestamp": 1700000000000, "clientTimestamp": 1700000000000, "relatedRecords": []string{"rel-1"},
		},
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTranslateDecodedEvents runs wire-format events through the miaw
// decoder and TranslateEvent, so the two stay in step.
func TestTranslateDecodedEvents(t *testing.T) {
	tests := []struct {
		sseType, entryType, role, name string
		payload                        map[string]any
		check                          func(t *testing.T, ae workflows.AgentEvent)
	}{
		{miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", map[string]any{"id": "m1", "abstractMessage": map[string]any{
			"messageType": "StaticContentMessage", "id": "m1", "staticContent": map[string]any{"formatType": "Text", "text": "Hi, how can I help?"}}},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentMessage || ae.Text != "Hi, how can I help?" || ae.SenderName != "Jane" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", map[string]any{"id": "m2", "abstractMessage": map[string]any{
			"messageType": "StaticContentMessage", "id": "m2", "staticContent": map[string]any{"formatType": "Attachments",
				"attachments": []map[string]any{{"id": "a1", "name": "invoice.pdf", "mimeType": "application/pdf", "url": "https://x.salesforce-scrt.com/f/1"}}}}},
			func(t *testing.T, ae workflows.AgentEvent) {
				if len(ae.Attachments) != 1 || ae.Attachments[0].Name != "invoice.pdf" || ae.Attachments[0].URL == "" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "Automated Process", map[string]any{"id": "p1", "entries": []map[string]any{
			{"operation": "add", "displayName": "Jane Agent", "participant": map[string]any{"role": "Agent", "appType": "agent"}}}},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentJoined || ae.SenderName != "Jane Agent" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventRoutingResult, miaw.EntryRoutingResult, miaw.RoleRouter, "", map[string]any{"id": "r1", "routingType": "Initial", "failureType": "None",
			"estimatedWaitTime": map[string]any{"estimatedWaitTimeInSeconds": 120, "isEWTRequested": true}},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentRoutingResult || ae.EstimatedWait != 2*time.Minute || ae.RoutingType != "Initial" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventQueuePosition, miaw.EntryQueuePosition, miaw.RoleSystem, "", map[string]any{"id": "q1", "position": 3},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentQueuePosition || ae.QueuePosition != 3 {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventSessionStatusChanged, miaw.EntrySessionStatusChanged, miaw.RoleSystem, "", map[string]any{"id": "s1", "sessionStatus": "Ended", "sessionStatusPrev": "Active"},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentSessionStatus || ae.SessionStatus != "Ended" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventReadAck, miaw.EntryReadAck, miaw.RoleAgent, "Jane", map[string]any{"id": "k1"},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentReadAck || ae.AckedEntryID != "rel-1" {
					t.Fatalf("%+v", ae)
				}
			}},
		{miaw.EventCloseConversation, miaw.EntryCloseConversation, miaw.RoleEndUser, "Guest", map[string]any{"id": "c1"},
			func(t *testing.T, ae workflows.AgentEvent) {
				if ae.Kind != workflows.AgentConversationShut {
					t.Fatalf("%+v", ae)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.sseType, func(t *testing.T) {
			ev, err := miaw.DecodeEvent(tt.sseType, "1700000000123-0", sseData(t, tt.role, tt.name, tt.entryType, tt.payload))
			if err != nil {
				t.Fatalf("DecodeEvent: %v", err)
			}
			ae, keep, reason, err := TranslateEvent(ev)
			if err != nil || !keep {
				t.Fatalf("keep=%v reason=%q err=%v", keep, reason, err)
			}
			if ae.EventID != "1700000000123-0" || ae.EntryID != "entry-1" || !ae.At.Equal(time.UnixMilli(1700000000000)) {
				t.Fatalf("ids/time: %+v", ae)
			}
			tt.check(t, ae)
		})
	}
}

// FuzzTranslateDecoded feeds arbitrary event data through the decoder and
// TranslateEvent: whatever arrives, the listener path must not panic, and a
// kept event always has the ids the workflow relies on.
func FuzzTranslateDecoded(f *testing.F) {
	f.Add(miaw.EventMessage, []byte(`{"conversationId":"c","conversationEntry":{"identifier":"e","entryType":"Message","sender":{"role":"Agent"},"entryPayload":"{\"entryType\":\"Message\",\"abstractMessage\":{\"staticContent\":{\"formatType\":\"Text\",\"text\":\"hi\"}}}"}}`))
	f.Add(miaw.EventParticipantChanged, []byte(`{"conversationId":"c","conversationEntry":{"identifier":"e","entryType":"ParticipantChanged","entryPayload":{"entryType":"ParticipantChanged","entries":[{"operation":"add","participant":{"role":"Agent"}}]}}}`))
	f.Add(miaw.EventReadAck, []byte(`{"conversationId":"c","conversationEntry":{"identifier":"e","entryPayload":"{\"entryType\":\"ReadAcknowledgement\"}"}}`))
	f.Add(miaw.EventRoutingResult, []byte(`{"conversationId":"c","conversationEntry":{"identifier":"e","entryPayload":"{\"entryType\":\"RoutingResult\",\"estimatedWaitTime\":{\"estimatedWaitTimeInSeconds\":-1}}"}}`))
	f.Add(miaw.EventQueuePosition, []byte(`{"conversationId":"c","conversationEntry":{"entryPayload":"null"}}`))
	f.Add(miaw.EventMessage, []byte(`{"conversationId":"c","conversationEntry":{"identifier":"e","entryType":"Message","sender":{"role":"Agent"},"transcriptedTimestamp":9223372036854775807,"entryPayload":{"entryType":"Message","abstractMessage":{"staticContent":{"formatType":"RichLink","url":"javascript:alert(1)","text":"x"}}}}}`))
	f.Fuzz(func(t *testing.T, eventType string, data []byte) {
		ev, err := miaw.DecodeEvent(eventType, "id-1", data)
		if err != nil {
			return
		}
		ae, keep, _, err := TranslateEvent(ev)
		if keep && (err != nil || ae.EntryID == "" || ae.Kind == "") {
			t.Fatalf("kept event without ids/kind: %+v err=%v", ae, err)
		}
		if !keep {
			return
		}
		// A kept event is signalled: it must encode, or the listener would
		// have to drop it.
		if _, err := converter.GetDefaultDataConverter().ToPayload(ae); err != nil {
			t.Fatalf("kept event cannot be encoded: %v (%+v)", err, ae)
		}
		if ae.Link != nil && !safeLinkURL(ae.Link.URL) {
			t.Fatalf("kept link %q is not absolute http(s)", ae.Link.URL)
		}
	})
}
