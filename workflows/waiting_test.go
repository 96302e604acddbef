package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// A user still waiting when business hours end is told so and the session
// ends cleanly, before the (longer) accept timeout.
func TestAgentsGoOfflineWhileWaiting(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2026, 11, 30, 17, 58, 0, 0, time.UTC)
	h.env.SetStartTime(start)
	in := testInput()
	in.Request.AvailableUntil = start.Add(2 * time.Minute)
	in.Request.Settings.OfflineMessage = "We are closed now."
	h.run(in)

	require.Equal(t, workflows.CloseAgentsOffline, h.result().CloseReason)
	require.Equal(t, []string{"We are closed now."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseAgentsOffline, closed[0].CloseReason)
	require.False(t, closed[0].At.Before(in.Request.AvailableUntil), "closed before the hours ended")
	require.Less(t, closed[0].At.Sub(start), in.Request.Settings.AcceptTimeout)
}

// Availability that outlasts the accept timeout changes nothing: the
// session times out as before.
func TestAvailabilityAfterAcceptTimeoutKeepsTimeout(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	h.env.SetStartTime(start)
	in := testInput()
	in.Request.AvailableUntil = start.Add(8 * time.Hour)
	h.run(in)
	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)
	require.Equal(t, []string{"No agent is free right now."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

// Once an agent accepted, the end of business hours does not end the chat.
func TestAgentsGoingOfflineDoNotEndAcceptedChat(t *testing.T) {
	h := newHarness(t)
	start := time.Date(2026, 11, 30, 17, 58, 0, 0, time.UTC)
	h.env.SetStartTime(start)
	in := testInput()
	in.Request.AvailableUntil = start.Add(2 * time.Minute)
	acceptEvents(h, time.Minute, "Ann")
	after := h.queryAt(30 * time.Minute)
	h.updateAt(31*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)
	require.Equal(t, workflows.StateActive, after.State)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
}

func transferFailsAt(h *harness, at time.Duration) {
	h.signalAt(at, workflows.AgentEvent{EventID: "ev-tl", EntryID: "pc-2", Kind: workflows.AgentLeft, SenderName: "Ann"})
	h.signalAt(at+time.Second, workflows.AgentEvent{EventID: "ev-tf", EntryID: "rr-2", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "RoutingError"})
}

// A transfer that finds no agent puts the user back in the queue, tells
// them, and the next agent to accept is announced; messages written in
// between are kept and sent to that agent.
func TestFailedTransferRequeuesUntilNextAgent(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	transferFailsAt(h, 10*time.Second)
	during := h.queryAt(20 * time.Second)
	kept := h.updateAt(21*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "still there?"})
	h.signalAt(30*time.Second, workflows.AgentEvent{EventID: "ev-30", EntryID: "wr-2", Kind: workflows.AgentWorkResult, WorkType: "Accepted"})
	h.signalAt(31*time.Second, workflows.AgentEvent{EventID: "ev-31", EntryID: "pc-3", Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	after := h.queryAt(40 * time.Second)
	h.updateAt(50*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, workflows.StateWaiting, during.State)
	require.Equal(t, workflows.StateActive, after.State)
	require.Equal(t, "Bob", after.AgentName)
	kept.requireResult(t, workflows.UpdateQueued)
	require.Equal(t, []string{"still there?"}, h.sf.SentTexts()[1:], "the kept message reached the next agent")
	require.Equal(t, []string{
		"Hi, an agent is here.",
		"Transfer failed, hold on.",
		"You are now chatting with Bob.",
	}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

// A requeued user nobody accepts gets the timeout message once the accept
// timeout, counted again from the failed transfer, runs out.
func TestFailedTransferEndsWithTimeoutWhenNobodyAccepts(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(5*time.Minute, workflows.AgentEvent{EventID: "ev-te", EntryID: "wr-9", Kind: workflows.AgentWorkResult, WorkType: "TransferError"})
	h.run(testInput())

	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)
	require.Equal(t, []string{"Hi, an agent is here.", "Transfer failed, hold on.", "No agent is free right now."},
		h.sf.DeliveredTexts(workflows.DeliverSystem))
	system := h.sf.Deliveries(workflows.DeliverSystem)
	requeuedAt, timedOutAt := system[1].At, system[2].At
	require.GreaterOrEqual(t, timedOutAt.Sub(requeuedAt), testSettings().AcceptTimeout, "the accept timeout restarts at the requeue")
	require.Equal(t, workflows.StateWaiting, system[1].State)
	require.Len(t, h.sf.Ended(), 1)
}

// Salesforce saying nothing at all after the create ("stuck in a void")
// ends the session after RoutingResultTimeout, with its own notice.
func TestNoRoutingResultEndsSession(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.RoutingResultTimeout = time.Minute
	in.Request.Settings.NoRoutingResultMessage = "Nobody heard you."
	h.run(in)

	require.Equal(t, workflows.CloseNoRoutingResult, h.result().CloseReason)
	require.Equal(t, []string{"Nobody heard you."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Less(t, closed[0].At.Sub(h.finalView().StartedAt), 2*time.Minute)
	calls := h.sf.RecentCalls()
	require.Len(t, calls, 1, "Salesforce was asked once whether routing answered")
	require.Equal(t, h.conversationID(), calls[0].ConversationID)
	require.Zero(t, calls[0].SinceMillis, "the whole conversation: routing answers the description, before the session waits")
}

// A routing answer the listener missed (its stream down) is found in
// Salesforce's entries list when the no-routing-result deadline passes: the
// session waits on, and an accept found there makes it active.
func TestRoutingAnswerMissedByTheListenerIsFoundBeforeGivingUp(t *testing.T) {
	h := newHarness(t)
	h.sf.RecentEventsResult = []workflows.AgentEvent{
		{EntryID: "rr-1", Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "None", EstimatedWait: -1},
		{EntryID: "wr-1", Kind: workflows.AgentWorkResult, WorkType: "Accepted"},
		{EntryID: "pc-1", Kind: workflows.AgentJoined, SenderName: "Ann", SenderRole: "Agent"},
	}
	in := testInput()
	in.Request.Settings.RoutingResultTimeout = time.Minute
	// The stream catches up later and repeats the accept: dropped as seen.
	h.signalAt(2*time.Minute, workflows.AgentEvent{EventID: "ev-9", EntryID: "wr-1", Kind: workflows.AgentWorkResult, WorkType: "Accepted"})
	h.updateAt(3*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Len(t, h.sf.RecentCalls(), 1)
	require.Contains(t, h.sf.DeliveredTexts(workflows.DeliverSystem), testSettings().Greeting, "the accept found in Salesforce greeted the user")
}

// A routing answer before RoutingResultTimeout keeps the user waiting for
// the accept timeout as usual.
func TestRoutingAnswerCancelsNoRoutingResultDeadline(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.RoutingResultTimeout = time.Minute
	h.signalAt(30*time.Second, workflows.AgentEvent{EventID: "ev-1", EntryID: "qp-1", Kind: workflows.AgentQueuePosition, QueuePosition: 2})
	h.run(in)

	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.GreaterOrEqual(t, closed[0].At.Sub(h.finalView().StartedAt), testSettings().AcceptTimeout)
}

// Salesforce marking the session inactive is explained and ends nothing.
func TestInactiveSessionIsExplainedAndStaysOpen(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.InactiveMessage = "Say something to continue."
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(time.Minute, workflows.AgentEvent{EventID: "ev-i", EntryID: "ss-i", Kind: workflows.AgentSessionStatus, SessionStatus: "Inactive"})
	msg := h.updateAt(2*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "back"})
	h.updateAt(3*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, []string{"Hi, an agent is here.", "Say something to continue."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	msg.requireResult(t, workflows.UpdateSent)
}

// A chat in which nobody writes for IdleTimeout ends politely; every
// message restarts the clock.
func TestIdleChatEnds(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.IdleTimeout = 5 * time.Minute
	in.Request.Settings.IdleMessage = "Closed for inactivity."
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(4*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hello"})
	h.signalAt(8*time.Minute, workflows.AgentEvent{EventID: "ev-8", EntryID: "msg-8", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "hi"})
	h.run(in)

	require.Equal(t, workflows.CloseIdle, h.result().CloseReason)
	system := h.sf.Deliveries(workflows.DeliverSystem)
	require.Equal(t, "Closed for inactivity.", system[len(system)-1].Text)
	idleFor := system[len(system)-1].At.Sub(h.sf.Deliveries(workflows.DeliverAgentMessage)[0].At)
	require.GreaterOrEqual(t, idleFor, 5*time.Minute, "closed before the chat was idle for the timeout")
	require.Less(t, idleFor, 6*time.Minute)
	require.Len(t, h.sf.Ended(), 1)
}

// An empty greeting shows none.
func TestEmptyGreetingShowsNone(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.Greeting = ""
	acceptEvents(h, time.Second, "Ann")
	active := h.queryAt(time.Minute)
	h.updateAt(2*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)
	require.Equal(t, workflows.StateActive, active.State)
	require.Empty(t, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

// Salesforce refusing the conversation for good closes the session as
// refused with its own notice; the workflow itself completes.
func TestRefusedConversation(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.RefusedMessage = "Live chat cannot take this."
	h.sf.CreateErr = temporal.NewNonRetryableApplicationError("400 invalid routing attribute", workflows.ErrTypeSalesforcePermanent, nil)
	h.run(in)

	require.Equal(t, workflows.CloseRefused, h.result().CloseReason)
	require.Equal(t, []string{"Live chat cannot take this."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1, "the create may have reached Salesforce: it is ended")
	require.Empty(t, h.listenerStarts())
}

// The failure notices are the configured ones.
func TestConfiguredFailureNotices(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.RoutingFailedMessage = "No route, sorry."
	h.signalAt(time.Second, workflows.AgentEvent{EventID: "ev-1", EntryID: "rr-1", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "RoutingError"})
	h.run(in)
	require.Equal(t, workflows.CloseRoutingFailed, h.result().CloseReason)
	require.Equal(t, []string{"No route, sorry."}, h.sf.DeliveredTexts(workflows.DeliverSystem))

	h = newHarness(t)
	in = testInput()
	in.Request.Settings.FailedMessage = "Broken, sorry."
	h.sf.CreateErr = temporal.NewNonRetryableApplicationError("boom", "Other", nil)
	h.run(in)
	require.Error(t, h.env.GetWorkflowError())
	require.Equal(t, []string{"Broken, sorry."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}
