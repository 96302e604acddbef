package activities

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const ts = int64(1764064800000) // 2025-11-25T10:00:00Z

var tsTime = time.UnixMilli(ts).UTC()

// mkEvent builds an event as the miaw decoder does (pointer payload in both
// Event.Payload and Entry.Payload).
func mkEvent(id, sseType, entryType, role, name string, payload any) miaw.Event {
	return miaw.Event{
		ID: id, Type: sseType, ConversationID: "conv-1",
		Entry: miaw.ConversationEntry{
			Identifier: "entry-" + id, EntryType: entryType, SenderDisplayName: name,
			Sender: miaw.Participant{Role: role}, TranscriptedTimestamp: ts, Payload: payload,
		},
		Payload: payload,
	}
}

func textMsg(text string) *miaw.MessagePayload {
	return &miaw.MessagePayload{EntryType: "Message", ID: "p", AbstractMessage: miaw.AbstractMessage{
		MessageType: "StaticContentMessage", StaticContent: &miaw.StaticContent{FormatType: miaw.FormatText, Text: text}}}
}

func TestTranslateEvent(t *testing.T) {
	base := func(id string, kind workflows.AgentEventKind, name, role string) workflows.AgentEvent {
		return workflows.AgentEvent{EventID: id, EntryID: "entry-" + id, Kind: kind, At: tsTime, SenderName: name, SenderRole: role, EstimatedWait: UnknownWait}
	}
	with := func(ev workflows.AgentEvent, f func(*workflows.AgentEvent)) workflows.AgentEvent { f(&ev); return ev }

	tests := []struct {
		name string
		in   miaw.Event
		want workflows.AgentEvent
	}{
		{
			"agent text",
			mkEvent("1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg("Hello")),
			with(base("1", workflows.AgentMessage, "Jane", miaw.RoleAgent), func(e *workflows.AgentEvent) { e.Text = "Hello" }),
		},
		{
			"chatbot text is shown too",
			mkEvent("1b", miaw.EventMessage, miaw.EntryMessage, miaw.RoleChatbot, "Bot", textMsg("Hi, I'm a bot")),
			with(base("1b", workflows.AgentMessage, "Bot", miaw.RoleChatbot), func(e *workflows.AgentEvent) { e.Text = "Hi, I'm a bot" }),
		},
		{
			"rich link",
			mkEvent("2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", &miaw.MessagePayload{AbstractMessage: miaw.AbstractMessage{
				StaticContent: &miaw.StaticContent{FormatType: miaw.FormatRichLink, LinkItem: &miaw.LinkItem{URL: "https://help.example/a", TitleStr: "Help article"}}}}),
			with(base("2", workflows.AgentMessage, "Jane", miaw.RoleAgent), func(e *workflows.AgentEvent) {
				e.Link = &workflows.Link{URL: "https://help.example/a", Title: "Help article"}
			}),
		},
		{
			"attachments",
			mkEvent("3", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", &miaw.MessagePayload{AbstractMessage: miaw.AbstractMessage{
				StaticContent: &miaw.StaticContent{FormatType: miaw.FormatAttachments, Attachments: []miaw.Attachment{
					{ID: "a1", Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://x/1"},
					{ID: "a2", Name: "no-url.txt"},
				}}}}),
			with(base("3", workflows.AgentMessage, "Jane", miaw.RoleAgent), func(e *workflows.AgentEvent) {
				e.Attachments = []workflows.AgentAttachment{{ID: "a1", Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://x/1"}}
			}),
		},
		{
			"agent joins",
			mkEvent("4", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "Automated Process", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
				{Operation: "add", DisplayName: "Jane Agent", Participant: miaw.Participant{Role: miaw.RoleAgent}}}}),
			base("4", workflows.AgentJoined, "Jane Agent", miaw.RoleAgent),
		},
		{
			"agent leaves",
			mkEvent("5", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
				{Operation: "remove", DisplayName: "Jane Agent", Participant: miaw.Participant{Role: miaw.RoleAgent}}}}),
			base("5", workflows.AgentLeft, "Jane Agent", miaw.RoleAgent),
		},
		{
			"transfer in one event: the added agent wins",
			mkEvent("5b", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
				{Operation: "remove", DisplayName: "Jane", Participant: miaw.Participant{Role: miaw.RoleAgent}},
				{Operation: "add", DisplayName: "Bob", Participant: miaw.Participant{Role: miaw.RoleAgent}}}}),
			base("5b", workflows.AgentJoined, "Bob", miaw.RoleAgent),
		},
		{
			"routing result with estimated wait",
			mkEvent("6", miaw.EventRoutingResult, miaw.EntryRoutingResult, miaw.RoleRouter, "", &miaw.RoutingResultPayload{RoutingType: "Initial", FailureType: "None",
				EstimatedWaitTime: &miaw.EstimatedWaitTime{EstimatedWaitTimeInSeconds: 90, IsEWTRequested: true}}),
			with(base("6", workflows.AgentRoutingResult, "", miaw.RoleRouter), func(e *workflows.AgentEvent) {
				e.RoutingType, e.FailureType, e.EstimatedWait = "Initial", "None", 90*time.Second
			}),
		},
		{
			"routing result, wait unknown (-1)",
			mkEvent("7", miaw.EventRoutingResult, miaw.EntryRoutingResult, miaw.RoleRouter, "", &miaw.RoutingResultPayload{RoutingType: "Transfer", FailureType: "RoutingError", FailureReason: "no agents",
				EstimatedWaitTime: &miaw.EstimatedWaitTime{EstimatedWaitTimeInSeconds: -1}}),
			with(base("7", workflows.AgentRoutingResult, "", miaw.RoleRouter), func(e *workflows.AgentEvent) {
				e.RoutingType, e.FailureType, e.Text = "Transfer", "RoutingError", "no agents"
			}),
		},
		{
			"routing work result",
			mkEvent("8", miaw.EventRoutingWorkResult, miaw.EntryRoutingWorkResult, miaw.RoleSystem, "", &miaw.RoutingWorkResultPayload{WorkType: "Accepted"}),
			with(base("8", workflows.AgentWorkResult, "", miaw.RoleSystem), func(e *workflows.AgentEvent) { e.WorkType = "Accepted" }),
		},
		{
			"queue position",
			mkEvent("9", miaw.EventQueuePosition, miaw.EntryQueuePosition, miaw.RoleSystem, "", &miaw.QueuePositionPayload{Position: 2}),
			with(base("9", workflows.AgentQueuePosition, "", miaw.RoleSystem), func(e *workflows.AgentEvent) { e.QueuePosition = 2 }),
		},
		{
			"session status",
			mkEvent("10", miaw.EventSessionStatusChanged, miaw.EntrySessionStatusChanged, miaw.RoleSystem, "", &miaw.SessionStatusChangedPayload{SessionStatus: miaw.SessionEnded, SessionStatusPrev: miaw.SessionActive}),
			with(base("10", workflows.AgentSessionStatus, "", miaw.RoleSystem), func(e *workflows.AgentEvent) { e.SessionStatus = "Ended" }),
		},
		{
			"typing started",
			mkEvent("11", miaw.EventTypingStarted, miaw.EntryTypingStarted, miaw.RoleAgent, "Jane", &miaw.TypingPayload{}),
			base("11", workflows.AgentTypingStarted, "Jane", miaw.RoleAgent),
		},
		{
			"typing stopped",
			mkEvent("12", miaw.EventTypingStopped, miaw.EntryTypingStopped, miaw.RoleAgent, "Jane", &miaw.TypingPayload{}),
			base("12", workflows.AgentTypingStopped, "Jane", miaw.RoleAgent),
		},
		{
			"delivery ack",
			mkEvent("13", miaw.EventDeliveryAck, miaw.EntryDeliveryAck, miaw.RoleAgent, "Jane", &miaw.AcknowledgementPayload{AcknowledgedEntryID: "my-entry"}),
			with(base("13", workflows.AgentDeliveryAck, "Jane", miaw.RoleAgent), func(e *workflows.AgentEvent) { e.AckedEntryID = "my-entry" }),
		},
		{
			"read ack from relatedRecords",
			func() miaw.Event {
				ev := mkEvent("14", miaw.EventReadAck, miaw.EntryReadAck, miaw.RoleAgent, "Jane", &miaw.AcknowledgementPayload{})
				ev.Entry.RelatedRecords = []string{"my-entry-2"}
				return ev
			}(),
			with(base("14", workflows.AgentReadAck, "Jane", miaw.RoleAgent), func(e *workflows.AgentEvent) { e.AckedEntryID = "my-entry-2" }),
		},
		{
			"close conversation is kept even from the end user",
			mkEvent("15", miaw.EventCloseConversation, miaw.EntryCloseConversation, miaw.RoleEndUser, "Guest", &miaw.CloseConversationPayload{}),
			base("15", workflows.AgentConversationShut, "Guest", miaw.RoleEndUser),
		},
		{
			"entry type from the SSE event name when the envelope lacks it; value payload",
			func() miaw.Event {
				ev := mkEvent("16", miaw.EventQueuePosition, "", miaw.RoleSystem, "", miaw.QueuePositionPayload{Position: 5})
				return ev
			}(),
			with(base("16", workflows.AgentQueuePosition, "", miaw.RoleSystem), func(e *workflows.AgentEvent) { e.QueuePosition = 5 }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, keep, reason, err := TranslateEvent(tt.in)
			if err != nil || !keep {
				t.Fatalf("keep=%v reason=%q err=%v", keep, reason, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestTranslateEventSkips(t *testing.T) {
	tests := []struct {
		name string
		in   miaw.Event
	}{
		{"end user's own message echo", mkEvent("1", miaw.EventMessage, miaw.EntryMessage, miaw.RoleEndUser, "Guest", textMsg("my own text"))},
		{"end user's typing echo", mkEvent("2", miaw.EventTypingStarted, miaw.EntryTypingStarted, miaw.RoleEndUser, "Guest", &miaw.TypingPayload{})},
		{"end user's ack echo", mkEvent("3", miaw.EventReadAck, miaw.EntryReadAck, miaw.RoleEndUser, "Guest", &miaw.AcknowledgementPayload{AcknowledgedEntryID: "x"})},
		{"end user joins", mkEvent("4", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
			{Operation: "add", DisplayName: "Guest", Participant: miaw.Participant{Role: miaw.RoleEndUser}}}})},
		{"system participant", mkEvent("5", miaw.EventParticipantChanged, miaw.EntryParticipantChanged, miaw.RoleSystem, "", &miaw.ParticipantChangedPayload{Entries: []miaw.ParticipantEntry{
			{Operation: "remove", DisplayName: "Automated Process", Participant: miaw.Participant{Role: miaw.RoleSystem}}}})},
		{"unmodelled type", miaw.Event{ID: "6", Type: "CONVERSATION_PROGRESS_INDICATOR", ConversationID: "conv-1", Entry: miaw.ConversationEntry{Identifier: "e6", EntryType: "ProgressIndicator"}}},
		{"ping", miaw.Event{ID: "7", Type: miaw.EventPing}},
		{"empty text", mkEvent("9", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "Jane", textMsg(""))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, keep, reason, err := TranslateEvent(tt.in)
			if err != nil {
				t.Fatalf("err = %v, want a skip", err)
			}
			if keep || reason == "" {
				t.Fatalf("keep=%v reason=%q, want skipped with a reason", keep, reason)
			}
		})
	}
}

func TestTranslateEventMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   miaw.Event
	}{
		{"no payload", miaw.Event{ID: "1", Type: miaw.EventMessage, Entry: miaw.ConversationEntry{Identifier: "e", EntryType: miaw.EntryMessage}}},
		{"nil pointer payload", mkEvent("2", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "", (*miaw.MessagePayload)(nil))},
		{"payload type does not match entry type", mkEvent("3", miaw.EventMessage, miaw.EntryMessage, miaw.RoleAgent, "", &miaw.QueuePositionPayload{Position: 1})},
		{"no entry id", func() miaw.Event {
			ev := mkEvent("4", miaw.EventQueuePosition, miaw.EntryQueuePosition, miaw.RoleSystem, "", &miaw.QueuePositionPayload{Position: 1})
			ev.Entry.Identifier = ""
			return ev
		}()},
		{"ack without target", mkEvent("5", miaw.EventReadAck, miaw.EntryReadAck, miaw.RoleAgent, "", &miaw.AcknowledgementPayload{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, keep, _, err := TranslateEvent(tt.in)
			if !errors.Is(err, ErrMalformedEvent) || keep {
				t.Fatalf("keep=%v err=%v, want ErrMalformedEvent", keep, err)
			}
		})
	}
}

func TestTranslateEventEntryIDFallsBackToPayloadID(t *testing.T) {
	ev := mkEvent("1", miaw.EventQueuePosition, miaw.EntryQueuePosition, miaw.RoleSystem, "", &miaw.QueuePositionPayload{ID: "payload-id", Position: 1})
	ev.Entry.Identifier = ""
	got, keep, _, err := TranslateEvent(ev)
	if err != nil || !keep || got.EntryID != "payload-id" {
		t.Fatalf("got %+v keep=%v err=%v", got, keep, err)
	}
}
