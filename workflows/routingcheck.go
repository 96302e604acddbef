package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// RecentEventsInput is the argument of ActivityRecentEvents: the agent
// events of ConversationID's entries transcribed since SinceMillis (Unix
// ms), read from Salesforce's conversation entries list rather than the
// stream, at most MaxRecentEvents of them (the newest), oldest first.
type RecentEventsInput struct {
	UserID         string
	ConversationID string
	SinceMillis    int64
}

// MaxRecentEvents bounds what ActivityRecentEvents returns.
const MaxRecentEvents = 100

// routingAnsweredMeanwhile asks Salesforce itself, before a session is
// closed for want of a routing result, whether routing answered after all:
// the listener may be the one that fell behind (its stream down through
// worker restarts), not Salesforce. Every event found is handled as if it
// had been streamed (the entry-id filter drops it when the stream delivers
// it again). It reports whether routing answered (or an agent accepted).
// Legacy runs, and runs whose check fails, give up as before.
func (s *session) routingAnsweredMeanwhile(ctx workflow.Context) bool {
	if workflow.GetVersion(ctx, changeRoutingCheck, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return false
	}
	var events []AgentEvent
	err := workflow.ExecuteActivity(salesforceOptions(ctx, "check routing"), ActivityRecentEvents, RecentEventsInput{
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		// The whole (young) conversation: routing answers the description,
		// transcribed before the session counted itself waiting.
		SinceMillis: 0,
	}).Get(ctx, &events)
	if err != nil {
		s.logger.Warn("Cannot ask Salesforce whether routing answered", "error", err)
		return false
	}
	for _, ev := range events {
		s.handleAgentEvent(ctx, ev)
	}
	answered := s.phase != phaseWaiting
	if answered {
		s.logger.Info("Routing had answered; the listener was behind", "events", len(events))
	}
	return answered
}
