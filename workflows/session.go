package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// minAcceptWait is the shortest accept timer a continued run starts, so a run
// that resumes just before the deadline still waits a moment for an accept
// that is already on its way.
const minAcceptWait = time.Second

// SessionWorkflow is one live-agent session, registered as WorkflowName:
// validate → record the stream position → create the conversation with the
// routing attributes → send the description → wait for an agent (durable
// timer) → greet → broker both ways until either side closes → always end
// and close the Salesforce side. A run whose history grows large hands the
// session to a new run instead (continue-as-new).
func SessionWorkflow(ctx workflow.Context, in SessionInput) (SessionResult, error) {
	if err := validateRequest(in.Request); err != nil {
		return SessionResult{}, temporal.NewNonRetryableApplicationError(
			"invalid session request: "+err.Error(), ErrTypeInvalidRequest, nil)
	}
	s := newSession(ctx, in)
	if err := s.registerHandlers(ctx); err != nil {
		return SessionResult{}, fmt.Errorf("register handlers: %w", err)
	}
	s.upsertSearchAttributes(ctx)
	s.refreshDetails(ctx)
	s.startSender(ctx)

	x := s.live(ctx)
	if x.continueAsNew {
		if x = s.handOver(ctx); x.continueAsNew {
			return SessionResult{}, s.continueAsNew(ctx)
		}
	}
	s.shutdown(ctx, x.reason)
	if !s.surveyUntil.IsZero() {
		s.awaitSurvey(ctx, s.surveyUntil)
	}
	return s.result(), x.err
}

// exit is how a run leaves the live session: it closes for reason (err is
// the failure or cancellation behind CloseFailed and CloseCancelled), or it
// continues as new.
type exit struct {
	reason        CloseReason
	err           error
	continueAsNew bool
}

// failed is the exit for err: cancelled if the workflow was, else failed.
func (s *session) failed(ctx workflow.Context, err error) exit {
	if ctx.Err() != nil {
		return exit{reason: CloseCancelled, err: ctx.Err()}
	}
	s.logger.Error("Session failed", "error", err)
	return exit{reason: CloseFailed, err: fmt.Errorf("live-agent session: %w", err)}
}

func newSession(ctx workflow.Context, in SessionInput) *session {
	info := workflow.GetInfo(ctx)
	s := &session{
		req:                in.Request,
		workflowID:         info.WorkflowExecution.ID,
		continueAsNewAfter: in.ContinueAsNewAfterEvents,
		startedAt:          workflow.Now(ctx),
		estimatedWait:      -1,
		seenEntries:        newBoundedSet(maxSeenIDs, nil),
		seenUserMessages:   newBoundedSet(maxSeenIDs, nil),
		sentEntryIDs:       map[string]string{},
		events:             workflow.GetSignalChannel(ctx, SignalAgentEvent),
		shard:              -1,
	}
	if s.req.Locale == "" {
		s.req.Locale = s.req.Settings.DefaultLocale
	}
	if in.Carry != nil {
		s.restore(in.Carry)
	}
	s.logger = log.With(workflow.GetLogger(ctx), "user", s.req.UserID, "topic", s.req.Topic)
	if s.conversationID != "" {
		s.logger = log.With(s.logger, "conversationID", s.conversationID)
	}
	return s
}

// live runs the session from where this run took it over (routing on a
// fresh start, waiting or active after continue-as-new) until it should
// close or continue as new. A failed transfer sends it back to waiting.
func (s *session) live(ctx workflow.Context) exit {
	if s.phase == phaseNew {
		if err := s.open(ctx); err != nil {
			if s.refused(ctx, err) {
				return exit{reason: CloseRefused}
			}
			return s.failed(ctx, err)
		}
	}
	s.startListener(ctx)
	for {
		if s.phase.waitingForAgent() {
			if x, over := s.waitForAgent(ctx); over {
				return x
			}
		}
		if x, over := s.broker(ctx); over {
			return x
		}
	}
}

// refused reports whether err is Salesforce refusing for good to create the
// conversation (legacy sessions fail instead).
func (s *session) refused(ctx workflow.Context, err error) bool {
	var activityErr *temporal.ActivityError
	var appErr *temporal.ApplicationError
	if !errors.As(err, &activityErr) || activityErr.ActivityType().GetName() != ActivityCreateConversation ||
		!errors.As(err, &appErr) || appErr.Type() != ErrTypeSalesforcePermanent || !s.tellsFailurePaths(ctx) {
		return false
	}
	s.logger.Warn("Salesforce refused the conversation", "error", err)
	return true
}

// open creates the Salesforce conversation and sends the description (with
// the assistant's summary) as the first message, so routing starts with the
// user's problem in view, then hands over the assistant's conversation when
// there is one: loaded into the agent's console where the deployment allows
// it, else attached as a file. The session is then waiting.
func (s *session) open(ctx workflow.Context) error {
	id, err := newConversationID(ctx)
	if err != nil {
		return err
	}
	s.conversationID = id
	s.logger = log.With(s.logger, "conversationID", id)
	s.upsertSearchAttributes(ctx)

	position, err := s.recordStreamPosition(ctx)
	if err != nil {
		return fmt.Errorf("stream position: %w", err)
	}

	s.moveTo(ctx, phaseCreating)
	created, err := s.createConversation(ctx)
	if err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	s.lastEventID = firstListenerPosition(position, created)

	text := FirstMessage(s.req)
	s.addTranscript(TranscriptEntry{ID: descriptionMessageID, At: workflow.Now(ctx), From: FromUser, Text: text})
	sent, err := s.sendMessage(ctx, "send description", descriptionMessageID, text, nil)
	if err != nil {
		return fmt.Errorf("send description: %w", err)
	}
	s.sentEntryIDs[descriptionMessageID] = sent.EntryID
	if s.req.History != nil && !s.importHistory(ctx) {
		s.attachHistory(ctx)
	}

	s.waitingSince = workflow.Now(ctx)
	s.moveTo(ctx, phaseWaiting)
	s.logger.Info("Conversation created; waiting for an agent")
	return nil
}

// waitForAgent waits for an agent to accept (accept, in events.go, greets
// the user and makes the session active), at most until the accept timeout
// runs out or, earlier, live agents go offline or routing stays silent too
// long. It reports over when the run leaves the live session instead.
func (s *session) waitForAgent(ctx workflow.Context) (_ exit, over bool) {
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	deadline, reason := s.waitDeadline()
	timer := s.deadlineTimer(timerCtx, deadline, acceptTimerSummary)
	for {
		if x, over := s.step(ctx, timer); over {
			return x, true
		}
		switch {
		case s.phase.accepted():
			return exit{}, false
		case !timer.IsReady():
			continue
		case reason == CloseNoRoutingResult && (s.phase != phaseWaiting || s.routingAnsweredMeanwhile(ctx)):
			// Routing answered after all: wait on for the next deadline.
			if s.phase.accepted() {
				return exit{}, false
			}
			deadline, reason = s.waitDeadline()
			timer = s.deadlineTimer(timerCtx, deadline, acceptTimerSummary)
			continue
		}
		switch reason {
		case CloseAcceptTimeout:
			s.logger.Info("No agent accepted in time", "acceptTimeout", s.req.Settings.AcceptTimeout)
			countAcceptTimeout(ctx)
		case CloseNoRoutingResult:
			s.logger.Warn("Salesforce sent no routing result", "routingResultTimeout", s.req.Settings.RoutingResultTimeout)
			countNoRoutingResult(ctx)
		default:
			s.logger.Info("Live agents went offline while waiting", "availableUntil", s.req.AvailableUntil)
		}
		return exit{reason: reason}, true
	}
}

// waitDeadline is when waiting for an agent ends, and why: the accept
// timeout, or earlier the end of the agents' availability or, while routing
// has said nothing, the routing result timeout.
func (s *session) waitDeadline() (time.Time, CloseReason) {
	deadline, reason := s.waitingSince.Add(s.req.Settings.AcceptTimeout), CloseAcceptTimeout
	if until := s.req.AvailableUntil; !until.IsZero() && until.Before(deadline) {
		deadline, reason = until, CloseAgentsOffline
	}
	if d := s.req.Settings.RoutingResultTimeout; d > 0 && s.phase == phaseWaiting {
		if silent := s.waitingSince.Add(d); silent.Before(deadline) {
			deadline, reason = silent, CloseNoRoutingResult
		}
	}
	return deadline, reason
}

// deadlineTimer fires at deadline, or after minAcceptWait if that is
// sooner (a continued run resuming just before a deadline still waits a
// moment for an event already on its way).
func (s *session) deadlineTimer(ctx workflow.Context, deadline time.Time, summary string) workflow.Future {
	d := max(deadline.Sub(workflow.Now(ctx)), minAcceptWait)
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary})
}

// broker relays messages both ways (agent events here, user updates in
// their handlers and the sender) until either side closes, the chat stays
// idle for Settings.IdleTimeout, or a transfer that failed or found no
// agent in time (transfer.go) sends the user back to waiting (over is
// false then).
func (s *session) broker(ctx workflow.Context) (_ exit, over bool) {
	idle := newIdleWatch(ctx, s)
	defer idle.stop()
	transfer := newTransferWatch(s)
	defer transfer.stop()
	for {
		transfer.follow(ctx)
		if x, over := s.step(ctx, idle.timer, transfer.timer); over {
			return x, true
		}
		if transfer.expired() {
			s.requeueUnansweredTransfer(ctx)
		}
		if s.phase.waitingForAgent() {
			return exit{}, false
		}
		if idle.expired(ctx) {
			s.logger.Info("Chat idle; closing", "idleTimeout", s.req.Settings.IdleTimeout)
			return exit{reason: CloseIdle}, true
		}
	}
}

// step waits for something to do (an agent event, a close, the listener
// stopping, one of the timers firing, continue-as-new becoming due or
// ready), handles every buffered agent event and reports over when the run
// leaves the live session. A nil timer is none.
func (s *session) step(ctx workflow.Context, timers ...workflow.Future) (_ exit, over bool) {
	fired := func() bool {
		for _, t := range timers {
			if t != nil && t.IsReady() {
				return true
			}
		}
		return false
	}
	err := workflow.Await(ctx, func() bool {
		return s.events.Len() > 0 || s.ending != "" || s.listenerStopped() || len(s.presence.receipts) > 0 || fired() ||
			(!s.draining && s.continueAsNewWanted(ctx)) || (s.draining && s.drained(ctx))
	})
	if err != nil {
		return s.failed(ctx, err), true
	}
	s.handleEvents(ctx)

	if s.ending != "" {
		return exit{reason: s.ending}, true
	}
	if s.listenerStopped() {
		return s.failed(ctx, fmt.Errorf("listener stopped: %w", s.listenerError(ctx))), true
	}
	if !s.draining && s.continueAsNewWanted(ctx) {
		s.logger.Info("Preparing to continue as new", "historyLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
		s.draining = true
		s.refreshDetails(ctx)
	}
	if s.draining && s.drained(ctx) {
		return exit{continueAsNew: true}, true
	}
	return exit{}, false
}

// shutdown is the one cleanup path for every ending: tell the user why, end
// the Salesforce side, deliver the close, mark the session closed and let
// the listener go. It runs in a disconnected context so it also completes
// after the workflow was cancelled.
func (s *session) shutdown(ctx workflow.Context, reason CloseReason) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	s.closeReason = reason
	endSalesforceSide := s.phase.salesforceSideMayExist()
	s.moveTo(dctx, phaseClosing)
	s.failWaitingSends()
	// A send already in flight lands first: ending the Salesforce session
	// under it would make it fail with 417 although it was accepted while
	// the chat was open. (On cancellation the send is cancelled too, so this
	// does not hold it up.)
	if err := workflow.Await(dctx, func() bool { return s.outbox.inFlight == nil }); err != nil {
		s.logger.Warn("Waiting for the message in flight failed", "error", err)
	}

	if text := s.closingNotice(reason); text != "" {
		s.notify(dctx, "closing", text)
	}
	if endSalesforceSide {
		if err := s.endConversation(dctx); err != nil {
			s.logger.Error("End conversation failed", "error", err)
		}
	}
	s.stopListenerBeforeClosedNotice(dctx)
	s.surveyUntil = s.surveyDeadline(dctx, reason)
	s.summary = s.closeSummary(dctx, reason)
	s.summary.SurveyUntil = s.surveyUntil
	_ = s.deliver(dctx, Delivery{ID: s.noticeID(dctx, "closed"), Kind: DeliverClosed, State: StateClosed,
		CloseReason: reason, Summary: s.summary})
	s.moveTo(dctx, phaseClosed)
	s.releaseListener(dctx)
	countSessionClosed(dctx, reason)
	s.logger.Info("Session closed", "reason", reason)
	// Handlers woken by failWaitingSends return before the run completes.
	if err := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); err != nil {
		s.logger.Warn("Waiting for update handlers failed", "error", err)
	}
	s.dropLateEvents()
}
