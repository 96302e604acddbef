package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// historyLength is the number of events in the history of workflowID's
// latest run.
func historyLength(t *testing.T, s *stack, workflowID string) int {
	t.Helper()
	n := 0
	it := s.tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		_, err := it.Next()
		require.NoError(t, err)
		n++
	}
	return n
}

// What a brokered message costs in history, measured on a live session by
// sending messages one at a time: one more agent message costs at most 6
// events (its signal, a workflow task, the delivery's marker), the agent's
// typing before it included; one more user message at most 6 too (its
// update accepted and completed, a workflow task, the send's marker), the
// agent's automatic delivery receipt included. Typing and receipts reach the
// assistant from the listener, not through history.
func TestHistoryEventsPerBrokeredMessage(t *testing.T) {
	s := newStackWith(t, emulator.Config{})
	ctx := context.Background()
	const user, messages = "u-history-cost", 5
	sess, conv := s.startAccepted(t, user, "Counting events")

	// The agent types, then sends, as in Salesforce's console.
	typingThenSend := func(i int) {
		require.NoError(t, s.emu.AgentTyping(conv, true))
		eventually(t, fmt.Sprintf("typing delivery %d", i+1), func() bool {
			n := 0
			for _, d := range s.sink.forUser(user) {
				if d.Kind == workflows.DeliverTyping && d.Typing {
					n++
				}
			}
			return n == i+1
		})
		text := fmt.Sprintf("agent message %d", i)
		_, err := s.emu.AgentSend(conv, text)
		require.NoError(t, err)
		s.sink.await(t, user, text, func(d workflows.Delivery) bool { return d.Text == text })
	}
	// One message first: the agent's receipts of the description, sent on
	// accepting, come on the stream before it, so they are handled (as
	// signals: the session names no message for them) before the count
	// starts rather than counted as the first message's cost.
	typingThenSend(0)
	before := historyLength(t, s, sess.WorkflowID)
	for i := range messages {
		typingThenSend(i + 1)
	}
	afterAgent := historyLength(t, s, sess.WorkflowID)
	for i := range messages {
		_, err := s.starter.SendMessage(ctx, user, fmt.Sprintf("m-%d", i), fmt.Sprintf("user message %d", i))
		require.NoError(t, err)
	}
	// Every user message's automatic delivery receipt reached the assistant
	// before the count, so the count has whatever the receipts cost.
	for i := range messages {
		id := fmt.Sprintf("m-%d", i)
		s.sink.await(t, user, "the delivery receipt of "+id, func(d workflows.Delivery) bool {
			return d.Kind == workflows.DeliverReceipt && hasReceipt(d, id, workflows.ReceiptDelivered)
		})
	}
	afterUser := historyLength(t, s, sess.WorkflowID)

	perAgent := float64(afterAgent-before) / messages
	perUser := float64(afterUser-afterAgent) / messages
	t.Logf("history events per message: agent→user %.1f, user→agent %.1f", perAgent, perUser)
	require.LessOrEqual(t, perAgent, 6.0, "history events per agent message, its typing included")
	require.LessOrEqual(t, perUser, 6.0, "history events per user message, its receipt included")
}
