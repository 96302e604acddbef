package workflows

import "go.temporal.io/sdk/workflow"

// continueAsNewWanted reports whether the SDK (or the test hook) asks for a
// new run. Attachments are not carried, so a queued one postpones it.
func (s *session) continueAsNewWanted(ctx workflow.Context) bool {
	if s.outbox.hasAttachment() {
		return false
	}
	if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
		return true
	}
	return s.continueAsNewAfter > 0 && s.handledEvents >= s.continueAsNewAfter
}

// drained reports whether nothing is in flight: no running update handler,
// no send in progress, no buffered agent event, no acknowledgement waiting.
func (s *session) drained(ctx workflow.Context) bool {
	return workflow.AllHandlersFinished(ctx) && s.outbox.inFlight == nil && s.events.Len() == 0 && s.presence.idle()
}

// handOver stops the drained run's listener and handles the events it
// signalled while stopping; one of them may end the session instead, and so
// may a cancellation.
func (s *session) handOver(ctx workflow.Context) exit {
	s.stopListener(ctx)
	s.handleEvents(ctx)
	if err := ctx.Err(); err != nil {
		return s.failed(ctx, err)
	}
	if s.ending != "" {
		return exit{reason: s.ending}
	}
	return exit{continueAsNew: true}
}

// continueAsNew hands the state to a new run (handOver stopped the
// listener). The listener of the new run resumes from LastEventID, and
// SeenEntryIDs drop any event the old listener signalled twice.
func (s *session) continueAsNew(ctx workflow.Context) error {
	s.outbox.stopped = true
	next := SessionInput{
		Request:                  s.req,
		Carry:                    s.carry(),
		ContinueAsNewAfterEvents: s.continueAsNewAfter,
	}
	s.logger.Info("Continuing as new", "lastEventID", s.lastEventID, "pending", len(next.Carry.Pending))
	return workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}
