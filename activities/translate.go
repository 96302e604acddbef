package activities

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// UnknownWait is AgentEvent.EstimatedWait when Salesforce gave no estimate.
const UnknownWait = -time.Second

// ErrMalformedEvent is wrapped by TranslateEvent for events that claim a known
// entry type but lack what that type needs (payload, entry id, ack target).
var ErrMalformedEvent = errors.New("malformed event")

// TranslateEvent turns one decoded MIAW event into the AgentEvent signalled to
// the session workflow. It does not look at the conversation id (the listener
// filters those).
//
// It returns keep=false with a short reason for events that are not for the
// workflow: the end user's own echoes (messages, typing and acknowledgements
// sent by the EndUser role), participant changes that do not add or remove an
// Agent (end user, system, bots), messages with nothing to show, and entry
// types this bridge does not model. It returns an error wrapping
// ErrMalformedEvent for events it cannot make sense of. Session status
// changes, routing results and CloseConversation are kept whoever sent them:
// they describe the conversation, not a message.
func TranslateEvent(ev miaw.Event) (ae workflows.AgentEvent, keep bool, reason string, err error) {
	entry := ev.Entry
	entryType := entry.EntryType
	if entryType == "" {
		entryType = entryTypeForEvent[ev.Type]
	}
	payload := ev.Payload
	if payload == nil {
		payload = entry.Payload
	}
	ae = workflows.AgentEvent{
		EventID:       ev.ID,
		EntryID:       firstNonEmpty(entry.Identifier, payloadID(payload)),
		At:            entryTime(entry),
		SenderName:    entry.SenderDisplayName,
		SenderRole:    entry.Sender.Role,
		EstimatedWait: UnknownWait,
	}
	if _, known := kindForEntry[entryType]; !known {
		return ae, false, "unmodelled entry type " + quoteOr(entryType, ev.Type), nil
	}
	if payload == nil {
		return ae, false, "", fmt.Errorf("%w: %s event %q has no payload", ErrMalformedEvent, entryType, ev.ID)
	}
	if ae.EntryID == "" {
		return ae, false, "", fmt.Errorf("%w: %s event %q has no entry id", ErrMalformedEvent, entryType, ev.ID)
	}
	if echoEntryTypes[entryType] && entry.Sender.Role == miaw.RoleEndUser {
		return ae, false, "echo of the end user's own " + entryType, nil
	}
	ae.Kind = kindForEntry[entryType]

	switch p := deref(payload).(type) {
	case miaw.MessagePayload:
		return translateMessage(ae, p)
	case miaw.ParticipantChangedPayload:
		return translateParticipants(ae, p)
	case miaw.RoutingResultPayload:
		ae.RoutingType = p.RoutingType
		ae.FailureType = p.FailureType
		ae.Text = p.FailureReason
		if w := p.EstimatedWaitTime; w != nil && (w.EstimatedWaitTimeInSeconds > 0 || (w.EstimatedWaitTimeInSeconds == 0 && w.IsEWTRequested)) {
			ae.EstimatedWait = time.Duration(w.EstimatedWaitTimeInSeconds) * time.Second
		}
	case miaw.RoutingWorkResultPayload:
		ae.WorkType = p.WorkType
	case miaw.QueuePositionPayload:
		ae.QueuePosition = p.Position
	case miaw.SessionStatusChangedPayload:
		ae.SessionStatus = p.SessionStatus
	case miaw.TypingPayload:
		// Kind (started/stopped) comes from the entry type.
	case miaw.AcknowledgementPayload:
		ae.AckedEntryID = p.AcknowledgedEntryID
		if ae.AckedEntryID == "" && len(entry.RelatedRecords) > 0 {
			ae.AckedEntryID = entry.RelatedRecords[0]
		}
		if ae.AckedEntryID == "" {
			return ae, false, "", fmt.Errorf("%w: %s event %q does not say which entry it acknowledges", ErrMalformedEvent, entryType, ev.ID)
		}
	case miaw.CloseConversationPayload:
	case miaw.MessageUpdatedPayload:
		return translateMessageUpdated(ae, p)
	default:
		return ae, false, "", fmt.Errorf("%w: %s event %q has a %T payload", ErrMalformedEvent, entryType, ev.ID, payload)
	}
	if !payloadMatches(entryType, payload) {
		return ae, false, "", fmt.Errorf("%w: %s event %q has a %T payload", ErrMalformedEvent, entryType, ev.ID, payload)
	}
	return ae, true, "", nil
}

func translateMessage(ae workflows.AgentEvent, p miaw.MessagePayload) (workflows.AgentEvent, bool, string, error) {
	am := p.AbstractMessage
	sc := am.StaticContent
	switch {
	case am.MessageType == miaw.MessageTypeChoices || am.MessageType == miaw.MessageTypeForm:
		return translateRich(ae, am), true, "", nil
	case sc == nil:
		return unsupportedContent(ae, quoteOr(am.MessageType, "(none)")), true, "", nil
	case sc.FormatType == miaw.FormatWebView:
		return translateRich(ae, am), true, "", nil
	case !knownStaticFormats[sc.FormatType]:
		return unsupportedContent(ae, am.MessageType+"/"+quoteOr(sc.FormatType, "(none)")), true, "", nil
	}
	ae.Text = sc.Text
	switch sc.FormatType {
	case miaw.FormatRichLink:
		link := workflows.Link{URL: sc.URL, Title: sc.Title}
		if sc.LinkItem != nil {
			link.URL = firstNonEmpty(link.URL, sc.LinkItem.URL)
			link.Title = firstNonEmpty(link.Title, sc.LinkItem.TitleStr)
		}
		// Only absolute http(s) links reach the user's UI: a javascript:
		// or data: URL would run in it.
		if safeLinkURL(link.URL) {
			ae.Link = &link
		}
	case miaw.FormatAttachments:
		for _, att := range sc.Attachments {
			if att.URL == "" {
				continue
			}
			ae.Attachments = append(ae.Attachments, workflows.AgentAttachment{
				ID: att.ID, Name: att.Name, MimeType: att.MimeType, URL: att.URL,
			})
		}
	}
	if ae.Text == "" && ae.Link == nil && len(ae.Attachments) == 0 {
		return ae, false, "message with nothing to show (format " + quoteOr(sc.FormatType, "(none)") + ")", nil
	}
	return ae, true, "", nil
}

// translateMessageUpdated keeps a MessageUpdated that reports failed
// uploads of the user's files (whoever Salesforce names as its sender: the
// updated message is the user's own); other updates are not for the
// workflow.
func translateMessageUpdated(ae workflows.AgentEvent, p miaw.MessageUpdatedPayload) (workflows.AgentEvent, bool, string, error) {
	failed := p.FailedUploads()
	if len(failed) == 0 {
		return ae, false, "message update without a failed upload", nil
	}
	if p.AbstractMessage.ID == "" {
		return ae, false, "", fmt.Errorf("%w: MessageUpdated %q does not say which message it updates", ErrMalformedEvent, ae.EntryID)
	}
	for _, a := range failed {
		ae.FailedUploads = append(ae.FailedUploads, workflows.FailedUpload{
			MessageID: p.AbstractMessage.ID, FileName: a.Name, ErrorType: firstNonEmpty(a.UploadResult.ErrorType, "Unknown"),
		})
	}
	return ae, true, "", nil
}

func translateParticipants(ae workflows.AgentEvent, p miaw.ParticipantChangedPayload) (workflows.AgentEvent, bool, string, error) {
	// Several entries may arrive in one event; an added agent wins over a
	// removed one (the net effect of a transfer is an agent present).
	var added, removed *miaw.ParticipantEntry
	for i := range p.Entries {
		e := &p.Entries[i]
		if e.Participant.Role != miaw.RoleAgent {
			continue
		}
		switch e.Operation {
		case "add", "Add", "ADD":
			added = e
		case "remove", "Remove", "REMOVE":
			if removed == nil {
				removed = e
			}
		}
	}
	switch {
	case added != nil:
		ae.Kind = workflows.AgentJoined
		ae.SenderName, ae.SenderRole = added.DisplayName, added.Participant.Role
	case removed != nil:
		ae.Kind = workflows.AgentLeft
		ae.SenderName, ae.SenderRole = removed.DisplayName, removed.Participant.Role
	default:
		return ae, false, "participant change without an agent", nil
	}
	return ae, true, "", nil
}

var kindForEntry = map[string]workflows.AgentEventKind{
	miaw.EntryMessage:              workflows.AgentMessage,
	miaw.EntryParticipantChanged:   workflows.AgentJoined, // refined by translateParticipants
	miaw.EntryRoutingResult:        workflows.AgentRoutingResult,
	miaw.EntryRoutingWorkResult:    workflows.AgentWorkResult,
	miaw.EntryQueuePosition:        workflows.AgentQueuePosition,
	miaw.EntrySessionStatusChanged: workflows.AgentSessionStatus,
	miaw.EntryTypingStarted:        workflows.AgentTypingStarted,
	miaw.EntryTypingStopped:        workflows.AgentTypingStopped,
	miaw.EntryCloseConversation:    workflows.AgentConversationShut,
	miaw.EntryReadAck:              workflows.AgentReadAck,
	miaw.EntryDeliveryAck:          workflows.AgentDeliveryAck,
	miaw.EntryMessageUpdated:       workflows.AgentUploadFailed,
}

var entryTypeForEvent = map[string]string{
	miaw.EventMessage:              miaw.EntryMessage,
	miaw.EventParticipantChanged:   miaw.EntryParticipantChanged,
	miaw.EventRoutingResult:        miaw.EntryRoutingResult,
	miaw.EventRoutingWorkResult:    miaw.EntryRoutingWorkResult,
	miaw.EventQueuePosition:        miaw.EntryQueuePosition,
	miaw.EventSessionStatusChanged: miaw.EntrySessionStatusChanged,
	miaw.EventTypingStarted:        miaw.EntryTypingStarted,
	miaw.EventTypingStopped:        miaw.EntryTypingStopped,
	miaw.EventCloseConversation:    miaw.EntryCloseConversation,
	miaw.EventReadAck:              miaw.EntryReadAck,
	miaw.EventDeliveryAck:          miaw.EntryDeliveryAck,
	miaw.EventMessageUpdated:       miaw.EntryMessageUpdated,
}

// echoEntryTypes are the entries the end user authors; with sender role
// EndUser they are our own entries coming back on the stream.
var echoEntryTypes = map[string]bool{
	miaw.EntryMessage:       true,
	miaw.EntryTypingStarted: true,
	miaw.EntryTypingStopped: true,
	miaw.EntryReadAck:       true,
	miaw.EntryDeliveryAck:   true,
}

// payloadMatches reports whether the payload's Go type fits the entry type.
func payloadMatches(entryType string, payload any) bool {
	switch deref(payload).(type) {
	case miaw.MessagePayload:
		return entryType == miaw.EntryMessage
	case miaw.ParticipantChangedPayload:
		return entryType == miaw.EntryParticipantChanged
	case miaw.RoutingResultPayload:
		return entryType == miaw.EntryRoutingResult
	case miaw.RoutingWorkResultPayload:
		return entryType == miaw.EntryRoutingWorkResult
	case miaw.QueuePositionPayload:
		return entryType == miaw.EntryQueuePosition
	case miaw.SessionStatusChangedPayload:
		return entryType == miaw.EntrySessionStatusChanged
	case miaw.TypingPayload:
		return entryType == miaw.EntryTypingStarted || entryType == miaw.EntryTypingStopped
	case miaw.AcknowledgementPayload:
		return entryType == miaw.EntryReadAck || entryType == miaw.EntryDeliveryAck
	case miaw.CloseConversationPayload:
		return entryType == miaw.EntryCloseConversation
	case miaw.MessageUpdatedPayload:
		return entryType == miaw.EntryMessageUpdated
	}
	return false
}

// deref turns the pointer payloads the decoder produces into values, so one
// type switch handles both.
func deref(p any) any {
	switch v := p.(type) {
	case *miaw.MessagePayload:
		return derefOr(v)
	case *miaw.ParticipantChangedPayload:
		return derefOr(v)
	case *miaw.RoutingResultPayload:
		return derefOr(v)
	case *miaw.RoutingWorkResultPayload:
		return derefOr(v)
	case *miaw.QueuePositionPayload:
		return derefOr(v)
	case *miaw.SessionStatusChangedPayload:
		return derefOr(v)
	case *miaw.TypingPayload:
		return derefOr(v)
	case *miaw.AcknowledgementPayload:
		return derefOr(v)
	case *miaw.CloseConversationPayload:
		return derefOr(v)
	case *miaw.MessageUpdatedPayload:
		return derefOr(v)
	}
	return p
}

func derefOr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func payloadID(p any) string {
	switch v := deref(p).(type) {
	case miaw.MessagePayload:
		return v.ID
	case miaw.ParticipantChangedPayload:
		return v.ID
	case miaw.RoutingResultPayload:
		return v.ID
	case miaw.RoutingWorkResultPayload:
		return v.ID
	case miaw.QueuePositionPayload:
		return v.ID
	case miaw.SessionStatusChangedPayload:
		return v.ID
	case miaw.TypingPayload:
		return v.ID
	case miaw.AcknowledgementPayload:
		return v.ID
	case miaw.CloseConversationPayload:
		return v.ID
	case miaw.MessageUpdatedPayload:
		return v.ID
	}
	return ""
}

// entryTime is when the entry was transcribed, else sent; zero when neither
// is a plausible instant (miaw.PlausibleMillis), so the event always encodes.
func entryTime(e miaw.ConversationEntry) time.Time {
	ms := miaw.PlausibleMillis(e.TranscriptedTimestamp)
	if ms <= 0 {
		ms = miaw.PlausibleMillis(e.ClientTimestamp)
	}
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// safeLinkURL reports whether raw is an absolute http or https URL with a
// host.
func safeLinkURL(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return false
	}
	return strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
}

func quoteOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return fmt.Sprintf("%q", s)
}
