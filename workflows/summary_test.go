package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// The closed delivery (and the result) sum the session up for the assistant.
func TestClosedDeliverySummarisesSession(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Minute, "Ann")
	h.signalAt(2*time.Minute, workflows.AgentEvent{EventID: "ev-m", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hi"})
	h.updateAt(3*time.Minute, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "Hello"})
	h.signalAt(5*time.Minute, workflows.AgentEvent{EventID: "ev-end", EntryID: "ss-9", Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	h.run(testInput())

	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	sum := closed[0].Summary
	require.NotNil(t, sum)
	require.Equal(t, workflows.ClosedByAgent, sum.ClosedBy)
	require.Equal(t, "Ann", sum.AgentName)
	require.Equal(t, time.Minute, sum.WaitTime.Truncate(time.Second))
	require.Equal(t, 4*time.Minute, sum.ChatTime.Truncate(time.Second))
	require.Equal(t, 2, sum.UserMessages, "the description and one message")
	require.Equal(t, 1, sum.AgentMessages)
	require.NotEmpty(t, sum.RunID)
	require.Equal(t, sum, h.result().Summary)
}

func TestSummaryOfUnansweredSession(t *testing.T) {
	h := newHarness(t)
	h.run(testInput())
	sum := h.result().Summary
	require.NotNil(t, sum)
	require.Equal(t, workflows.ClosedBySystem, sum.ClosedBy)
	require.Empty(t, sum.AgentName)
	require.Zero(t, sum.ChatTime)
	require.GreaterOrEqual(t, sum.WaitTime, testSettings().AcceptTimeout)
}
