package workflows

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
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
		s.onAgentLeft(ctx, ev)
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
		s.end(ctx, CloseAgentEnded)
	case AgentListenerFailed:
		s.listenerFailure = temporal.NewApplicationError("listener shard: "+ev.Text, errTypeListenerFailed)
	case AgentReadAck, AgentDeliveryAck:
		s.onAgentReceipt(ctx, ev)
	case AgentUploadFailed:
		s.onUploadFailed(ctx, ev)
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

// accept moves a waiting session to active: greet the user (or, after a
// failed transfer, name the new agent), then let the sender flush the
// messages kept while waiting, in order. A routing failure reported before
// the accept no longer ends the session.
func (s *session) accept(ctx workflow.Context, ev AgentEvent) {
	if !s.phase.waitingForAgent() {
		return
	}
	requeued := s.phase == phaseRequeued
	s.moveTo(ctx, phaseGreeting)
	if s.ending == CloseRoutingFailed {
		s.ending = ""
	}
	s.transferTimedOut = false
	s.inactive = false
	recordAcceptLatency(ctx, s.waitingSince)
	if s.acceptedAt.IsZero() {
		s.acceptedAt = workflow.Now(ctx)
	}
	s.queuePosition = 0
	s.estimatedWait = -1
	s.logger.Info("Agent accepted", "agent", s.agentName, "trigger", ev.Kind)
	if requeued {
		s.rejoin(ctx, ev)
		return
	}
	if s.activeBeforeGreeting(ctx) {
		s.moveTo(ctx, phaseActive)
		s.greet(ctx)
		return
	}
	s.greet(ctx) // legacy: user input during the greeting was kept, not sent
	s.moveTo(ctx, phaseActive)
}

// greet shows the configured greeting; an empty one shows none.
func (s *session) greet(ctx workflow.Context) {
	greeting := s.req.Settings.Greeting
	if greeting == "" {
		if s.tellsFailurePaths(ctx) {
			return
		}
		greeting = defaultGreeting // legacy
	}
	s.notifyWith(ctx, "greeting", Delivery{Text: greeting, SenderName: s.agentName})
}

// rejoin makes a requeued session active again. An agent already named is
// announced now; otherwise the session counts as transferring, so the
// agent's join event announces them.
func (s *session) rejoin(ctx workflow.Context, ev AgentEvent) {
	if s.agentName == "" {
		s.moveTo(ctx, phaseTransferring)
		return
	}
	s.moveTo(ctx, phaseActive)
	s.notifyWith(ctx, "joined/"+s.eventKey(ev), Delivery{
		Text:       s.req.Settings.agentJoinedText(s.agentName),
		SenderName: s.agentName,
	})
}

// heardFromRouting notes that routing answered (a result, a queue position,
// a status): the no-routing-result deadline no longer applies.
func (s *session) heardFromRouting(ctx workflow.Context) {
	if s.phase == phaseWaiting {
		s.moveTo(ctx, phaseQueued)
	}
}

func (s *session) onAgentJoined(ctx workflow.Context, ev AgentEvent) {
	previous := s.agentName
	if ev.SenderName != "" {
		s.agentName = ev.SenderName
	}
	if !s.phase.accepted() {
		s.accept(ctx, ev)
		return
	}
	if s.phase == phaseTransferring || (previous != "" && previous != s.agentName) {
		s.moveTo(ctx, phaseActive)
		s.notifyWith(ctx, "joined/"+s.eventKey(ev), Delivery{
			Text:       s.req.Settings.agentJoinedText(s.agentName),
			SenderName: s.agentName,
		})
	}
}

// onAgentLeft keeps the session open: an agent leaving is either a transfer
// (a new agent joins next) or the end (a SessionStatus Ended follows).
func (s *session) onAgentLeft(ctx workflow.Context, ev AgentEvent) {
	if s.agentName == ev.SenderName || ev.SenderName == "" {
		s.agentName = ""
	}
	if s.phase.accepted() {
		s.moveTo(ctx, phaseTransferring)
	}
}

func (s *session) onRoutingResult(ctx workflow.Context, ev AgentEvent) {
	s.heardFromRouting(ctx)
	if ev.FailureType != "" && !strings.EqualFold(ev.FailureType, "None") {
		if s.phase == phaseRequeued && s.transferTimedOut {
			// Salesforce's late word on a transfer requeued for want of an
			// agent: the user was told and waits already.
			s.logger.Warn("Transfer failed after its timeout; still waiting", "failureType", ev.FailureType)
			return
		}
		if !s.phase.accepted() {
			s.end(ctx, CloseRoutingFailed)
			return
		}
		s.transferFailed(ctx, ev, ev.FailureType)
		return
	}
	if strings.EqualFold(ev.RoutingType, "Transfer") {
		s.startTransfer(ctx, ev)
		return
	}
	if !s.phase.accepted() && ev.EstimatedWait > 0 {
		s.estimatedWait = ev.EstimatedWait
		s.notifyWith(ctx, "wait/"+s.eventKey(ev), Delivery{
			Text:          s.req.Settings.waitText(ev.EstimatedWait),
			EstimatedWait: ev.EstimatedWait,
			QueuePosition: s.queuePosition,
		})
	}
}

// startTransfer tells the user once per transfer that another agent comes.
func (s *session) startTransfer(ctx workflow.Context, ev AgentEvent) {
	if !s.phase.accepted() {
		return
	}
	s.logger.Info("Transfer to another agent", "from", s.agentName)
	s.moveTo(ctx, phaseTransferring)
	s.notify(ctx, "transfer/"+s.eventKey(ev), orDefault(s.req.Settings.TransferMessage, transferMessage))
}

// transferFailed puts the user back in the queue after a transfer found no
// agent: they are told, and the accept timeout runs again.
func (s *session) transferFailed(ctx workflow.Context, ev AgentEvent, failure string) {
	if !s.phase.accepted() {
		return
	}
	if !s.tellsFailurePaths(ctx) {
		s.logger.Warn("Transfer routing failed", "failureType", failure) // legacy: logged only
		return
	}
	s.requeue(ctx, "transfer-failed/"+s.eventKey(ev), failure)
}

// requeue puts the user back in the queue after a transfer found no agent
// (failure says how): they are told (the notice's key is key), and the
// accept timeout runs again.
func (s *session) requeue(ctx workflow.Context, key, failure string) {
	s.logger.Warn("Transfer failed; the user waits for another agent", "failure", failure, "from", s.agentName)
	s.agentName = ""
	s.waitingSince = workflow.Now(ctx)
	s.moveTo(ctx, phaseRequeued)
	s.notify(ctx, key, orDefault(s.req.Settings.TransferFailedMessage, transferFailedMessage))
}

func (s *session) onWorkResult(ctx workflow.Context, ev AgentEvent) {
	s.heardFromRouting(ctx)
	switch {
	case strings.EqualFold(ev.WorkType, "Accepted"):
		s.accept(ctx, ev)
	case strings.EqualFold(ev.WorkType, "Transferred"):
		s.startTransfer(ctx, ev)
	case strings.EqualFold(ev.WorkType, "TransferError"):
		s.transferFailed(ctx, ev, ev.WorkType)
	}
}

func (s *session) onQueuePosition(ctx workflow.Context, ev AgentEvent) {
	s.heardFromRouting(ctx)
	if s.phase.accepted() || ev.QueuePosition <= 0 || ev.QueuePosition == s.queuePosition {
		return
	}
	s.queuePosition = ev.QueuePosition
	s.notifyWith(ctx, "queue/"+s.eventKey(ev), Delivery{
		Text:          s.req.Settings.queuePositionText(ev.QueuePosition),
		QueuePosition: ev.QueuePosition,
		EstimatedWait: s.estimatedWait,
	})
}

func (s *session) onSessionStatus(ctx workflow.Context, ev AgentEvent) {
	switch {
	case strings.EqualFold(ev.SessionStatus, "Active"):
		s.inactive = false
		s.accept(ctx, ev)
	case strings.EqualFold(ev.SessionStatus, "Ended"), strings.EqualFold(ev.SessionStatus, "Closed"):
		s.end(ctx, CloseAgentEnded)
	case strings.EqualFold(ev.SessionStatus, "Waiting"):
		s.heardFromRouting(ctx)
	case strings.EqualFold(ev.SessionStatus, "Inactive"):
		// Salesforce keeps an inactive session resumable: the user's next
		// message revives it, so the session stays open. Salesforce ends
		// it if nobody writes (see end).
		if !s.phase.accepted() {
			return
		}
		s.inactive = true
		if s.tellsFailurePaths(ctx) {
			s.notify(ctx, "inactive/"+s.eventKey(ev), orDefault(s.req.Settings.InactiveMessage, inactiveMessage))
		}
	}
}

func (s *session) onTyping(ctx workflow.Context, ev AgentEvent) {
	if !s.showsAgentTyping() {
		return
	}
	_ = s.deliver(ctx, s.typingDelivery(ev, workflow.Now(ctx)))
}

// showsAgentTyping reports whether the user is shown the agent's typing:
// only once an agent accepted, and not while the session ends.
func (s *session) showsAgentTyping() bool { return s.phase.accepted() && s.ending == "" }

// typingDelivery is the delivery of the agent typing event ev at at; a zero
// at leaves At and ExpiresAt to the listener (listenerdelivery.go).
func (s *session) typingDelivery(ev AgentEvent, at time.Time) Delivery {
	d := Delivery{
		ID:         "typing/" + s.eventKey(ev),
		Kind:       DeliverTyping,
		At:         at,
		SenderName: orDefault(ev.SenderName, s.agentName),
		Typing:     ev.Kind == AgentTypingStarted,
	}
	if d.Typing && !at.IsZero() {
		// Salesforce may never send "stopped": the assistant stops showing
		// the indicator at ExpiresAt unless another typing delivery comes.
		d.ExpiresAt = at.Add(s.agentTypingExpiry())
	}
	return d
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
	s.wrote(ctx)
	if ev.Text != "" || ev.Link != nil {
		choices, form, webView := s.richFields(ctx, ev)
		s.addTranscript(TranscriptEntry{ID: key, At: at, From: FromAgent, SenderName: sender, Text: ev.Text, Link: ev.Link,
			Choices: choices, Form: form, WebView: webView})
		_ = s.deliver(ctx, Delivery{
			ID: key, Kind: DeliverAgentMessage, At: at, SenderName: sender, Text: ev.Text, Link: ev.Link,
			Choices: choices, Form: form, WebView: webView,
		})
	}
	for i, a := range ev.Attachments {
		id := fmt.Sprintf("%s/attachment/%d", key, i)
		ref, err := s.downloadAttachment(ctx, ev.EntryID, a)
		if err != nil {
			s.logger.Error("Agent attachment download failed", "entryID", ev.EntryID, "attachmentID", a.ID, "error", err)
			s.notify(ctx, id, fileText(s.req.Settings.AttachmentFailedMessage, attachmentFailedFormat, a.Name))
			continue
		}
		s.addTranscript(TranscriptEntry{ID: id, At: at, From: FromAgent, SenderName: sender, Attachment: &ref})
		_ = s.deliver(ctx, Delivery{
			ID: id, Kind: DeliverAgentMessage, At: at, SenderName: sender, Attachment: &ref,
		})
	}
}

// handleEvents handles every agent event already buffered, then delivers
// the receipts among them as one. Reading only with ReceiveAsync (never a
// blocking Receive) keeps undelivered signals in the channel, where Len()
// sees them before continue-as-new.
func (s *session) handleEvents(ctx workflow.Context) {
	for {
		var ev AgentEvent
		if !s.events.ReceiveAsync(&ev) {
			s.flushReceipts(ctx)
			return
		}
		s.handleAgentEvent(ctx, ev)
	}
}

// dropLateEvents reads the agent events that arrived after the session
// ended (typically Salesforce's own end and close notifications): the chat
// is over and the user was told, so they are logged, not delivered. Reading
// them records no command, so it is replay-safe.
func (s *session) dropLateEvents() {
	var kinds []AgentEventKind
	for {
		var ev AgentEvent
		if !s.events.ReceiveAsync(&ev) {
			break
		}
		kinds = append(kinds, ev.Kind)
	}
	if len(kinds) > 0 {
		s.logger.Info("Agent events after the session ended were not delivered", "count", len(kinds), "kinds", kinds)
	}
}
