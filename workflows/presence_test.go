package workflows_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// anyRecorder is an update callback that keeps whatever the update returned.
type anyRecorder struct {
	mu        sync.Mutex
	rejected  error
	completed bool
	result    any
	err       error
}

func (u *anyRecorder) Accept()          {}
func (u *anyRecorder) Reject(err error) { u.mu.Lock(); u.rejected = err; u.mu.Unlock() }
func (u *anyRecorder) Complete(success any, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.completed, u.result, u.err = true, success, err
}

func (u *anyRecorder) requireDone(t *testing.T) any {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.NoError(t, u.rejected, "update rejected")
	require.True(t, u.completed, "update not completed")
	require.NoError(t, u.err)
	return u.result
}

func (u *anyRecorder) requireRejected(t *testing.T, contains string) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	require.ErrorContains(t, u.rejected, contains)
}

func (h *harness) presenceAt(d time.Duration, id, name string, arg any) *anyRecorder {
	u := &anyRecorder{}
	h.at(d, func() { h.env.UpdateWorkflow(name, id, u, arg) })
	return u
}

func (h *harness) typingAt(d time.Duration, typing bool) *anyRecorder {
	return h.presenceAt(d, "typing-"+d.String(), workflows.UpdateTyping, workflows.UserTyping{Typing: typing})
}

// typingSeenAt samples the typing indicators sent so far at d.
func (h *harness) typingSeenAt(d time.Duration) *[]bool {
	var seen []bool
	h.at(d, func() { seen = h.sf.Typing() })
	return &seen
}

func endAt(h *harness, d time.Duration) {
	h.signalAt(d, workflows.AgentEvent{EventID: "ev-end", EntryID: "ss-end", Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
}

func TestUserTypingStartsOnceAndStopsAfterQuietTime(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	reports := []*anyRecorder{h.typingAt(10*time.Second, true), h.typingAt(11*time.Second, true), h.typingAt(13*time.Second, true)}
	// The last report was at 13 s; the default quiet time is 5 s.
	before := h.typingSeenAt(17 * time.Second)
	after := h.typingSeenAt(19 * time.Second)
	endAt(h, time.Minute)
	h.run(testInput())

	for _, r := range reports {
		r.requireDone(t)
	}
	require.Equal(t, []bool{true}, *before, "repeated reports send one started, and no stop before the quiet time")
	require.Equal(t, []bool{true, false}, *after, "stopped after the quiet time")
	require.Equal(t, []bool{true, false}, h.sf.Typing())
}

func TestUserTypingStopsWhenMessageSentOrReported(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.typingAt(10*time.Second, true)
	h.updateAt(11*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hello"})
	afterMessage := h.typingSeenAt(12 * time.Second)
	h.typingAt(20*time.Second, true)
	h.typingAt(21*time.Second, false)
	afterReport := h.typingSeenAt(22 * time.Second)
	endAt(h, time.Minute)
	h.run(testInput())

	require.Equal(t, []bool{true, false}, *afterMessage)
	require.Equal(t, []bool{true, false, true, false}, *afterReport)
	require.Equal(t, []bool{true, false, true, false}, h.sf.Typing())
}

func TestUserTypingQuietTimeIsConfigurable(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.typingAt(10*time.Second, true)
	before := h.typingSeenAt(39 * time.Second)
	after := h.typingSeenAt(41 * time.Second)
	endAt(h, time.Minute)
	in := testInput()
	in.Request.Settings.TypingQuietTime = 30 * time.Second
	h.run(in)

	require.Equal(t, []bool{true}, *before)
	require.Equal(t, []bool{true, false}, *after)
}

func TestUserTypingRejectedUnlessActive(t *testing.T) {
	h := newHarness(t)
	waiting := h.typingAt(time.Second, true)
	acceptEvents(h, 2*time.Second, "Ann")
	endAt(h, 10*time.Second)
	h.run(testInput())

	waiting.requireRejected(t, "typing is shown only while an agent chats with the user")
	require.Empty(t, h.sf.Typing())
}

func TestAgentReceiptsReachTheAssistantWithItsMessageIDs(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "first"})
	h.updateAt(11*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m2", Text: "second"})
	h.at(20*time.Second, func() {
		sent := h.sf.Sent()
		require.Len(t, sent, 3)
		// Salesforce names a message by the entry id its send answered or
		// by the MIAW message id the bridge gave it.
		for i, ev := range []workflows.AgentEvent{
			{EventID: "ev-d1", EntryID: "ack-1", Kind: workflows.AgentDeliveryAck, AckedEntryID: "entry-" + sent[1].MessageID},
			{EventID: "ev-d2", EntryID: "ack-2", Kind: workflows.AgentDeliveryAck, AckedEntryID: sent[2].MessageID},
			{EventID: "ev-r1", EntryID: "ack-3", Kind: workflows.AgentReadAck, AckedEntryID: sent[1].MessageID},
			{EventID: "ev-r0", EntryID: "ack-4", Kind: workflows.AgentReadAck, AckedEntryID: sent[0].MessageID}, // the description
			{EventID: "ev-rx", EntryID: "ack-5", Kind: workflows.AgentReadAck, AckedEntryID: "unknown"},
		} {
			ev.At = time.Date(2026, 11, 29, 12, 0, i, 0, time.UTC)
			h.env.SignalWorkflow(workflows.SignalAgentEvent, ev)
		}
	})
	endAt(h, time.Minute)
	h.run(testInput())

	deliveries := h.sf.Deliveries(workflows.DeliverReceipt)
	// The first signal wakes the workflow on its own; the ones buffered
	// meanwhile are delivered together.
	require.Len(t, deliveries, 2, "receipts signalled together are delivered together")
	var receipts []workflows.Receipt
	for _, d := range deliveries {
		require.Equal(t, workflows.StateActive, d.State)
		receipts = append(receipts, d.Receipts...)
	}
	require.Equal(t, []workflows.Receipt{
		{MessageID: "m1", Status: workflows.ReceiptDelivered, At: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)},
		{MessageID: "m2", Status: workflows.ReceiptDelivered, At: time.Date(2026, 11, 29, 12, 0, 1, 0, time.UTC)},
		{MessageID: "m1", Status: workflows.ReceiptRead, At: time.Date(2026, 11, 29, 12, 0, 2, 0, time.UTC)},
	}, receipts)
}

func TestUserReceiptsAreAcknowledgedToSalesforce(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello"})
	h.signalAt(11*time.Second, workflows.AgentEvent{EventID: "ev-11", EntryID: "msg-2", Kind: workflows.AgentMessage, SenderName: "Ann",
		Attachments: []workflows.AgentAttachment{{ID: "att-1", Name: "a.pdf", MimeType: "application/pdf", URL: "https://sf.example/att-1"}}})
	delivered := h.presenceAt(20*time.Second, "r1", workflows.UpdateReceipts,
		workflows.UserReceipts{Status: workflows.ReceiptDelivered, MessageIDs: []string{"msg-1", "msg-2/attachment/0"}})
	read := h.presenceAt(21*time.Second, "r2", workflows.UpdateReceipts,
		workflows.UserReceipts{Status: workflows.ReceiptRead, MessageIDs: []string{"msg-1"}})
	again := h.presenceAt(22*time.Second, "r3", workflows.UpdateReceipts,
		workflows.UserReceipts{Status: workflows.ReceiptDelivered, MessageIDs: []string{"msg-1"}})
	unknown := h.presenceAt(23*time.Second, "r4", workflows.UpdateReceipts,
		workflows.UserReceipts{Status: workflows.ReceiptRead, MessageIDs: []string{"not-an-agent-message"}})
	badStatus := h.presenceAt(24*time.Second, "r5", workflows.UpdateReceipts,
		workflows.UserReceipts{Status: "seen", MessageIDs: []string{"msg-1"}})
	endAt(h, time.Minute)
	h.run(testInput())

	require.Equal(t, workflows.ReceiptsResult{Queued: 2}, delivered.requireDone(t))
	require.Equal(t, workflows.ReceiptsResult{Queued: 1}, read.requireDone(t))
	require.Equal(t, workflows.ReceiptsResult{Queued: 0}, again.requireDone(t), "read implies delivered")
	unknown.requireRejected(t, `message "not-an-agent-message" is not an agent message of this session`)
	badStatus.requireRejected(t, "receipt status must be")

	var acks []workflows.EntryAck
	for _, call := range h.sf.Acknowledged() {
		require.Equal(t, h.conversationID(), call.ConversationID)
		acks = append(acks, call.Acks...)
	}
	require.Equal(t, []workflows.EntryAck{
		{EntryID: "msg-1", Status: workflows.ReceiptDelivered},
		{EntryID: "msg-2", Status: workflows.ReceiptDelivered},
		{EntryID: "msg-1", Status: workflows.ReceiptRead},
	}, acks)
	require.Len(t, h.sf.Acknowledged()[0].Acks, 2, "one update's receipts go in one call")
}

func TestReceiptsRejectedBeforeAConversation(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(workflows.ActivityCreateConversation, mock.Anything, mock.Anything).After(time.Hour).Return(workflows.CreateConversationResult{}, nil)
	r := h.presenceAt(time.Second, "r1", workflows.UpdateReceipts, workflows.UserReceipts{Status: workflows.ReceiptRead, MessageIDs: []string{"x"}})
	h.at(2*time.Second, func() { h.env.CancelWorkflow() })
	h.env.ExecuteWorkflow(workflows.WorkflowName, testInput())
	r.requireRejected(t, "no agent has joined the session yet")
}

func TestAgentTypingCarriesAnExpiry(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-t1", EntryID: "typ-1", Kind: workflows.AgentTypingStarted, SenderName: "Ann"})
	h.signalAt(12*time.Second, workflows.AgentEvent{EventID: "ev-t2", EntryID: "typ-2", Kind: workflows.AgentTypingStopped, SenderName: "Ann"})
	endAt(h, time.Minute)
	in := testInput()
	in.Request.Settings.AgentTypingExpiry = 7 * time.Second
	h.run(in)

	typing := h.sf.Deliveries(workflows.DeliverTyping)
	require.Len(t, typing, 2)
	require.True(t, typing[0].Typing)
	require.Equal(t, typing[0].At.Add(7*time.Second), typing[0].ExpiresAt)
	require.False(t, typing[1].Typing)
	require.True(t, typing[1].ExpiresAt.IsZero(), "a stop needs no expiry")
	require.False(t, slices.ContainsFunc(h.sf.Delivered(), func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverReceipt }))
}

// Salesforce may acknowledge a message before the send's answer (naming
// its entry id) reaches the workflow: the receipt waits for the send.
func TestAgentReceiptBeforeTheSendAnswered(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(workflows.ActivitySendMessage, mock.Anything, mock.Anything).After(10 * time.Second).
		Return(func(_ context.Context, in workflows.SendMessageInput) (workflows.SendResult, error) {
			return workflows.SendResult{EntryID: "sf-" + in.MessageID}, nil
		})
	acceptEvents(h, 20*time.Second, "Ann")
	h.updateAt(40*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "first"})
	h.at(45*time.Second, func() {
		conv := h.conversationID()
		h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-d1", EntryID: "ack-1",
			Kind: workflows.AgentDeliveryAck, AckedEntryID: "sf-" + workflows.MIAWMessageID(conv, "m1")})
	})
	endAt(h, 2*time.Minute)
	h.run(testInput())

	deliveries := h.sf.Deliveries(workflows.DeliverReceipt)
	require.Len(t, deliveries, 1)
	require.Len(t, deliveries[0].Receipts, 1)
	require.Equal(t, "m1", deliveries[0].Receipts[0].MessageID)
	require.Equal(t, workflows.ReceiptDelivered, deliveries[0].Receipts[0].Status)
}
