package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// listenerDelivery asks QueryListenerDelivery now.
func (h *harness) listenerDelivery(ev workflows.AgentEvent) workflows.ListenerDelivery {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(workflows.QueryListenerDelivery, ev)
	require.NoError(h.t, err)
	var ld workflows.ListenerDelivery
	require.NoError(h.t, v.Get(&ld))
	return ld
}

// The listener delivers a receipt itself only for a message the session
// names, under the id and in the form the session would have delivered it.
func TestListenerDeliveryOfReceipts(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "first"})
	ack := func(acked string) workflows.AgentEvent {
		return workflows.AgentEvent{EventID: "ev-d1", EntryID: "ack-1", Kind: workflows.AgentDeliveryAck, AckedEntryID: acked,
			At: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	}
	answers := map[string]workflows.ListenerDelivery{}
	var ended workflows.ListenerDelivery
	h.at(20*time.Second, func() {
		sent := h.sf.Sent()
		require.Len(t, sent, 2)
		for _, acked := range []string{"entry-" + sent[1].MessageID, sent[1].MessageID, sent[0].MessageID, "unknown"} {
			answers[acked] = h.listenerDelivery(ack(acked))
		}
		// The same receipt signalled: the session delivers it itself.
		h.env.SignalWorkflow(workflows.SignalAgentEvent, ack(sent[1].MessageID))
	})
	endAt(h, time.Minute)
	h.run(testInput())
	ended = h.listenerDelivery(ack(h.sf.Sent()[1].MessageID))

	sent := h.sf.Sent()
	signalled := h.sf.Deliveries(workflows.DeliverReceipt)
	require.Len(t, signalled, 1)
	want := signalled[0]
	want.At = time.Time{} // the listener sets it
	for _, acked := range []string{"entry-" + sent[1].MessageID, sent[1].MessageID} {
		require.Equal(t, want, answers[acked].Delivery, "the receipt named by %s", acked)
	}
	require.Equal(t, workflows.StateActive, want.State)
	require.Equal(t, []workflows.Receipt{{MessageID: "m1", Status: workflows.ReceiptDelivered, At: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}}, want.Receipts)
	require.Empty(t, answers[sent[0].MessageID].Delivery.ID, "the description is no message of the assistant")
	require.Empty(t, answers["unknown"].Delivery.ID)
	require.Empty(t, ended.Delivery.ID, "an ended session's events are signalled (and dropped)")
}

// Agent typing: the listener's delivery is the session's, At and ExpiresAt
// left to the listener with the session's expiry; none before an agent
// accepted.
func TestListenerDeliveryOfTyping(t *testing.T) {
	h := newHarness(t)
	typing := workflows.AgentEvent{EventID: "ev-t1", EntryID: "typ-1", Kind: workflows.AgentTypingStarted, SenderName: "Ann"}
	var waiting, active workflows.ListenerDelivery
	h.at(500*time.Millisecond, func() { waiting = h.listenerDelivery(typing) })
	acceptEvents(h, time.Second, "Ann")
	h.at(10*time.Second, func() { active = h.listenerDelivery(typing) })
	h.signalAt(11*time.Second, typing)
	endAt(h, time.Minute)
	in := testInput()
	in.Request.Settings.AgentTypingExpiry = 7 * time.Second
	h.run(in)

	require.Empty(t, waiting.Delivery.ID, "no typing is shown before an agent accepted")
	signalled := h.sf.Deliveries(workflows.DeliverTyping)
	require.Len(t, signalled, 1)
	want := signalled[0]
	require.Equal(t, want.At.Add(7*time.Second), want.ExpiresAt)
	want.At, want.ExpiresAt = time.Time{}, time.Time{}
	require.Equal(t, want, active.Delivery)
	require.Equal(t, 7*time.Second, active.TypingExpiry)
}
