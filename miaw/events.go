package miaw

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// SSE event names sent on /eventrouter/v1/sse (miaw-api.md §2.3).
const (
	EventMessage              = "CONVERSATION_MESSAGE"
	EventParticipantChanged   = "CONVERSATION_PARTICIPANT_CHANGED"
	EventRoutingResult        = "CONVERSATION_ROUTING_RESULT"
	EventRoutingWorkResult    = "CONVERSATION_ROUTING_WORK_RESULT"
	EventDeliveryAck          = "CONVERSATION_DELIVERY_ACKNOWLEDGEMENT"
	EventReadAck              = "CONVERSATION_READ_ACKNOWLEDGEMENT"
	EventTypingStarted        = "CONVERSATION_TYPING_STARTED_INDICATOR"
	EventTypingStopped        = "CONVERSATION_TYPING_STOPPED_INDICATOR"
	EventCloseConversation    = "CONVERSATION_CLOSE_CONVERSATION"
	EventSessionStatusChanged = "CONVERSATION_SESSION_STATUS_CHANGED"
	EventQueuePosition        = "CONVERSATION_QUEUE_POSITION"
	// EventMessageUpdated is a guessed name for a MessageUpdated entry's own
	// event [?]; such entries are also accepted under EventMessage, which is
	// where the emulator sends them (miaw-api.md §1.8).
	EventMessageUpdated = "CONVERSATION_MESSAGE_UPDATED"
	EventPing           = "ping"
)

// Entry types carried in conversationEntry.entryType and entryPayload.entryType.
const (
	EntryMessage              = "Message"
	EntryParticipantChanged   = "ParticipantChanged"
	EntryRoutingResult        = "RoutingResult"
	EntryRoutingWorkResult    = "RoutingWorkResult"
	EntryDeliveryAck          = "DeliveryAcknowledgement"
	EntryReadAck              = "ReadAcknowledgement"
	EntryTypingStarted        = "TypingStartedIndicator"
	EntryTypingStopped        = "TypingStoppedIndicator"
	EntryCloseConversation    = "CloseConversation"
	EntrySessionStatusChanged = "SessionStatusChanged"
	EntryQueuePosition        = "QueuePosition"
	// EntryMessageUpdated: Salesforce updated an earlier message, e.g. with
	// the late result of a user's file upload (MessageUpdatedPayload).
	EntryMessageUpdated = "MessageUpdated"
)

// Participant roles (sender.role).
const (
	RoleEndUser    = "EndUser"
	RoleAgent      = "Agent"
	RoleChatbot    = "Chatbot"
	RoleSystem     = "System"
	RoleRouter     = "Router"
	RoleSupervisor = "Supervisor"
)

// Static content format types.
const (
	FormatText        = "Text"
	FormatRichLink    = "RichLink"
	FormatAttachments = "Attachments"
)

// Session statuses (SessionStatusChanged.sessionStatus).
const (
	SessionNew      = "New"
	SessionWaiting  = "Waiting"
	SessionActive   = "Active"
	SessionInactive = "Inactive"
	SessionPaused   = "Paused"
	SessionConsent  = "Consent"
	SessionEnded    = "Ended"
	SessionError    = "Error"
)

// Event is one decoded SSE event. Payload holds one of the *Payload types of
// this file (pointer), chosen by Entry.EntryType; it is nil for entry types this
// package does not model, which callers must ignore (the doc says new types can
// appear at any time).
type Event struct {
	// ID is the SSE id, opaque; pass it back as Last-Event-ID to resume.
	ID string
	// Type is the SSE event name, e.g. EventMessage.
	Type string

	ChannelPlatformKey       string
	ChannelType              string
	ChannelAddressIdentifier string
	ConversationID           string
	Entry                    ConversationEntry
	Payload                  any
}

// Participant identifies a conversation participant (sender, participant).
type Participant struct {
	Role             string `json:"role"`
	AppType          string `json:"appType,omitempty"`
	Subject          string `json:"subject,omitempty"`
	ClientIdentifier string `json:"clientIdentifier,omitempty"`
}

// ConversationEntry is the conversationEntry envelope of an SSE event or of an
// entries listing. RawPayload is the decoded-once entryPayload JSON object
// (entryPayload arrives as a JSON string on SSE and as an object in listings;
// both are accepted).
type ConversationEntry struct {
	Identifier        string      `json:"identifier"`
	EntryType         string      `json:"entryType"`
	SenderDisplayName string      `json:"senderDisplayName,omitempty"`
	Sender            Participant `json:"sender"`
	// TranscriptedTimestamp and ClientTimestamp are Unix ms; DecodeEvent
	// reads impossible values (see PlausibleMillis) as 0.
	TranscriptedTimestamp int64           `json:"transcriptedTimestamp,omitempty"`
	ClientTimestamp       int64           `json:"clientTimestamp,omitempty"`
	ClientDuration        int64           `json:"clientDuration,omitempty"`
	RelatedRecords        []string        `json:"relatedRecords,omitempty"`
	RawPayload            json.RawMessage `json:"-"`
	// Payload is the typed entry payload, as Event.Payload.
	Payload any `json:"-"`
}

// MessagePayload is entryType Message.
type MessagePayload struct {
	EntryType       string          `json:"entryType"`
	ID              string          `json:"id"`
	AbstractMessage AbstractMessage `json:"abstractMessage"`
	MessageReason   string          `json:"messageReason,omitempty"`
}

// AbstractMessage is a message body. Only StaticContentMessage is modelled in
// detail; other message types keep their raw JSON in Raw.
type AbstractMessage struct {
	MessageType        string          `json:"messageType"`
	ID                 string          `json:"id"`
	InReplyToMessageID string          `json:"inReplyToMessageId,omitempty"`
	StaticContent      *StaticContent  `json:"staticContent,omitempty"`
	Raw                json.RawMessage `json:"-"`
}

// StaticContent is text, a rich link or attachments.
type StaticContent struct {
	FormatType  string       `json:"formatType"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// RichLink fields (formatType RichLink).
	LinkItem *LinkItem `json:"linkItem,omitempty"`
	URL      string    `json:"url,omitempty"`
	Title    string    `json:"title,omitempty"`
}

// LinkItem is the rich-link preview of a RichLink static content.
type LinkItem struct {
	URL      string `json:"url"`
	TitleStr string `json:"titleItem,omitempty"`
}

// Attachment is an agent- or user-shared file referenced by a message.
type Attachment struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	MimeType    string `json:"mimeType"`
	URL         string `json:"url"`
	ReferenceID string `json:"referenceId,omitempty"`
	// UploadResult is Salesforce's verdict on a user's upload, when given
	// (null on messages as first sent; see MessageUpdatedPayload).
	UploadResult *AttachmentUploadResult `json:"attachmentUploadResult,omitempty"`
}

// ParticipantChangedPayload is entryType ParticipantChanged.
type ParticipantChangedPayload struct {
	EntryType string             `json:"entryType"`
	ID        string             `json:"id"`
	Entries   []ParticipantEntry `json:"entries"`
}

// ParticipantEntry is one add/remove operation.
type ParticipantEntry struct {
	Operation   string      `json:"operation"` // "add" | "remove"
	DisplayName string      `json:"displayName"`
	Participant Participant `json:"participant"`
}

// RoutingResultPayload is entryType RoutingResult.
type RoutingResultPayload struct {
	EntryType               string             `json:"entryType"`
	ID                      string             `json:"id"`
	RecordID                string             `json:"recordId,omitempty"`
	PendingServiceRoutingID string             `json:"pendingServiceRoutingId,omitempty"`
	RoutingType             string             `json:"routingType"` // Initial | Transfer | Conference
	FailureType             string             `json:"failureType"` // None | Unknown | SubmissionError | RoutingError | Cancelled
	FailureReason           string             `json:"failureReason,omitempty"`
	ErrorMessages           []string           `json:"errorMessages,omitempty"`
	EstimatedWaitTime       *EstimatedWaitTime `json:"estimatedWaitTime,omitempty"`
	IsExternallyRouted      bool               `json:"isExternallyRouted,omitempty"`
}

// EstimatedWaitTime is Salesforce's wait estimate; -1 seconds means unknown.
type EstimatedWaitTime struct {
	EstimatedWaitTimeInSeconds int  `json:"estimatedWaitTimeInSeconds"`
	IsEWTRequested             bool `json:"isEWTRequested"`
}

// RoutingWorkResultPayload is entryType RoutingWorkResult.
type RoutingWorkResultPayload struct {
	EntryType string `json:"entryType"`
	ID        string `json:"id"`
	WorkType  string `json:"workType"` // Assigned|Accepted|Closed|Declined|Cancelled|TransferError|Transferred
}

// SessionStatusChangedPayload is entryType SessionStatusChanged.
type SessionStatusChangedPayload struct {
	EntryType              string `json:"entryType"`
	ID                     string `json:"id"`
	SessionID              string `json:"sessionId,omitempty"`
	ConversationIdentifier string `json:"conversationIdentifier,omitempty"`
	SessionStatus          string `json:"sessionStatus"`
	SessionStatusPrev      string `json:"sessionStatusPrev,omitempty"`
	SessionStartTime       int64  `json:"sessionStartTime,omitempty"`
	SessionEndTime         int64  `json:"sessionEndTime,omitempty"`
	SessionEndedByRole     string `json:"sessionEndedByRole,omitempty"`
}

// AcknowledgementPayload is entryType DeliveryAcknowledgement or ReadAcknowledgement.
type AcknowledgementPayload struct {
	EntryType string `json:"entryType"`
	ID        string `json:"id"`
	// AcknowledgedEntryID is acknowledgedConversationEntryIdentifier, or
	// relatedRecords[0] of the envelope when absent.
	AcknowledgedEntryID      string `json:"acknowledgedConversationEntryIdentifier,omitempty"`
	AcknowledgementTimestamp int64  `json:"acknowledgementTimestamp,omitempty"`
}

// TypingPayload is entryType TypingStartedIndicator or TypingStoppedIndicator.
type TypingPayload struct {
	EntryType string `json:"entryType"`
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp,omitempty"`
}

// CloseConversationPayload is entryType CloseConversation (end user closed).
type CloseConversationPayload struct {
	EntryType              string `json:"entryType"`
	ID                     string `json:"id"`
	ConversationIdentifier string `json:"conversationIdentifier,omitempty"`
}

// QueuePositionPayload is entryType QueuePosition.
type QueuePositionPayload struct {
	EntryType               string `json:"entryType"`
	ID                      string `json:"id"`
	PendingServiceRoutingID string `json:"pendingServiceRoutingId,omitempty"`
	WorkItemID              string `json:"workItemId,omitempty"`
	Position                int    `json:"position"`
}

// ErrSkipEvent is returned by DecodeEvent for events that carry nothing to
// deliver: ping keep-alives and event types this package does not handle
// (Salesforce may add new ones at any time). Stream skips them silently.
var ErrSkipEvent = errors.New("miaw: event skipped")

// knownEvents are the SSE event names DecodeEvent decodes.
var knownEvents = map[string]bool{
	EventMessage: true, EventParticipantChanged: true, EventRoutingResult: true, EventRoutingWorkResult: true,
	EventDeliveryAck: true, EventReadAck: true, EventTypingStarted: true, EventTypingStopped: true,
	EventCloseConversation: true, EventSessionStatusChanged: true, EventQueuePosition: true,
	EventMessageUpdated: true,
}

// eventForEntry names the SSE event of each entry type.
var eventForEntry = map[string]string{
	EntryMessage: EventMessage, EntryParticipantChanged: EventParticipantChanged, EntryRoutingResult: EventRoutingResult,
	EntryRoutingWorkResult: EventRoutingWorkResult, EntryDeliveryAck: EventDeliveryAck, EntryReadAck: EventReadAck,
	EntryTypingStarted: EventTypingStarted, EntryTypingStopped: EventTypingStopped,
	EntryCloseConversation: EventCloseConversation, EntrySessionStatusChanged: EventSessionStatusChanged,
	EntryQueuePosition: EventQueuePosition, EntryMessageUpdated: EventMessage,
}

// eventEnvelope is the SSE data object.
type eventEnvelope struct {
	ChannelPlatformKey       string    `json:"channelPlatformKey"`
	ChannelType              string    `json:"channelType"`
	ChannelAddressIdentifier string    `json:"channelAddressIdentifier"`
	ConversationID           string    `json:"conversationId"`
	ConversationEntry        *rawEntry `json:"conversationEntry"`
}

// rawEntry is a conversationEntry as it arrives, entryPayload undecoded.
type rawEntry struct {
	Identifier            string          `json:"identifier"`
	EntryType             string          `json:"entryType"`
	SenderDisplayName     string          `json:"senderDisplayName"`
	Sender                Participant     `json:"sender"`
	TranscriptedTimestamp int64           `json:"transcriptedTimestamp"`
	ClientTimestamp       int64           `json:"clientTimestamp"`
	ClientDuration        int64           `json:"clientDuration"`
	RelatedRecords        []string        `json:"relatedRecords"`
	EntryPayload          json.RawMessage `json:"entryPayload"`
}

// DecodeEvent decodes one SSE event (its event name, id and data). It
// returns ErrSkipEvent for ping and unknown event names, and a descriptive
// error for malformed data; it never panics. entryPayload is accepted both
// as a JSON string holding an object (what SSE sends) and as an object.
//
// id must be "" or a ValidEventID (Stream drops invalid ids before they get
// here); another id is an error. Entry timestamps outside years 1970-9999 are
// impossible and read as 0 (unknown), so every decoded event can be encoded
// again (a time.Time beyond year 9999 cannot be marshalled to JSON).
func DecodeEvent(eventType, id string, data []byte) (Event, error) {
	if !knownEvents[eventType] {
		return Event{}, ErrSkipEvent
	}
	if id != "" && !ValidEventID(id) {
		return Event{}, fmt.Errorf("decode %s event: id is not a valid event id (%d bytes)", eventType, len(id))
	}
	var env eventEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return Event{}, fmt.Errorf("decode %s event %q: %w", eventType, id, err)
	}
	if env.ConversationEntry == nil {
		return Event{}, fmt.Errorf("decode %s event %q: no conversationEntry", eventType, id)
	}
	if env.ConversationID == "" {
		return Event{}, fmt.Errorf("decode %s event %q: no conversationId", eventType, id)
	}
	entry, err := env.ConversationEntry.decode()
	if err != nil {
		return Event{}, fmt.Errorf("decode %s event %q: %w", eventType, id, err)
	}
	return Event{
		ID:                       id,
		Type:                     eventType,
		ChannelPlatformKey:       env.ChannelPlatformKey,
		ChannelType:              env.ChannelType,
		ChannelAddressIdentifier: env.ChannelAddressIdentifier,
		ConversationID:           env.ConversationID,
		Entry:                    entry,
		Payload:                  entry.Payload,
	}, nil
}

// EntryEvent is the event a listed entry of conversationID would have been
// on the stream, without an SSE id (and so without a cursor to resume from):
// callers handle fetched entries (Client.EntriesSince) like streamed ones.
// The event name is the one Salesforce streams for the entry type ("" for
// types it has no name for here).
func EntryEvent(conversationID string, e ConversationEntry) Event {
	return Event{Type: eventForEntry[e.EntryType], ConversationID: conversationID, Entry: e, Payload: e.Payload}
}

// decode turns a raw entry into a ConversationEntry with its typed payload.
func (re *rawEntry) decode() (ConversationEntry, error) {
	e := ConversationEntry{
		Identifier:            re.Identifier,
		EntryType:             re.EntryType,
		SenderDisplayName:     re.SenderDisplayName,
		Sender:                re.Sender,
		TranscriptedTimestamp: PlausibleMillis(re.TranscriptedTimestamp),
		ClientTimestamp:       PlausibleMillis(re.ClientTimestamp),
		ClientDuration:        re.ClientDuration,
		RelatedRecords:        re.RelatedRecords,
	}
	raw, err := payloadObject(re.EntryPayload)
	if err != nil {
		return e, err
	}
	e.RawPayload = raw
	var head struct {
		EntryType string `json:"entryType"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return e, fmt.Errorf("entryPayload: %w", err)
	}
	if e.EntryType == "" {
		e.EntryType = head.EntryType
	}
	p, err := decodePayload(e.EntryType, raw)
	if err != nil {
		return e, fmt.Errorf("entryPayload (%s): %w", e.EntryType, err)
	}
	if ack, ok := p.(*AcknowledgementPayload); ok && ack.AcknowledgedEntryID == "" && len(e.RelatedRecords) > 0 {
		ack.AcknowledgedEntryID = e.RelatedRecords[0]
	}
	e.Payload = p
	return e, nil
}

// MaxMillis is the last millisecond of year 9999 (Unix epoch ms), the
// latest instant a time.Time can encode as JSON or RFC 3339.
const MaxMillis = 253402300799999

// PlausibleMillis returns ms when it is an instant between the Unix epoch
// and MaxMillis, and 0 (unknown) otherwise.
func PlausibleMillis(ms int64) int64 {
	if ms < 0 || ms > MaxMillis {
		return 0
	}
	return ms
}

// payloadObject returns the entryPayload JSON object whether it arrived as
// an object or as a JSON string containing one.
func payloadObject(raw json.RawMessage) (json.RawMessage, error) {
	raw = json.RawMessage(bytes.TrimSpace(raw))
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, errors.New("no entryPayload")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("entryPayload string: %w", err)
		}
		raw = json.RawMessage(bytes.TrimSpace([]byte(s)))
	}
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return nil, errors.New("entryPayload is not a JSON object")
	}
	return raw, nil
}

// decodePayload decodes raw into the payload type of entryType; unmodelled
// entry types give a nil payload and no error.
func decodePayload(entryType string, raw json.RawMessage) (any, error) {
	var p any
	switch entryType {
	case EntryMessage:
		p = &MessagePayload{}
	case EntryParticipantChanged:
		p = &ParticipantChangedPayload{}
	case EntryRoutingResult:
		p = &RoutingResultPayload{}
	case EntryRoutingWorkResult:
		p = &RoutingWorkResultPayload{}
	case EntryDeliveryAck, EntryReadAck:
		p = &AcknowledgementPayload{}
	case EntryTypingStarted, EntryTypingStopped:
		p = &TypingPayload{}
	case EntryCloseConversation:
		p = &CloseConversationPayload{}
	case EntrySessionStatusChanged:
		p = &SessionStatusChangedPayload{}
	case EntryQueuePosition:
		p = &QueuePositionPayload{}
	case EntryMessageUpdated:
		p = &MessageUpdatedPayload{}
	default:
		return nil, nil
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, err
	}
	if m, ok := p.(*MessagePayload); ok {
		if err := m.fillRaw(raw); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// fillRaw keeps the raw abstractMessage for message types not modelled.
func (m *MessagePayload) fillRaw(raw json.RawMessage) error {
	var r struct {
		AbstractMessage json.RawMessage `json:"abstractMessage"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	m.AbstractMessage.Raw = r.AbstractMessage
	return nil
}

// Text returns the message text ("" for non-text content).
func (m *MessagePayload) Text() string {
	if m == nil || m.AbstractMessage.StaticContent == nil {
		return ""
	}
	return m.AbstractMessage.StaticContent.Text
}

// UnmarshalJSON accepts titleItem as a string or as {"title": "..."} (the
// exact rich-link shape is not documented).
func (l *LinkItem) UnmarshalJSON(b []byte) error {
	var raw struct {
		URL       string          `json:"url"`
		TitleItem json.RawMessage `json:"titleItem"`
		Title     string          `json:"title"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	l.URL = raw.URL
	l.TitleStr = raw.Title
	if t := bytes.TrimSpace(raw.TitleItem); len(t) > 0 {
		switch t[0] {
		case '"':
			_ = json.Unmarshal(t, &l.TitleStr)
		case '{':
			var ti struct {
				Title string `json:"title"`
			}
			if json.Unmarshal(t, &ti) == nil && ti.Title != "" {
				l.TitleStr = ti.Title
			}
		}
	}
	return nil
}
