package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
