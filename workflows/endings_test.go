package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// transferSilentlyAt has Ann leave with a transfer routed at d, after which
// Salesforce says nothing more.
func transferSilentlyAt(h *harness, d time.Duration) {
	h.signalAt(d, workflows.AgentEvent{EventID: "ev-tl", EntryID: "pc-2", Kind: workflows.AgentLeft, SenderName: "Ann"})
	h.signalAt(d+time.Second, workflows.AgentEvent{EventID: "ev-tr", EntryID: "rr-2", Kind: workflows.AgentRoutingResult,
		RoutingType: "Transfer", FailureType: "None"})
}

// signalTogether signals evs at d in one go, so the workflow handles them
// in one batch (as the listener delivers events Salesforce sent together).
func signalTogether(h *harness, d time.Duration, evs ...workflows.AgentEvent) {
	h.at(d, func() {
		for _, ev := range evs[:len(evs)-1] {
			h.env.SignalWorkflowSkippingWorkflowTask(workflows.SignalAgentEvent, ev)
		}
		h.env.SignalWorkflow(workflows.SignalAgentEvent, evs[len(evs)-1])
	})
}

// A transfer no agent joins within TransferTimeout is handled as a failed
// one: the user is told, waits in the queue again, and the accept timeout
// (counted from the requeue) ends the session with the timeout message.
func TestSilentTransferRequeuesAfterTransferTimeout(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.TransferTimeout = 5 * time.Minute
	acceptEvents(h, time.Second, "Ann")
	transferSilentlyAt(h, 10*time.Second)
	during := h.queryAt(4 * time.Minute)
	after := h.queryAt(6 * time.Minute)
	h.run(in)

	require.Equal(t, workflows.StateActive, during.State, "still transferring before the timeout")
	require.Equal(t, workflows.StateWaiting, after.State, "back in the queue after the timeout")
	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)
	require.Equal(t, []string{
		"Hi, an agent is here.",
		"You are being transferred to another agent. Please wait.",
		"Transfer failed, hold on.",
		"No agent is free right now.",
	}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	system := h.sf.Deliveries(workflows.DeliverSystem)
	transferAt, requeuedAt, timedOutAt := system[1].At, system[2].At, system[3].At
	require.GreaterOrEqual(t, requeuedAt.Sub(transferAt), 5*time.Minute-2*time.Second, "requeued before the transfer timeout")
	require.Less(t, requeuedAt.Sub(transferAt), 6*time.Minute)
	require.Equal(t, workflows.StateWaiting, system[2].State)
	require.GreaterOrEqual(t, timedOutAt.Sub(requeuedAt), testSettings().AcceptTimeout, "the accept timeout restarts at the requeue")
	require.Len(t, h.sf.Ended(), 1, "Salesforce is cleaned up")
}

// TransferTimeout 0 gives a transfer the accept timeout.
func TestTransferTimeoutDefaultsToAcceptTimeout(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	transferSilentlyAt(h, 10*time.Second)
	before := h.queryAt(9 * time.Minute)
	after := h.queryAt(11 * time.Minute)
	h.run(testInput())

	require.Equal(t, workflows.StateActive, before.State)
	require.Equal(t, workflows.StateWaiting, after.State)
	require.Equal(t, workflows.CloseAcceptTimeout, h.result().CloseReason)
}

// Salesforce's late word on a transfer requeued for want of an agent finds
// the user waiting: its failure keeps them waiting, and an agent joining
// after all is accepted and announced; messages kept meanwhile reach them.
func TestLateAnswerAfterTransferTimeout(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.TransferTimeout = time.Minute
	acceptEvents(h, time.Second, "Ann")
	transferSilentlyAt(h, 10*time.Second)
	kept := h.updateAt(2*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hello?"})
	h.signalAt(3*time.Minute, workflows.AgentEvent{EventID: "ev-late", EntryID: "rr-3", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "RoutingError"})
	waiting := h.queryAt(4 * time.Minute)
	h.signalAt(5*time.Minute, workflows.AgentEvent{EventID: "ev-join", EntryID: "pc-3", Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	active := h.queryAt(6 * time.Minute)
	h.updateAt(7*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, workflows.StateWaiting, waiting.State, "a late transfer failure does not end the requeued session")
	require.Equal(t, workflows.StateActive, active.State)
	require.Equal(t, "Bob", active.AgentName)
	kept.requireResult(t, workflows.UpdateQueued)
	require.Equal(t, []string{"hello?"}, h.sf.SentTexts()[1:], "the kept message reached Bob")
	require.Equal(t, []string{
		"Hi, an agent is here.",
		"You are being transferred to another agent. Please wait.",
		"Transfer failed, hold on.",
		"You are now chatting with Bob.",
	}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

// A transfer an agent joins in time is not requeued by its timer.
func TestTransferJoinedInTimeStaysActive(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.Request.Settings.TransferTimeout = time.Minute
	acceptEvents(h, time.Second, "Ann")
	transferSilentlyAt(h, 10*time.Second)
	h.signalAt(50*time.Second, workflows.AgentEvent{EventID: "ev-join", EntryID: "pc-3", Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	later := h.queryAt(5 * time.Minute)
	h.updateAt(6*time.Minute, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	require.Equal(t, workflows.StateActive, later.State)
	require.Equal(t, "Bob", later.AgentName)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.NotContains(t, h.sf.DeliveredTexts(workflows.DeliverSystem), "Transfer failed, hold on.")
}

// Legacy sessions (no transfer-timeout marker) keep waiting for Salesforce.
func TestLegacySilentTransferWaits(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(workflows.ChangeTransferTimeout, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	in := testInput()
	in.Request.Settings.TransferTimeout = time.Minute
	acceptEvents(h, time.Second, "Ann")
	transferSilentlyAt(h, 10*time.Second)
	later := h.queryAt(48 * time.Hour)
	h.updateAt(49*time.Hour, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)
	require.Equal(t, workflows.StateActive, later.State)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
}

func routingFailure() workflows.AgentEvent {
	return workflows.AgentEvent{EventID: "ev-rf", EntryID: "rr-1", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "RoutingError"}
}

func sessionEnded() workflows.AgentEvent {
	return workflows.AgentEvent{EventID: "ev-end", EntryID: "ss-end", Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"}
}

// Salesforce's queue timing out (a routing failure and the session's end
// in one batch, as the emulator's TimeoutQueue sends them) closes the
// session as a routing failure with its notice, in either order, not as
// the agent ending the chat.
func TestRoutingFailureWithSessionEndClosesAsRoutingFailed(t *testing.T) {
	for name, evs := range map[string][]workflows.AgentEvent{
		"failure then end": {routingFailure(), sessionEnded()},
		"end then failure": {sessionEnded(), routingFailure()},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := testInput()
			in.Request.Settings.RoutingFailedMessage = "No route, sorry."
			signalTogether(h, time.Minute, evs...)
			h.run(in)

			require.Equal(t, workflows.CloseRoutingFailed, h.result().CloseReason)
			require.Equal(t, []string{"No route, sorry."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
			closed := h.sf.Deliveries(workflows.DeliverClosed)
			require.Len(t, closed, 1)
			require.Equal(t, workflows.CloseRoutingFailed, closed[0].CloseReason)
			require.Equal(t, workflows.ClosedBySystem, closed[0].Summary.ClosedBy)
		})
	}
}

// Legacy sessions close such a pair as agent-ended, as they did.
func TestLegacyRoutingFailureWithSessionEnd(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(workflows.ChangeRoutingFailedEnds, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	signalTogether(h, time.Minute, routingFailure(), sessionEnded())
	h.run(testInput())
	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
}

// Once an agent accepted, Salesforce's end is the agent's, whatever routing
// said before.
func TestSessionEndAfterAcceptIsAgentEnded(t *testing.T) {
	h := newHarness(t)
	signalTogether(h, time.Second, routingFailure(),
		workflows.AgentEvent{EventID: "ev-acc", EntryID: "wr-1", Kind: workflows.AgentWorkResult, WorkType: "Accepted"},
		workflows.AgentEvent{EventID: "ev-join", EntryID: "pc-1", Kind: workflows.AgentJoined, SenderName: "Ann", SenderRole: "Agent"})
	endsSessionAt(h, time.Minute)
	h.run(testInput())
	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
	require.Equal(t, "The agent closed the chat.", h.sf.DeliveredTexts(workflows.DeliverSystem)[1])
}

func inactive() workflows.AgentEvent {
	return workflows.AgentEvent{EventID: "ev-i", EntryID: "ss-i", Kind: workflows.AgentSessionStatus, SessionStatus: "Inactive"}
}

// endsSessionAt has Salesforce end the session at d: the agent
// leaves and the session ends.
func endsSessionAt(h *harness, d time.Duration) {
	signalTogether(h, d,
		workflows.AgentEvent{EventID: "ev-left", EntryID: "pc-9", Kind: workflows.AgentLeft, SenderName: "Ann"},
		sessionEnded())
}

// Salesforce ending a session it had marked Inactive, nobody having written
// since, closes it for inactivity: its own notice, closed as idle by the
// system, not by the agent.
func TestInactiveSessionEndedBySalesforce(t *testing.T) {
	for name, tc := range map[string]struct{ setting, want string }{
		"configured": {"Closed after inactivity, sorry.", "Closed after inactivity, sorry."},
		"built-in":   {"", workflows.InactiveEndedMessage},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := testInput()
			in.Request.Settings.InactiveMessage = "Say something to continue."
			in.Request.Settings.InactiveEndedMessage = tc.setting
			acceptEvents(h, time.Second, "Ann")
			h.signalAt(10*time.Minute, inactive())
			endsSessionAt(h, 24*time.Hour)
			h.run(in)

			require.Equal(t, workflows.CloseIdle, h.result().CloseReason)
			require.Equal(t, []string{"Hi, an agent is here.", "Say something to continue.", tc.want},
				h.sf.DeliveredTexts(workflows.DeliverSystem))
			closed := h.sf.Deliveries(workflows.DeliverClosed)
			require.Len(t, closed, 1)
			require.Equal(t, workflows.CloseIdle, closed[0].CloseReason)
			require.Equal(t, workflows.ClosedBySystem, closed[0].Summary.ClosedBy)
		})
	}
}

// A session revived by a message before Salesforce's end was ended by the
// agent, as before.
func TestEndAfterInactiveSessionRevivedIsAgentEnded(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Minute, inactive())
	h.updateAt(11*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "back"})
	endsSessionAt(h, 12*time.Minute)
	h.run(testInput())

	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
	system := h.sf.DeliveredTexts(workflows.DeliverSystem)
	require.Equal(t, "The agent closed the chat.", system[len(system)-1])
}

// Legacy sessions close an inactive session's end as agent-ended.
func TestLegacyInactiveSessionEnded(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(workflows.ChangeInactiveEnded, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Minute, inactive())
	endsSessionAt(h, time.Hour)
	h.run(testInput())
	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
}
