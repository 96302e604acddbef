package workflows

import (
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// closingNotice is the last text the user sees for a reason.
func (s *session) closingNotice(reason CloseReason) string {
	st := s.req.Settings
	switch reason {
	case CloseAcceptTimeout:
		return orDefault(st.TimeoutMessage, defaultTimeoutMessage)
	case CloseAgentEnded:
		return orDefault(st.AgentEndedMessage, defaultAgentEndedMessage)
	case CloseAgentsOffline:
		return orDefault(st.OfflineMessage, DefaultOfflineMessage)
	case CloseRoutingFailed:
		return orDefault(st.RoutingFailedMessage, routingFailedMessage)
	case CloseNoRoutingResult:
		return orDefault(st.NoRoutingResultMessage, noRoutingResultMessage)
	case CloseRefused:
		return orDefault(st.RefusedMessage, refusedMessage)
	case CloseIdle:
		if s.endedInactive {
			return orDefault(st.InactiveEndedMessage, inactiveEndedMessage)
		}
		return orDefault(st.IdleMessage, idleMessage)
	case CloseFailed:
		return orDefault(st.FailedMessage, failedMessage)
	default: // the user closed or the session was cancelled: nothing to explain
		return ""
	}
}

func (s *session) result() SessionResult {
	return SessionResult{
		ConversationID: s.conversationID,
		CloseReason:    s.closeReason,
		Messages:       len(s.transcript),
		Summary:        s.summary,
		Survey:         s.survey,
	}
}

// closeSummary sums the session up for the closed delivery.
func (s *session) closeSummary(ctx workflow.Context, reason CloseReason) *CloseSummary {
	now := workflow.Now(ctx)
	sum := &CloseSummary{ClosedBy: ClosedBySystem, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	switch reason {
	case CloseUserClosed:
		sum.ClosedBy = ClosedByUser
	case CloseAgentEnded:
		sum.ClosedBy = ClosedByAgent
	}
	if s.acceptedAt.IsZero() {
		sum.WaitTime = now.Sub(s.startedAt)
	} else {
		sum.WaitTime = s.acceptedAt.Sub(s.startedAt)
		sum.ChatTime = now.Sub(s.acceptedAt)
		sum.AgentName = s.lastAgentName()
	}
	sum.UserMessages, sum.AgentMessages = s.countMessages()
	return sum
}

// lastAgentName is the name of the agent the user last chatted with.
func (s *session) lastAgentName() string {
	if s.agentName != "" {
		return s.agentName
	}
	for i := len(s.transcript) - 1; i >= 0; i-- {
		if e := s.transcript[i]; e.From == FromAgent && e.SenderName != "" {
			return e.SenderName
		}
	}
	return ""
}

func (s *session) routingAttributes() map[string]string {
	return map[string]string{
		s.req.Settings.RoutingUserField:  s.req.UserID,
		s.req.Settings.RoutingTopicField: s.req.Topic,
	}
}

func (s *session) upsertSearchAttributes(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchAttrState.ValueSet(string(s.state())),
		SearchAttrTopic.ValueSet(s.req.Topic),
		SearchAttrUser.ValueSet(s.req.UserID),
	}
	if s.conversationID != "" {
		updates = append(updates, SearchAttrConversationID.ValueSet(s.conversationID))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		s.logger.Warn("Upsert search attributes failed", "error", err)
	}
}

func (s *session) refreshDetails(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, s.detailsMarkdown())
}

// noticeID is the idempotency key of a workflow-made delivery: unique within
// the session and identical on replay.
func (s *session) noticeID(ctx workflow.Context, key string) string {
	base := s.conversationID
	if base == "" {
		base = s.workflowID + "/" + workflow.GetInfo(ctx).WorkflowExecution.RunID
	}
	return base + "/" + key
}

// deliver sends one thing to the user. A failed delivery is logged, not
// fatal: the session goes on and the transcript keeps the entry.
func (s *session) deliver(ctx workflow.Context, d Delivery) error {
	d = s.addressed(d)
	if d.At.IsZero() {
		d.At = workflow.Now(ctx)
	}
	err := s.deliverToUser(ctx, d)
	if err != nil {
		s.logger.Error("Delivery to the user failed", "deliveryID", d.ID, "kind", d.Kind, "error", err)
	}
	return err
}

// addressed is d for this session's user, with the session's state unless
// d names one.
func (s *session) addressed(d Delivery) Delivery {
	d.SessionID = s.workflowID
	d.UserID = s.req.UserID
	if d.State == "" {
		d.State = s.state()
	}
	return d
}

// notify shows the user a system notice and records it in the transcript.
func (s *session) notify(ctx workflow.Context, key, text string) {
	s.notifyWith(ctx, key, Delivery{Text: text})
}

// notifyWith is notify with extra Delivery fields (queue position, agent).
func (s *session) notifyWith(ctx workflow.Context, key string, d Delivery) {
	d.ID = s.noticeID(ctx, key)
	d.Kind = DeliverSystem
	d.At = workflow.Now(ctx)
	s.addTranscript(TranscriptEntry{ID: d.ID, At: d.At, From: FromSystem, SenderName: d.SenderName, Text: d.Text})
	_ = s.deliver(ctx, d)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
