package workflows

import "go.temporal.io/sdk/workflow"

// Versioned changes. Each change id is asked by one workflow.GetVersion call
// in this file, at the point its marker sits in recorded histories; the
// DefaultVersion branch is the legacy behaviour, kept for the histories
// recorded before the change (testdata/histories/v<N>-*.json).
const (
	// changeDeliverClosedFirst: the closed notice is delivered before the
	// listener is stopped. Legacy: v0-*.
	changeDeliverClosedFirst = "deliver-closed-before-listener-stops"
	// changeCompleteWithoutListener: a closed run completes without waiting
	// for its listener to acknowledge cancellation. Legacy: v0-*, v1-*.
	changeCompleteWithoutListener = "complete-without-waiting-for-listener"
	// changePositionBeforeCreate: the stream position is recorded by its own
	// activity before the conversation is created. Legacy: v0-*, v1-*, v2-*.
	changePositionBeforeCreate = "stream-position-before-create"
	// changeFailurePathsTold: a failed transfer puts the user back in the
	// queue and says so, an inactive session is explained, an empty greeting
	// shows none, and a conversation Salesforce refuses closes as refused.
	// Legacy: v0-* to v2-* and v3-* but failure-paths; the change is asked
	// only where one of these happens, so most histories carry no marker
	// for it.
	changeFailurePathsTold = "failure-paths-told"
	// changeActiveBeforeGreeting: an accepted session is active before the
	// greeting is delivered, so a message the user writes on seeing the
	// greeting is sent at once (and its failure reported to its caller)
	// rather than kept. Legacy: v0-* to v3-*.
	changeActiveBeforeGreeting = "active-before-greeting"
	// changePresence: user typing reports and receipts are relayed to
	// Salesforce and the agent's receipts are delivered to the assistant
	// (presence.go). Legacy: every history recorded before it, which drops
	// agent receipts; the change is asked only where presence does something.
	changePresence = "presence"
	// changeListenerShards: a session with Settings.ListenerShards joins a
	// listener shard instead of running its own listener. Asked only by
	// such sessions; legacy: none (every recorded history predates the
	// setting and runs its own listener).
	changeListenerShards = "listener-shards"
	// changeLocalDelivery: deliveries to the assistant run as local
	// activities (a marker each) rather than activities (three events and
	// one more workflow task each). Asked at every delivery; legacy: every
	// history recorded before it (v4-* and older, and the scenarios
	// recorded by feature branches before it).
	changeLocalDelivery = "local-delivery"
	// changeLocalSend: user messages (and the description) are sent to
	// Salesforce as local activities. Asked at every text send; legacy: every
	// history recorded before it.
	changeLocalSend = "local-send"
	// changeRichContent: agent choices, forms and web views reach the user
	// as structured data beside their fallback text, and a user's choice
	// reply goes to Salesforce as a ChoicesResponse (rich.go). Asked only
	// on those paths, so histories without rich content carry no marker.
	// Legacy (none recorded): the fallback text only, and a choice reply is
	// sent as its text.
	changeRichContent = "rich-content"
	// changeLateUploadFailure: a user file Salesforce reports as failed after
	// accepting it (MessageUpdated) is told to the user by name
	// (uploads.go). Asked only when such a report arrives; legacy (none
	// recorded): the report is logged and dropped.
	changeLateUploadFailure = "late-upload-failure"
	// changePacing: with Settings.MessageRate, a message over the rate is
	// kept and answered queued (QueuedPaced) and the sender waits for the
	// window (pacing.go). Asked only when the rate is used up; legacy (none
	// recorded): the message waits for the send, 429s retried.
	changePacing = "pacing"
	// changeSurvey: a closed session with Settings.SurveyWindow waits that
	// long for a post-chat survey before it completes (survey.go). Asked
	// only when a window is configured and the session qualifies, so no
	// history recorded before it (none has a window) carries the marker.
	// Legacy: complete at once.
	changeSurvey = "survey"
	// changeRoutingCheck: before closing a session for want of a routing
	// result, ask Salesforce's entries list whether routing answered while
	// the listener was behind (routingcheck.go). Asked only when that
	// deadline passes; legacy: close at once.
	changeRoutingCheck = "routing-check"
	// changeHistoryImport: a session whose request carries an import file
	// loads the assistant's conversation with the Conversation History API
	// and attaches the transcript file only if that fails
	// (historyimport.go). Asked only by such sessions; legacy (none
	// recorded): the file is attached.
	changeHistoryImport = "history-import"
	// changeTransferTimeout: a transfer no agent joins within
	// Settings.TransferTimeout (0: AcceptTimeout) puts the user back in the
	// queue as a failed transfer does (transfer.go). Asked only when a
	// transfer starts; legacy: a transfer Salesforce says nothing more
	// about waits forever.
	changeTransferTimeout = "transfer-timeout"
	// changeRoutingFailedEnds: before any agent accepted, a routing failure
	// and Salesforce's end of the session handled in one batch (the queue
	// timed out) close the session as routing-failed (phase.go, end).
	// Asked only where the two meet; legacy: agent-ended, "The agent has
	// ended the chat".
	changeRoutingFailedEnds = "routing-failed-ends-session"
	// changeInactiveEnded: Salesforce ending a session it had marked
	// Inactive, nobody having written since, closes it as idle with
	// Settings.InactiveEndedMessage (phase.go, end). Asked only when such an
	// end arrives; legacy: agent-ended.
	changeInactiveEnded = "inactive-ended"
	// changeShardTaskQueue: a listener shard continues as new on
	// ListenerShardTaskQueue, where its workflow tasks and membership
	// queries have pollers of their own instead of waiting behind the
	// sessions' (after a worker restart, behind every session's replay).
	// Asked only when a shard continues as new; legacy (v5-shard-*): the
	// shard continues on the task queue it ran on.
	changeShardTaskQueue = "shard-own-task-queue"
	// changeListenerPresence: the listener delivers agent typing and
	// receipts itself when QueryListenerDelivery answers with a delivery,
	// and signals them only otherwise (listenerdelivery.go). Asked at every
	// send to Salesforce; legacy (v6-*): every event is signalled.
	changeListenerPresence = "listener-presence"
)

// deliversLocally reports whether this run delivers with local activities.
func (s *session) deliversLocally(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeLocalDelivery, workflow.DefaultVersion, 1) == 1
}

// sendsLocally reports whether this run sends messages with local activities.
func (s *session) sendsLocally(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeLocalSend, workflow.DefaultVersion, 1) == 1
}

// listenerDeliversPresence reports whether the listener may deliver this
// run's agent typing and receipts (listenerdelivery.go).
func (s *session) listenerDeliversPresence(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeListenerPresence, workflow.DefaultVersion, 1) == 1
}

// shardContinueContext is the context a shard continues as new with: on
// ListenerShardTaskQueue, or (legacy) where it ran.
func shardContinueContext(ctx workflow.Context) workflow.Context {
	if workflow.GetVersion(ctx, changeShardTaskQueue, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return ctx
	}
	return workflow.WithWorkflowTaskQueue(ctx, ListenerShardTaskQueue)
}

// usesListenerShards reports whether a session configured for listener
// shards joins one (asked only when Settings.ListenerShards > 0).
func (s *session) usesListenerShards(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeListenerShards, workflow.DefaultVersion, 1) == 1
}

// activeBeforeGreeting reports whether this session becomes active before
// its greeting is delivered (legacy sessions after).
func (s *session) activeBeforeGreeting(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeActiveBeforeGreeting, workflow.DefaultVersion, 1) == 1
}

// tellsFailurePaths reports whether this session handles the failure paths
// of changeFailurePathsTold; legacy sessions log a failed transfer, ignore
// an inactive session, greet with the default text when the greeting is
// empty and fail when Salesforce refuses the conversation.
func (s *session) tellsFailurePaths(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeFailurePathsTold, workflow.DefaultVersion, 1) == 1
}

// timesTransfers reports whether this session requeues a transfer no
// agent joins in time (asked when a transfer starts).
func (s *session) timesTransfers(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeTransferTimeout, workflow.DefaultVersion, 1) == 1
}

// routingFailureExplainsEnd reports whether a routing failure and
// Salesforce's end of a session no agent accepted close it as
// routing-failed (asked only when the two meet).
func (s *session) routingFailureExplainsEnd(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeRoutingFailedEnds, workflow.DefaultVersion, 1) == 1
}

// explainsInactiveEnd reports whether Salesforce ending an inactive session
// closes it as idle with its own notice (asked only at such an end).
func (s *session) explainsInactiveEnd(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeInactiveEnded, workflow.DefaultVersion, 1) == 1
}

// recordStreamPosition records the user's stream position before the
// conversation exists, so the first listener cannot miss its routing or
// accept events. (The create activity reports a position too, but an attempt
// retried after its predecessor created the conversation, and an agent
// accepted, reports one past the accept.) Legacy runs record none.
func (s *session) recordStreamPosition(ctx workflow.Context) (string, error) {
	if workflow.GetVersion(ctx, changePositionBeforeCreate, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return "", nil // legacy: the create's position is used
	}
	pos, err := s.streamPosition(ctx)
	return pos.LastEventID, err
}

// firstListenerPosition is where the first listener starts: the position
// recorded before the create, or the create's when none was recorded
// (legacy runs, or Salesforce gave none).
func firstListenerPosition(recorded string, created CreateConversationResult) string {
	if recorded != "" {
		return recorded
	}
	return created.LastEventID
}

// Shutdown lets go of the listener at one of three points: current runs ask
// it to stop after the closed notice and complete without waiting
// (releaseListener); legacy v1 runs wait for it there instead; legacy v0
// runs wait for it before the closed notice (stopListenerBeforeClosedNotice),
// so at release it is already gone. Both GetVersion calls are made on every
// path, in this order.

// stopListenerBeforeClosedNotice waits for the listener to stop, in legacy
// v0 runs only.
func (s *session) stopListenerBeforeClosedNotice(ctx workflow.Context) {
	if workflow.GetVersion(ctx, changeDeliverClosedFirst, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		s.stopListener(ctx) // legacy v0
	}
}

// releaseListener asks the listener to stop and returns at once. Waiting
// for its acknowledgement cost up to one heartbeat interval per close and an
// extra workflow task, which made mass closes crawl; a late listener is
// harmless (it signals this run only, which answers NotFound once completed,
// and its next heartbeat, NotFound too, cancels it within one heartbeat
// interval). Legacy v0 and v1 runs wait.
func (s *session) releaseListener(ctx workflow.Context) {
	if workflow.GetVersion(ctx, changeCompleteWithoutListener, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		s.stopListener(ctx) // legacy v0 (already stopped), v1
		return
	}
	s.abandonListener(ctx)
}
