package workflows

import (
	"fmt"
	"strconv"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// handleAgentEvent applies one listener signal. Entries already handled (a
// resumed stream or a retried listener re-signals them) are dropped here, so
// the user never sees one twice.
func (s *session) handleAgentEvent(ctx workflow.Context, ev AgentEvent) {
	if ev.EventID != "" {
		s.lastEventID = ev.EventID
	}
	if ev.EntryID != "" {
		if s.seenEntries.has(ev.EntryID) {
			s.logger.Debug("Duplicate agent event dropped", "entryID", ev.EntryID, "kind", ev.Kind)
			countDuplicateEventDropped(ctx)
			return
		}
		s.seenEntries.add(ev.EntryID)
	}
	s.handledEvents++
	s.logger.Debug("Agent event", "entryID", ev.EntryID, "eventID", ev.EventID, "kind", ev.Kind)

	switch ev.Kind {
	case AgentMessage:
		s.onAgentMessage(ctx, ev)
	case AgentJoined:
		s.onAgentJoined(ctx, ev)
	case AgentLeft:
		s.onAgentLeft(ev)
	case AgentRoutingResult:
		s.onRoutingResult(ctx, ev)
	case AgentWorkResult:
		s.onWorkResult(ctx, ev)
	case AgentQueuePosition:
		s.onQueuePosition(ctx, ev)
	case AgentSessionStatus:
		s.onSessionStatus(ctx, ev)
	case AgentTypingStarted, AgentTypingStopped:
		s.onTyping(ctx, ev)
	case AgentConversationShut:
		s.agentEnded = true
	case AgentReadAck, AgentDeliveryAck:
		// Receipts are not shown to the user; they only prove the agent side works.
	default:
		s.logger.Warn("Unknown agent event kind skipped", "kind", ev.Kind, "entryID", ev.EntryID)
	}
	s.refreshDetails(ctx)
}

// eventKey identifies an event in workflow-made ids: its entry id, else its
// SSE id, else its position in this run.
func (s *session) eventKey(ev AgentEvent) string {
	switch {
	case ev.EntryID != "":
		return ev.EntryID
	case ev.EventID != "":
		return "event-" + ev.EventID
	default:
		return "run-event-" + strconv.Itoa(s.handledEvents)
	}
}

// accept moves the session to active once: greet the user, then let the
// sender flush the messages kept while waiting, in order.
func (s *session) accept(ctx workflow.Context, ev AgentEvent) {
	if s.accepted {
		return
	}
	s.accepted = true
	recordAcceptLatency(ctx, s.waitingSince)
	s.queuePosition = 0
	s.estimatedWait = -1
	s.logger.Info("Agent accepted", "agent", s.agentName, "trigger", ev.Kind)
	s.notifyWith(ctx, "greeting", Delivery{
		Text:       orDefault(s.req.Settings.Greeting, defaultGreeting),
		SenderName: s.agentName,
	})
	s.setState(ctx, StateActive)
}

func (s *session) onAgentJoined(ctx workflow.Context, ev AgentEvent) {
	previous := s.agentName
	if ev.SenderName != "" {
		s.agentName = ev.SenderName
	}
	if !s.accepted {
		s.accept(ctx, ev)
		return
	}
	if s.transferring || (previous != "" && previous != s.agentName) {
		s.transferring = false
		s.notifyWith(ctx, "joined/"+s.eventKey(ev), Delivery{
			Text:       fmt.Sprintf(agentJoinedFormat, orDefault(s.agentName, "another agent")),
			SenderName: s.agentName,
		})
	}
}

// onAgentLeft keeps the session open: an agent leaving is either a transfer
// (a new agent joins next) or the end (a SessionStatus Ended follows).
func (s *session) onAgentLeft(ev AgentEvent) {
	if s.agentName == ev.SenderName || ev.SenderName == "" {
		s.agentName = ""
	}
	if s.accepted {
		s.transferring = true
	}
}

func (s *session) onRoutingResult(ctx workflow.Context, ev AgentEvent) {
	if ev.FailureType != "" && !strings.EqualFold(ev.FailureType, "None") {
		if !s.accepted {
			s.routingFailed = true
			return
		}
		s.logger.Warn("Transfer routing failed", "failureType", ev.FailureType)
		return
	}
	if strings.EqualFold(ev.RoutingType, "Transfer") {
		s.startTransfer(ctx, ev)
		return
	}
	if !s.accepted && ev.EstimatedWait > 0 {
		s.estimatedWait = ev.EstimatedWait
		s.notifyWith(ctx, "wait/"+s.eventKey(ev), Delivery{
			Text:          estimatedWaitText(ev.EstimatedWait),
			EstimatedWait: ev.EstimatedWait,
			QueuePosition: s.queuePosition,
		})
	}
}

// startTransfer tells the user once per transfer that another agent comes.
func (s *session) startTransfer(ctx workflow.Context, ev AgentEvent) {
	if !s.accepted {
		return
	}
	s.logger.Info("Transfer to another agent", "from", s.agentName)
	s.transferring = true
	s.notify(ctx, "transfer/"+s.eventKey(ev), transferMessage)
}

func (s *session) onWorkResult(ctx workflow.Context, ev AgentEvent) {
	switch {
	case strings.EqualFold(ev.WorkType, "Accepted"):
		s.accept(ctx, ev)
	case strings.EqualFold(ev.WorkType, "Transferred"):
		s.startTransfer(ctx, ev)
	}
}

func (s *session) onQueuePosition(ctx workflow.Context, ev AgentEvent) {
	if s.accepted || ev.QueuePosition <= 0 || ev.QueuePosition == s.queuePosition {
		return
	}
	s.queuePosition = ev.QueuePosition
	s.notifyWith(ctx, "queue/"+s.eventKey(ev), Delivery{
		Text:          fmt.Sprintf(queuePositionFormat, ev.QueuePosition),
		QueuePosition: ev.QueuePosition,
		EstimatedWait: s.estimatedWait,
	})
}

func (s *session) onSessionStatus(ctx workflow.Context, ev AgentEvent) {
	switch {
	case strings.EqualFold(ev.SessionStatus, "Active"):
		s.accept(ctx, ev)
	case strings.EqualFold(ev.SessionStatus, "Ended"), strings.EqualFold(ev.SessionStatus, "Closed"):
		s.agentEnded = true
	}
}

func (s *session) onTyping(ctx workflow.Context, ev AgentEvent) {
	if !s.accepted || s.agentEnded {
		return
	}
	_ = s.deliver(ctx, Delivery{
		ID:         "typing/" + s.eventKey(ev),
		Kind:       DeliverTyping,
		SenderName: orDefault(ev.SenderName, s.agentName),
		Typing:     ev.Kind == AgentTypingStarted,
	})
}

// onAgentMessage delivers text/link, then each attachment: downloaded into
// the attachment store by an activity and delivered as a reference.
func (s *session) onAgentMessage(ctx workflow.Context, ev AgentEvent) {
	key := s.eventKey(ev)
	at := ev.At
	if at.IsZero() {
		at = workflow.Now(ctx)
	}
	sender := orDefault(ev.SenderName, s.agentName)
	if ev.Text != "" || ev.Link != nil {
		s.addTranscript(TranscriptEntry{ID: key, At: at, From: FromAgent, SenderName: sender, Text: ev.Text, Link: ev.Link})
		_ = s.deliver(ctx, Delivery{
			ID: key, Kind: DeliverAgentMessage, At: at, SenderName: sender, Text: ev.Text, Link: ev.Link,
		})
	}
	for i, a := range ev.Attachments {
		id := fmt.Sprintf("%s/attachment/%d", key, i)
		var ref AttachmentRef
		err := workflow.ExecuteActivity(downloadOptions(ctx), ActivityDownloadAttachment, DownloadInput{
			UserID:         s.req.UserID,
			ConversationID: s.conversationID,
			EntryID:        ev.EntryID,
			Attachment:     a,
			MaxSize:        s.req.Settings.MaxAttachmentBytes,
		}).Get(ctx, &ref)
		if err != nil {
			s.logger.Error("Agent attachment download failed", "entryID", ev.EntryID, "attachmentID", a.ID, "error", err)
			s.notify(ctx, id, fmt.Sprintf(attachmentFailedFormat, a.Name))
			continue
		}
		s.addTranscript(TranscriptEntry{ID: id, At: at, From: FromAgent, SenderName: sender, Attachment: &ref})
		_ = s.deliver(ctx, Delivery{
			ID: id, Kind: DeliverAgentMessage, At: at, SenderName: sender, Attachment: &ref,
		})
	}
}
