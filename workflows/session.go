package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// errContinueAsNew tells SessionWorkflow that the run is drained and should
// hand over to a new run.
var errContinueAsNew = errors.New("continue as new")

// changeDeliverClosedFirst is the workflow.GetVersion change id of telling the
// user the session closed before waiting for the listener to stop.
const changeDeliverClosedFirst = "deliver-closed-before-listener-stops"

// changePositionBeforeCreate is the workflow.GetVersion change id of taking
// the stream position in its own activity before the conversation is
// created.
const changePositionBeforeCreate = "stream-position-before-create"

// changeCompleteWithoutListener is the workflow.GetVersion change id of
// completing a closed session without waiting for its listener to
// acknowledge cancellation.
const changeCompleteWithoutListener = "complete-without-waiting-for-listener"

// minAcceptWait is the shortest accept timer a continued run starts, so a run
// that resumes just before the deadline still waits a moment for an accept
// that is already on its way.
const minAcceptWait = time.Second

// SessionWorkflow is one live-agent session, registered as WorkflowName.
//
// Lifecycle: validate → record the SSE stream position → create the
// Salesforce conversation (routing attributes: user id and topic) and send
// the description as the first message → start the SSE listener from the
// recorded position → wait for an agent (durable timer of
// Settings.AcceptTimeout) → broker messages both ways until either side
// closes → always end the Salesforce session and close. Continue-as-new hands
// the state to a new run when history grows large.
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

	reason, err := s.live(ctx)
	if errors.Is(err, errContinueAsNew) {
		// Events the listener signalled while it was stopping are handled
		// here; one of them may end the session instead.
		s.stopListener(ctx)
		s.handleEvents(ctx)
		if reason, err = s.endReason(), ctx.Err(); reason == "" && err == nil {
			return SessionResult{}, s.continueAsNew(ctx)
		}
	}
	switch {
	case err != nil && ctx.Err() != nil:
		reason = CloseCancelled
		err = ctx.Err()
	case err != nil:
		reason = CloseFailed
		s.logger.Error("Session failed", "error", err)
		err = fmt.Errorf("live-agent session: %w", err)
	}
	s.shutdown(ctx, reason)
	return s.result(), err
}

func newSession(ctx workflow.Context, in SessionInput) *session {
	info := workflow.GetInfo(ctx)
	s := &session{
		req:                in.Request,
		workflowID:         info.WorkflowExecution.ID,
		continueAsNewAfter: in.ContinueAsNewAfterEvents,
		state:              StateRouting,
		startedAt:          workflow.Now(ctx),
		estimatedWait:      -1,
		seenEntries:        newBoundedSet(maxSeenIDs, nil),
		seenUserMessages:   newBoundedSet(maxSeenIDs, nil),
		sentEntryIDs:       map[string]string{},
		events:             workflow.GetSignalChannel(ctx, SignalAgentEvent),
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

// live runs the session until it should close (the reason) or continue as
// new (errContinueAsNew). An error means a failure or cancellation.
func (s *session) live(ctx workflow.Context) (CloseReason, error) {
	if s.state == StateRouting {
		if err := s.open(ctx); err != nil {
			return CloseFailed, err
		}
	}
	s.startListener(ctx)
	if s.state == StateWaiting {
		reason, err := s.waitForAgent(ctx)
		if err != nil || reason != "" {
			return reason, err
		}
	}
	return s.broker(ctx)
}

// open creates the Salesforce conversation and sends the description as the
// first message, so routing starts with the user's problem in view.
func (s *session) open(ctx workflow.Context) error {
	id, err := newConversationID(ctx)
	if err != nil {
		return err
	}
	s.conversationID = id
	s.logger = log.With(s.logger, "conversationID", id)
	s.upsertSearchAttributes(ctx)

	// Version 1 records the stream position in history before the first
	// create attempt. The create activity also reports one, but an attempt
	// retried after its predecessor created the conversation (and an agent
	// accepted) would report a position past the accept, and the listener
	// would never see it. Runs recorded before it used the create's.
	if workflow.GetVersion(ctx, changePositionBeforeCreate, workflow.DefaultVersion, 1) == 1 {
		var pos StreamPositionResult
		if err := workflow.ExecuteActivity(salesforceOptions(ctx, "stream position"),
			ActivityStreamPosition, StreamPositionInput{UserID: s.req.UserID}).Get(ctx, &pos); err != nil {
			return fmt.Errorf("stream position: %w", err)
		}
		s.lastEventID = pos.LastEventID
	}

	s.conversationRequested = true
	create := CreateConversationInput{
		UserID:            s.req.UserID,
		ConversationID:    id,
		RoutingAttributes: s.routingAttributes(),
		Language:          s.req.Locale,
	}
	var created CreateConversationResult
	if err := workflow.ExecuteActivity(salesforceOptions(ctx, "create conversation"),
		ActivityCreateConversation, create).Get(ctx, &created); err != nil {
		return fmt.Errorf("create conversation: %w", err)
	}
	if s.lastEventID == "" {
		s.lastEventID = created.LastEventID
	}

	s.addTranscript(TranscriptEntry{
		ID: descriptionMessageID, At: workflow.Now(ctx), From: FromUser, Text: s.req.Description,
	})
	first := SendMessageInput{
		UserID:         s.req.UserID,
		ConversationID: id,
		MessageID:      miawMessageID(id, descriptionMessageID),
		Text:           s.req.Description,
		Language:       s.req.Locale,
	}
	var sent SendResult
	if err := workflow.ExecuteActivity(salesforceOptions(ctx, "send description"),
		ActivitySendMessage, first).Get(ctx, &sent); err != nil {
		return fmt.Errorf("send description: %w", err)
	}
	s.sentEntryIDs[descriptionMessageID] = sent.EntryID

	s.waitingSince = workflow.Now(ctx)
	s.setState(ctx, StateWaiting)
	s.logger.Info("Conversation created; waiting for an agent")
	return nil
}

// startListener starts the SSE listener activity on its own task queue. It
// runs until cancelled and signals SignalAgentEvent for every event.
func (s *session) startListener(ctx workflow.Context) {
	lctx, cancel := workflow.WithCancel(ctx)
	s.cancelListener = cancel
	s.listener = workflow.ExecuteActivity(listenerOptions(lctx, s.req.Settings.ListenerHeartbeatTimeout), ActivityListen, ListenInput{
		WorkflowID:     s.workflowID,
		UserID:         s.req.UserID,
		ConversationID: s.conversationID,
		LastEventID:    s.lastEventID,
	})
}

// stopListener cancels the listener and waits until it has stopped, so no
// signal from this run's listener races a successor or a closed session.
func (s *session) stopListener(ctx workflow.Context) {
	if s.listener == nil {
		return
	}
	s.cancelListener()
	if err := s.listener.Get(ctx, nil); err != nil && !temporal.IsCanceledError(err) {
		s.logger.Warn("Listener ended with an error", "error", err)
	}
	s.listener = nil
}

// abandonListener asks the listener to stop without waiting for it; only
// for a run about to complete (see shutdown).
func (s *session) abandonListener() {
	if s.listener == nil {
		return
	}
	s.cancelListener()
	s.listener = nil
}

// waitForAgent waits for an agent to accept, at most the remaining accept
// timeout. It returns an empty reason once accepted.
func (s *session) waitForAgent(ctx workflow.Context) (CloseReason, error) {
	remaining := s.req.Settings.AcceptTimeout - workflow.Now(ctx).Sub(s.waitingSince)
	if remaining < minAcceptWait {
		remaining = minAcceptWait
	}
	timerCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimerWithOptions(timerCtx, remaining, workflow.TimerOptions{Summary: acceptTimerSummary})

	for {
		if reason, err, done := s.step(ctx, timer); done {
			return reason, err
		}
		switch {
		case s.accepted:
			return "", nil
		case timer.IsReady():
			s.logger.Info("No agent accepted in time", "acceptTimeout", s.req.Settings.AcceptTimeout)
			countAcceptTimeout(ctx)
			return CloseAcceptTimeout, nil
		}
	}
}

// broker relays messages both ways until either side closes.
func (s *session) broker(ctx workflow.Context) (CloseReason, error) {
	for {
		if reason, err, done := s.step(ctx, nil); done {
			return reason, err
		}
	}
}

// step waits for something to do, handles every buffered agent event and
// reports whether the session is over (or should continue as new).
func (s *session) step(ctx workflow.Context, timer workflow.Future) (CloseReason, error, bool) {
	err := workflow.Await(ctx, func() bool {
		return s.events.Len() > 0 || s.closeRequested || s.listener.IsReady() ||
			(timer != nil && timer.IsReady()) ||
			(!s.draining && s.continueAsNewWanted(ctx)) || (s.draining && s.drained(ctx))
	})
	if err != nil {
		return "", err, true
	}
	s.handleEvents(ctx)

	if reason := s.endReason(); reason != "" {
		return reason, nil, true
	}
	if s.listener.IsReady() {
		err := s.listener.Get(ctx, nil)
		if err == nil {
			err = temporal.NewApplicationError("listener returned without being cancelled", errTypeListenerFailed)
		}
		return CloseFailed, fmt.Errorf("listener stopped: %w", err), true
	}
	if !s.draining && s.continueAsNewWanted(ctx) {
		s.logger.Info("Preparing to continue as new", "historyLength", workflow.GetInfo(ctx).GetCurrentHistoryLength())
		s.draining = true
		s.refreshDetails(ctx)
	}
	if s.draining && s.drained(ctx) {
		return "", errContinueAsNew, true
	}
	return "", nil, false
}

// endReason says whether a side ended the session, and why.
func (s *session) endReason() CloseReason {
	switch {
	case s.closeRequested:
		return CloseUserClosed
	case s.agentEnded:
		return CloseAgentEnded
	case s.routingFailed && !s.accepted:
		return CloseRoutingFailed
	}
	return ""
}

// handleEvents handles every agent event already buffered. Reading only with
// ReceiveAsync (never a blocking Receive) keeps undelivered signals in the
// channel, where Len() sees them before continue-as-new.
func (s *session) handleEvents(ctx workflow.Context) {
	for {
		var ev AgentEvent
		if !s.events.ReceiveAsync(&ev) {
			return
		}
		s.handleAgentEvent(ctx, ev)
	}
}

// continueAsNewWanted reports whether the SDK (or the test hook) asks for a
// new run. Attachments are not carried, so a queued one postpones it.
func (s *session) continueAsNewWanted(ctx workflow.Context) bool {
	if s.hasPendingAttachment() {
		return false
	}
	if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
		return true
	}
	return s.continueAsNewAfter > 0 && s.handledEvents >= s.continueAsNewAfter
}

// drained reports whether nothing is in flight: no running update handler,
// no send in progress, no buffered agent event.
func (s *session) drained(ctx workflow.Context) bool {
	return workflow.AllHandlersFinished(ctx) && !s.senderBusy && s.events.Len() == 0
}

// continueAsNew hands the state to a new run (the caller stopped the
// listener). The listener of the new run resumes from LastEventID, and
// SeenEntryIDs drop any event the old listener signalled twice.
func (s *session) continueAsNew(ctx workflow.Context) error {
	s.stopSending = true
	next := SessionInput{
		Request:                  s.req,
		Carry:                    s.carry(),
		ContinueAsNewAfterEvents: s.continueAsNewAfter,
	}
	s.logger.Info("Continuing as new", "lastEventID", s.lastEventID, "pending", len(next.Carry.Pending))
	return workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}

// shutdown is the one cleanup path for every ending: tell the user why, end
// the Salesforce side, stop the listener, deliver the close and mark the
// session closed. It runs in a disconnected context so it also completes
// after the workflow was cancelled.
func (s *session) shutdown(ctx workflow.Context, reason CloseReason) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	s.closeReason = reason
	s.setState(dctx, StateClosing)
	s.failWaitingSends()
	// A send already in flight lands first: ending the Salesforce session
	// under it would make it fail with 417 although it was accepted while
	// the chat was open. (On cancellation the send is cancelled too, so this
	// does not hold it up.)
	if err := workflow.Await(dctx, func() bool { return !s.senderBusy }); err != nil {
		s.logger.Warn("Waiting for the message in flight failed", "error", err)
	}

	if text := s.closingNotice(reason); text != "" {
		s.notify(dctx, "closing", text)
	}
	if s.conversationRequested {
		end := EndConversationInput{UserID: s.req.UserID, ConversationID: s.conversationID}
		if err := workflow.ExecuteActivity(salesforceOptions(dctx, "end conversation"),
			ActivityEndConversation, end).Get(dctx, nil); err != nil {
			s.logger.Error("End conversation failed", "error", err)
		}
	}
	// Version 1 tells the user before waiting for the listener to
	// acknowledge its cancellation (up to one heartbeat interval); runs
	// recorded before it waited first.
	closedFirst := workflow.GetVersion(dctx, changeDeliverClosedFirst, workflow.DefaultVersion, 1) == 1
	if !closedFirst {
		s.stopListener(dctx)
	}
	_ = s.deliver(dctx, Delivery{ID: s.noticeID(dctx, "closed"), Kind: DeliverClosed, State: StateClosed, CloseReason: reason})
	s.setState(dctx, StateClosed)
	// Version 1 completes the run as soon as the listener is asked to stop.
	// Waiting for its acknowledgement costs up to one heartbeat interval per
	// close and an extra workflow task, which made mass closes crawl. A late
	// listener is harmless: it signals this run only, which answers NotFound
	// once completed, and its next heartbeat (NotFound too) cancels it, so
	// its stream and slot are freed within one heartbeat interval. Runs
	// recorded before it waited.
	if workflow.GetVersion(dctx, changeCompleteWithoutListener, workflow.DefaultVersion, 1) == 1 {
		s.abandonListener()
	} else {
		s.stopListener(dctx)
	}
	countSessionClosed(dctx, reason)
	s.logger.Info("Session closed", "reason", reason)
	// Handlers woken by failWaitingSends return before the run completes.
	if err := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); err != nil {
		s.logger.Warn("Waiting for update handlers failed", "error", err)
	}
	s.dropLateEvents()
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

// closingNotice is the last text the user sees for a reason.
func (s *session) closingNotice(reason CloseReason) string {
	switch reason {
	case CloseAcceptTimeout:
		return orDefault(s.req.Settings.TimeoutMessage, defaultTimeoutMessage)
	case CloseAgentEnded:
		return orDefault(s.req.Settings.AgentEndedMessage, defaultAgentEndedMessage)
	case CloseRoutingFailed:
		return routingFailedMessage
	case CloseFailed:
		return failedMessage
	default: // the user closed or the session was cancelled: nothing to explain
		return ""
	}
}

func (s *session) result() SessionResult {
	return SessionResult{
		ConversationID: s.conversationID,
		CloseReason:    s.closeReason,
		Messages:       len(s.transcript),
	}
}

func (s *session) routingAttributes() map[string]string {
	return map[string]string{
		s.req.Settings.RoutingUserField:  s.req.UserID,
		s.req.Settings.RoutingTopicField: s.req.Topic,
	}
}

// setState changes the state and publishes it (search attribute, details).
func (s *session) setState(ctx workflow.Context, st State) {
	if s.state == st {
		return
	}
	s.logger.Info("Session state changed", "from", s.state, "to", st)
	s.state = st
	s.upsertSearchAttributes(ctx)
	s.refreshDetails(ctx)
}

func (s *session) upsertSearchAttributes(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchAttrState.ValueSet(string(s.state)),
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
	d.SessionID = s.workflowID
	d.UserID = s.req.UserID
	if d.At.IsZero() {
		d.At = workflow.Now(ctx)
	}
	if d.State == "" {
		d.State = s.state
	}
	err := workflow.ExecuteActivity(deliveryOptions(ctx, "deliver "+string(d.Kind)), ActivityDeliver, d).Get(ctx, nil)
	if err != nil {
		s.logger.Error("Delivery to the user failed", "deliveryID", d.ID, "kind", d.Kind, "error", err)
	}
	return err
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
