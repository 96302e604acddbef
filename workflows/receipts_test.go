package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// receiptTarget asks QueryReceiptTarget now.
func (h *harness) receiptTarget(acked string) workflows.ReceiptTarget {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryReceiptTarget, acked)
	require.NoError(h.t, err)
	var target workflows.ReceiptTarget
	require.NoError(h.t, v.Get(&target))
	return target
}

// The listener delivers a receipt itself only for a message the session
// names; the id it delivers under is the one the session would use.
func TestReceiptTargetNamesTheAssistantsMessage(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "first"})
	var answers map[string]workflows.ReceiptTarget
	h.at(20*time.Second, func() {
		sent := h.sf.Sent()
		require.Len(t, sent, 2)
		answers = map[string]workflows.ReceiptTarget{}
		for _, acked := range []string{"entry-" + sent[1].MessageID, sent[1].MessageID, sent[0].MessageID, "unknown"} {
			answers[acked] = h.receiptTarget(acked)
		}
		// The same receipt signalled: the session delivers it itself.
		h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-d1", EntryID: "ack-1",
			Kind: workflows.AgentDeliveryAck, AckedEntryID: sent[1].MessageID})
	})
	endAt(h, time.Minute)
	h.run(testInput())

	sent := h.sf.Sent()
	active := workflows.ReceiptTarget{MessageID: "m1", State: workflows.StateActive}
	require.Equal(t, active, answers["entry-"+sent[1].MessageID], "by the entry id the send answered")
	require.Equal(t, active, answers[sent[1].MessageID], "by the MIAW message id")
	require.Equal(t, workflows.ReceiptTarget{State: workflows.StateActive}, answers[sent[0].MessageID], "the description is no message of the assistant")
	require.Equal(t, workflows.ReceiptTarget{State: workflows.StateActive}, answers["unknown"])

	deliveries := h.sf.Deliveries(workflows.DeliverReceipt)
	require.Len(t, deliveries, 1)
	require.Equal(t, workflows.ReceiptDeliveryID(h.conversationID(), "ack-1"), deliveries[0].ID,
		"a receipt delivered by the listener and by the session has one id")

	require.Empty(t, h.receiptTarget(sent[1].MessageID).MessageID, "an ended session's receipts are signalled (and dropped)")
}
