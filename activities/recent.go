package activities

import (
	"context"

	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// RecentEvents is workflows.ActivityRecentEvents: the conversation's entries
// transcribed since in.SinceMillis, from Salesforce's entries list, each
// translated as the listener would (echoes, unmodelled entries and typing,
// which is stale by now, left out), oldest first, at most
// workflows.MaxRecentEvents (the newest). Events carry no SSE id, so they
// never move a stream cursor; their entry ids let the session drop what the
// stream delivers again.
func (a *Activities) RecentEvents(ctx context.Context, in workflows.RecentEventsInput) ([]workflows.AgentEvent, error) {
	if err := requireIDs(in.UserID, in.ConversationID); err != nil {
		return nil, err
	}
	if a.SF == nil {
		return nil, invalidInput("recent events: activities are not wired (SF is required)")
	}
	entries, err := a.SF.EntriesSince(ctx, in.UserID, in.ConversationID, in.SinceMillis)
	if err != nil {
		return nil, salesforceError(ctx, "recent events", err)
	}
	var events []workflows.AgentEvent
	for _, e := range entries {
		ae, keep, _, terr := TranslateEvent(miaw.EntryEvent(in.ConversationID, e))
		if terr != nil || !keep || ae.Kind == workflows.AgentTypingStarted || ae.Kind == workflows.AgentTypingStopped {
			continue
		}
		events = append(events, ae)
	}
	if len(events) > workflows.MaxRecentEvents {
		events = events[len(events)-workflows.MaxRecentEvents:]
	}
	return events, nil
}
