package workflows_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/internal/sessionfakes"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestAcceptedSessionBrokersBothWays(t *testing.T) {
	h := newHarness(t)
	h.signalAt(time.Second, workflows.AgentEvent{EventID: "ev-1", EntryID: "rr-1", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "None", EstimatedWait: 3 * time.Minute})
	h.signalAt(2*time.Second, workflows.AgentEvent{EventID: "ev-2", EntryID: "qp-1", Kind: workflows.AgentQueuePosition, QueuePosition: 2})
	waiting := h.queryAt(2500 * time.Millisecond)
	m1 := h.updateAt(3*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "first while waiting"})
	m2 := h.updateAt(4*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m2", Text: "second while waiting"})
	acceptEvents(h, 5*time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello, how can I help?"})
	h.signalAt(11*time.Second, workflows.AgentEvent{EventID: "ev-11", EntryID: "msg-2", Kind: workflows.AgentMessage, SenderName: "Ann",
		Link: &workflows.Link{URL: "https://help.example.com/invoices", Title: "Invoices"}})
	h.signalAt(12*time.Second, workflows.AgentEvent{EventID: "ev-12", EntryID: "msg-3", Kind: workflows.AgentMessage, SenderName: "Ann",
		Attachments: []workflows.AgentAttachment{{ID: "att-1", Name: "invoice.pdf", MimeType: "application/pdf", URL: "https://sf.example/att-1"}}})
	h.signalAt(13*time.Second, workflows.AgentEvent{EventID: "ev-13", EntryID: "typ-1", Kind: workflows.AgentTypingStarted, SenderName: "Ann"})
	m3 := h.updateAt(14*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m3", Text: "thanks"})
	a1 := h.updateAt(15*time.Second, workflows.UpdateSendAttachment, workflows.UserAttachment{ID: "a1", Name: "screenshot.png",
		MimeType: "image/png", Size: 500, SHA256: sha, Caption: "see this"})
	active := h.queryAt(16 * time.Second)
	h.signalAt(20*time.Second, workflows.AgentEvent{EventID: "ev-20", EntryID: "pc-2", Kind: workflows.AgentLeft, SenderName: "Ann"})
	h.signalAt(21*time.Second, workflows.AgentEvent{EventID: "ev-21", EntryID: "ss-2", Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})

	h.run(testInput())
	res := h.result()
	conv := h.conversationID()

	require.Equal(t, workflows.CloseAgentEnded, res.CloseReason)
	require.Equal(t, conv, res.ConversationID)
	require.True(t, workflows.IsLowerUUID(conv), "conversation id %q is not a lowercase UUID", conv)

	// Conversation created with the routing attributes; description first.
	require.Equal(t, map[string]string{"LA_UserId": "u-42", "LA_Topic": "billing"}, h.sf.Created()[0].RoutingAttributes)
	require.Equal(t, "en_US", h.sf.Created()[0].Language)
	require.Equal(t, []string{"My invoice is wrong.", "first while waiting", "second while waiting", "thanks"}, h.sf.SentTexts())
	require.Equal(t, workflows.MIAWMessageID(conv, "m1"), h.sf.Sent()[1].MessageID)
	require.Equal(t, workflows.MIAWMessageID(conv, workflows.DescriptionMessageID), h.sf.Sent()[0].MessageID)

	m1.requireResult(t, workflows.UpdateQueued)
	m2.requireResult(t, workflows.UpdateQueued)
	r3 := m3.requireResult(t, workflows.UpdateSent)
	require.Equal(t, "entry-"+workflows.MIAWMessageID(conv, "m3"), r3.EntryID)
	ra := a1.requireResult(t, workflows.UpdateSent)
	require.Equal(t, "entry-"+workflows.MIAWMessageID(conv, "a1"), ra.EntryID)
	require.Len(t, h.sf.Attachments(), 1)
	require.Equal(t, sha, h.sf.Attachments()[0].Attachment.SHA256)

	// The user saw: wait estimate, queue position, greeting once, the
	// agent's text, link and attachment, typing, then the end.
	system := h.sf.DeliveredTexts(workflows.DeliverSystem)
	require.Equal(t, []string{
		"An agent will be with you in about 3 minutes.",
		"You are number 2 in the queue.",
		"Hi, an agent is here.",
		"The agent closed the chat.",
	}, system)
	agent := h.sf.Deliveries(workflows.DeliverAgentMessage)
	require.Len(t, agent, 3)
	require.Equal(t, "msg-1", agent[0].ID)
	require.Equal(t, "Hello, how can I help?", agent[0].Text)
	require.Equal(t, "https://help.example.com/invoices", agent[1].Link.URL)
	require.NotNil(t, agent[2].Attachment)
	require.Equal(t, "invoice.pdf", agent[2].Attachment.Name)
	require.Equal(t, sessionfakes.AttachmentURL, agent[2].Attachment.URL)
	require.Len(t, h.sf.Downloads(), 1)
	require.Equal(t, int64(1000), h.sf.Downloads()[0].MaxSize)
	typing := h.sf.Deliveries(workflows.DeliverTyping)
	require.Len(t, typing, 1)
	require.True(t, typing[0].Typing)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseAgentEnded, closed[0].CloseReason)
	require.Equal(t, workflows.StateClosed, closed[0].State)

	// Salesforce side ended exactly once; the listener started once.
	require.Equal(t, []workflows.EndConversationInput{{UserID: "u-42", ConversationID: conv}}, h.sf.Ended())
	require.Len(t, h.listenerStarts(), 1)
	// The first listener starts at the stream position recorded before the
	// conversation was created, not the one a (retried) create reported, so
	// it cannot miss routing or accept events.
	require.Equal(t, workflows.ListenInput{WorkflowID: workflows.WorkflowID("u-42"), UserID: "u-42", ConversationID: conv,
		LastEventID: sessionfakes.StreamPosition}, h.listenerStarts()[0])

	// Query while waiting and while active.
	require.Equal(t, workflows.StateWaiting, waiting.State)
	require.Equal(t, 2, waiting.QueuePosition)
	require.Equal(t, 3*time.Minute, waiting.EstimatedWait)
	require.Equal(t, workflows.StateActive, active.State)
	require.Equal(t, "Ann", active.AgentName)
	require.Equal(t, conv, active.ConversationID)

	// The final transcript (query after completion).
	final := h.finalView()
	require.Equal(t, workflows.StateClosed, final.State)
	require.Equal(t, workflows.CloseAgentEnded, final.CloseReason)
	var users, agents []string
	for _, e := range final.Transcript {
		switch e.From {
		case workflows.FromUser:
			users = append(users, e.ID)
		case workflows.FromAgent:
			agents = append(agents, e.ID)
		}
	}
	require.Equal(t, []string{workflows.DescriptionMessageID, "m1", "m2", "m3", "a1"}, users)
	require.Equal(t, []string{"msg-1", "msg-2", "msg-3/attachment/0"}, agents)
	require.Equal(t, len(final.Transcript), res.Messages)
}

func TestAcceptTimeout(t *testing.T) {
	h := newHarness(t)
	h.signalAt(time.Minute, workflows.AgentEvent{EventID: "ev-1", EntryID: "qp-1", Kind: workflows.AgentQueuePosition, QueuePosition: 5})
	h.run(testInput())
	res := h.result()

	require.Equal(t, workflows.CloseAcceptTimeout, res.CloseReason)
	require.Equal(t, []string{"You are number 5 in the queue.", "No agent is free right now."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
	require.Equal(t, h.conversationID(), h.sf.Ended()[0].ConversationID)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseAcceptTimeout, closed[0].CloseReason)
	// The timer fired after the configured timeout, not before.
	final := h.finalView()
	require.GreaterOrEqual(t, closed[0].At.Sub(final.StartedAt), 10*time.Minute)
}

func TestUserClose(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	closeUpd, late := &updateRecorder{}, &updateRecorder{}
	h.at(10*time.Second, func() {
		h.env.UpdateWorkflow(workflows.UpdateClose, "close-1", closeUpd, workflows.UserClose{ID: "c1", Reason: "solved"})
		h.env.UpdateWorkflow(workflows.UpdateSendMessage, "late-1", late, workflows.UserMessage{ID: "late", Text: "one more thing"})
	})
	h.run(testInput())
	res := h.result()

	require.Equal(t, workflows.CloseUserClosed, res.CloseReason)
	closeUpd.requireResult(t, workflows.UpdateClosed)
	late.requireRejected(t, "session is closing")
	require.Len(t, h.sf.Ended(), 1)
	require.Equal(t, []string{"Hi, an agent is here."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Equal(t, []string{"My invoice is wrong."}, h.sf.SentTexts())
}

func TestUserCloseWhileWaiting(t *testing.T) {
	h := newHarness(t)
	h.updateAt(time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "kept"})
	closeUpd := h.updateAt(2*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	closeUpd.requireResult(t, workflows.UpdateClosed)
	require.Len(t, h.sf.Ended(), 1)
	// The kept message was never sent: nobody accepted.
	require.Equal(t, []string{"My invoice is wrong."}, h.sf.SentTexts())
}

func TestAgentClosesConversation(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-9", EntryID: "cc-1", Kind: workflows.AgentConversationShut})
	h.run(testInput())
	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
	require.Equal(t, []string{"Hi, an agent is here.", "The agent closed the chat."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
}

// Agent events that arrive while the session is shutting down (Salesforce
// echoes the end and close) are read and dropped on purpose, not left as
// unhandled signals, and nothing is delivered after the closed notice.
func TestAgentEventsDuringShutdownAreDropped(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-9", EntryID: "ss-9", Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
	h.sf.DeliverErr = func(_ context.Context, d workflows.Delivery) error {
		if d.Text == testSettings().AgentEndedMessage { // shutdown has begun
			h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-10", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "too late"})
			h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-11", EntryID: "cc-11", Kind: workflows.AgentConversationShut})
		}
		return nil
	}
	h.run(testInput())
	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
	for _, d := range h.sf.Deliveries(workflows.DeliverAgentMessage) {
		require.NotEqual(t, "too late", d.Text, "delivered after the session ended")
	}
	logs := h.logs.String()
	require.NotContains(t, logs, "unhandled signals")
	require.Contains(t, logs, "Agent events after the session ended were not delivered")
	require.Contains(t, logs, "count=2")
}

func TestTransferKeepsSessionOpen(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-10", EntryID: "pc-2", Kind: workflows.AgentLeft, SenderName: "Ann"})
	h.signalAt(11*time.Second, workflows.AgentEvent{EventID: "ev-11", EntryID: "rr-2", Kind: workflows.AgentRoutingResult, RoutingType: "Transfer", FailureType: "None"})
	during := h.queryAt(12 * time.Second)
	h.signalAt(13*time.Second, workflows.AgentEvent{EventID: "ev-13", EntryID: "pc-3", Kind: workflows.AgentJoined, SenderName: "Bob", SenderRole: "Agent"})
	h.signalAt(14*time.Second, workflows.AgentEvent{EventID: "ev-14", EntryID: "msg-9", Kind: workflows.AgentMessage, SenderName: "Bob", Text: "Bob here"})
	msg := h.updateAt(15*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hi Bob"})
	after := h.queryAt(16 * time.Second)
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, workflows.StateActive, during.State)
	require.Equal(t, workflows.StateActive, after.State)
	require.Equal(t, "Bob", after.AgentName)
	require.Equal(t, []string{
		"Hi, an agent is here.",
		"You are being transferred to another agent. Please wait.",
		"You are now chatting with Bob.",
	}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	agent := h.sf.Deliveries(workflows.DeliverAgentMessage)
	require.Len(t, agent, 1)
	require.Equal(t, "Bob", agent[0].SenderName)
	msg.requireResult(t, workflows.UpdateSent)
	require.Len(t, h.sf.Ended(), 1)
}

func TestDuplicateAgentEventsDeliveredOnce(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	ev := workflows.AgentEvent{EventID: "ev-10", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "only once"}
	h.signalAt(10*time.Second, ev)
	replayed := ev
	replayed.EventID = "ev-10-replayed" // a resumed stream may renumber; the entry id is the key
	h.signalAt(11*time.Second, replayed)
	h.signalAt(11*time.Second, ev)
	// A duplicate accept (listener retry) must not greet twice.
	acceptEvents(h, 12*time.Second, "Ann")
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	require.Len(t, h.sf.Deliveries(workflows.DeliverAgentMessage), 1)
	require.Equal(t, []string{"Hi, an agent is here."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

func TestRetriedUpdateIsNotSentTwice(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	first := h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hello"})
	retry := h.updateAt(11*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "hello"})
	uuidID := "6f1c4a52-2b0e-4c1e-9d53-3d8f1f2b7a10"
	third := h.updateAt(12*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: uuidID, Text: "uuid id"})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	r1 := first.requireResult(t, workflows.UpdateSent)
	r2 := retry.requireResult(t, workflows.UpdateDuplicate)
	require.Equal(t, r1.EntryID, r2.EntryID)
	third.requireResult(t, workflows.UpdateSent)
	require.Equal(t, []string{"My invoice is wrong.", "hello", "uuid id"}, h.sf.SentTexts())
	// A lowercase UUID is used as the MIAW message id as is.
	require.Equal(t, uuidID, h.sf.Sent()[2].MessageID)
}

func TestMessagesWhileWaitingAreSentInOrderAfterAccept(t *testing.T) {
	h := newHarness(t)
	var recs []*updateRecorder
	for i, text := range []string{"one", "two", "three", "four"} {
		recs = append(recs, h.updateAt(time.Duration(i+1)*time.Second, workflows.UpdateSendMessage,
			workflows.UserMessage{ID: "w" + text, Text: text}))
	}
	acceptEvents(h, 10*time.Second, "Ann")
	// Sent right after accept, while the queue may still be flushing.
	after := h.updateAt(10*time.Second+500*time.Millisecond, workflows.UpdateSendMessage, workflows.UserMessage{ID: "later", Text: "five"})
	h.updateAt(30*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	for _, r := range recs {
		r.requireResult(t, workflows.UpdateQueued)
	}
	after.mu.Lock()
	status := after.result.Status
	after.mu.Unlock()
	require.Contains(t, []workflows.UpdateStatus{workflows.UpdateSent, workflows.UpdateQueued}, status)
	require.Equal(t, []string{"My invoice is wrong.", "one", "two", "three", "four", "five"}, h.sf.SentTexts())
	// The greeting reached the user before anything queued went out.
	require.Equal(t, []string{"Hi, an agent is here."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

func TestRoutingFailureWhileWaiting(t *testing.T) {
	h := newHarness(t)
	h.signalAt(time.Second, workflows.AgentEvent{EventID: "ev-1", EntryID: "rr-1", Kind: workflows.AgentRoutingResult,
		RoutingType: "Initial", FailureType: "RoutingError"})
	h.run(testInput())
	require.Equal(t, workflows.CloseRoutingFailed, h.result().CloseReason)
	require.Equal(t, []string{workflows.RoutingFailedMessage}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
}

// A routing failure that Salesforce reports just before an agent accepts
// does not end the session when both reach the workflow together (here:
// while the description is being sent): the accept wins.
func TestAcceptAfterRoutingFailureInOneBatchKeepsSession(t *testing.T) {
	h := newHarness(t)
	h.sf.SendErr = func(in workflows.SendMessageInput) error {
		if len(h.sf.Sent()) == 1 { // the description
			h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-1", EntryID: "rr-1",
				Kind: workflows.AgentRoutingResult, RoutingType: "Initial", FailureType: "RoutingError"})
			h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-2", EntryID: "pc-1",
				Kind: workflows.AgentJoined, SenderName: "Ann", SenderRole: "Agent"})
		}
		return nil
	}
	during := h.queryAt(5 * time.Second)
	h.updateAt(10*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())
	require.Equal(t, workflows.StateActive, during.State)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, []string{"Hi, an agent is here."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
}

// When the agent ends the chat and the user closes it in the same step, the
// session reports the user's close, and the user gets no agent-ended notice.
func TestUserCloseOutranksAgentEndInOneStep(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-9", EntryID: "msg-9", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "bye"})
	closing := &updateRecorder{}
	h.sf.DeliverErr = func(_ context.Context, d workflows.Delivery) error {
		if d.Text == "bye" {
			h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-10", EntryID: "ss-10",
				Kind: workflows.AgentSessionStatus, SessionStatus: "Ended"})
			h.env.UpdateWorkflow(workflows.UpdateClose, "close-1", closing, workflows.UserClose{ID: "c1"})
		}
		return nil
	}
	h.run(testInput())
	closing.requireResult(t, workflows.UpdateClosed)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
	require.Equal(t, []string{"Hi, an agent is here."}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Len(t, h.sf.Ended(), 1)
}

func TestContinueAsNewCarriesState(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(5*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "before"})
	h.signalAt(6*time.Second, workflows.AgentEvent{EventID: "ev-6", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "hi"})
	h.at(10*time.Second, func() {
		h.env.SetContinueAsNewSuggested(true)
		h.env.SignalWorkflow(workflows.SignalAgentEvent, workflows.AgentEvent{EventID: "ev-10", EntryID: "rd-1", Kind: workflows.AgentReadAck, AckedEntryID: "x"})
	})
	h.run(testInput())

	err := h.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "expected continue-as-new, got %v", err)
	require.Equal(t, workflows.WorkflowName, can.WorkflowType.Name)
	var next workflows.SessionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))

	conv := h.conversationID()
	require.Equal(t, testInput().Request.UserID, next.Request.UserID)
	require.NotNil(t, next.Carry)
	c := next.Carry
	require.Equal(t, workflows.StateActive, c.State)
	require.Equal(t, conv, c.ConversationID)
	require.Equal(t, "Ann", c.AgentName)
	require.Equal(t, "ev-10", c.LastEventID)
	require.Equal(t, []string{"wr-1", "pc-1", "ss-1", "msg-1", "rd-1"}, c.SeenEntryIDs)
	require.Equal(t, []string{"m1"}, c.SeenUserMessageIDs)
	require.Empty(t, c.Pending)
	require.NotEmpty(t, c.Transcript)
	// Nothing was ended: the conversation lives on in the next run.
	require.Empty(t, h.sf.Ended())
	require.Empty(t, h.sf.Deliveries(workflows.DeliverClosed))
}

func TestContinueAsNewHookCarriesPendingWhileWaiting(t *testing.T) {
	h := newHarness(t)
	in := testInput()
	in.ContinueAsNewAfterEvents = 2
	h.updateAt(time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "w1", Text: "kept 1"})
	h.updateAt(2*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "w2", Text: "kept 2"})
	h.signalAt(3*time.Second, workflows.AgentEvent{EventID: "ev-3", EntryID: "qp-1", Kind: workflows.AgentQueuePosition, QueuePosition: 3})
	h.signalAt(4*time.Second, workflows.AgentEvent{EventID: "ev-4", EntryID: "qp-2", Kind: workflows.AgentQueuePosition, QueuePosition: 2})
	h.run(in)

	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, h.env.GetWorkflowError(), &can)
	var next workflows.SessionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.Equal(t, 2, next.ContinueAsNewAfterEvents)
	c := next.Carry
	require.Equal(t, workflows.StateWaiting, c.State)
	require.Equal(t, []workflows.UserMessage{{ID: "w1", Text: "kept 1"}, {ID: "w2", Text: "kept 2"}}, c.Pending)
	require.Equal(t, "ev-4", c.LastEventID)
	require.False(t, c.WaitingSince.IsZero())
}

func TestContinuedRunResumes(t *testing.T) {
	h := newHarness(t)
	conv := "0b0c4a52-2b0e-4c1e-9d53-3d8f1f2b7a10"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := testInput()
	in.Carry = &workflows.Carry{
		State:              workflows.StateActive,
		ConversationID:     conv,
		StartedAt:          start,
		WaitingSince:       start,
		AgentName:          "Ann",
		LastEventID:        "ev-10",
		SeenEntryIDs:       []string{"msg-1"},
		SeenUserMessageIDs: []string{"m1"},
		Pending:            []workflows.UserMessage{{ID: "p1", Text: "carried"}},
		Transcript:         []workflows.TranscriptEntry{{ID: "m1", From: workflows.FromUser, Text: "before"}},
	}
	dup := h.updateAt(time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m1", Text: "before"})
	h.signalAt(2*time.Second, workflows.AgentEvent{EventID: "ev-11", EntryID: "msg-1", Kind: workflows.AgentMessage, Text: "seen before"})
	h.signalAt(3*time.Second, workflows.AgentEvent{EventID: "ev-12", EntryID: "msg-2", Kind: workflows.AgentMessage, Text: "new"})
	h.updateAt(5*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(in)

	res := h.result()
	require.Equal(t, workflows.CloseUserClosed, res.CloseReason)
	require.Empty(t, h.sf.Created(), "a continued run must not create another conversation")
	require.Equal(t, []workflows.ListenInput{{WorkflowID: workflows.WorkflowID("u-42"), UserID: "u-42", ConversationID: conv, LastEventID: "ev-10"}}, h.listenerStarts())
	dup.requireResult(t, workflows.UpdateDuplicate)
	require.Equal(t, []string{"carried"}, h.sf.SentTexts())
	require.Equal(t, workflows.MIAWMessageID(conv, "p1"), h.sf.Sent()[0].MessageID)
	agent := h.sf.Deliveries(workflows.DeliverAgentMessage)
	require.Len(t, agent, 1)
	require.Equal(t, "new", agent[0].Text)
	require.Empty(t, h.sf.DeliveredTexts(workflows.DeliverSystem), "no second greeting after continue-as-new")
	require.Equal(t, []workflows.EndConversationInput{{UserID: "u-42", ConversationID: conv}}, h.sf.Ended())
}

func TestCleanupAfterDescriptionSendFails(t *testing.T) {
	h := newHarness(t)
	h.sf.SendErr = func(workflows.SendMessageInput) error {
		return temporal.NewNonRetryableApplicationError("conversation rejected", "MiawBadRequest", nil)
	}
	h.run(testInput())

	err := h.env.GetWorkflowError()
	require.Error(t, err)
	require.Contains(t, err.Error(), "send description")
	require.Len(t, h.sf.Sent(), 1, "a non-retryable failure is not retried")
	require.Equal(t, []workflows.EndConversationInput{{UserID: "u-42", ConversationID: h.conversationID()}}, h.sf.Ended())
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseFailed, closed[0].CloseReason)
	require.Equal(t, []string{workflows.FailedMessage}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	require.Empty(t, h.listenerStarts(), "no listener before the conversation is open")
}

func TestCleanupAfterCreateConversationFails(t *testing.T) {
	h := newHarness(t)
	h.sf.CreateErr = temporal.NewNonRetryableApplicationError("invalid routing attributes", "MiawBadRequest", nil)
	h.run(testInput())

	require.ErrorContains(t, h.env.GetWorkflowError(), "create conversation")
	require.Empty(t, h.sf.Sent())
	// The create may have reached Salesforce, so the cleanup ends it anyway.
	require.Len(t, h.sf.Ended(), 1)
	require.Equal(t, h.sf.Created()[0].ConversationID, h.sf.Ended()[0].ConversationID)
}

func TestFailedUserMessageCanBeRetried(t *testing.T) {
	h := newHarness(t)
	calls := 0
	h.sf.SendErr = func(in workflows.SendMessageInput) error {
		if in.Text != "flaky" {
			return nil
		}
		calls++
		if calls == 1 {
			return temporal.NewNonRetryableApplicationError("payload too large", "MiawBadRequest", nil)
		}
		return nil
	}
	acceptEvents(h, time.Second, "Ann")
	first := h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "f1", Text: "flaky"})
	retry := h.updateAt(11*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "f1", Text: "flaky"})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	h.run(testInput())

	first.mu.Lock()
	require.ErrorContains(t, first.err, "payload too large")
	first.mu.Unlock()
	retry.requireResult(t, workflows.UpdateSent)
	require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
}

func TestListenerFailureClosesSession(t *testing.T) {
	h := newHarnessWithListener(t, time.Minute,
		temporal.NewNonRetryableApplicationError("token rejected", "MiawUnauthorized", nil))
	acceptEvents(h, time.Second, "Ann")
	h.run(testInput())

	require.ErrorContains(t, h.env.GetWorkflowError(), "listener stopped")
	require.Len(t, h.sf.Ended(), 1)
	require.Equal(t, []string{"Hi, an agent is here.", workflows.FailedMessage}, h.sf.DeliveredTexts(workflows.DeliverSystem))
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseFailed, closed[0].CloseReason)
}

func TestCancellationRunsCleanup(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.at(10*time.Second, h.env.CancelWorkflow)
	h.run(testInput())

	err := h.env.GetWorkflowError()
	require.Error(t, err)
	var canceled *temporal.CanceledError
	require.ErrorAs(t, err, &canceled)
	require.Len(t, h.sf.Ended(), 1)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1)
	require.Equal(t, workflows.CloseCancelled, closed[0].CloseReason)
}

func TestUpdateValidatorsReject(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	cases := []struct {
		name, contains string
		update         string
		arg            any
	}{
		{"empty text", "message text is empty", workflows.UpdateSendMessage, workflows.UserMessage{ID: "e1", Text: "  "}},
		{"no id", "message id is empty", workflows.UpdateSendMessage, workflows.UserMessage{Text: "hi"}},
		{"too long", "the limit is 100", workflows.UpdateSendMessage, workflows.UserMessage{ID: "e2", Text: strings.Repeat("x", 101)}},
		{"attachment too large", "the limit is 1000", workflows.UpdateSendAttachment,
			workflows.UserAttachment{ID: "a1", Name: "big.png", MimeType: "image/png", Size: 1001, SHA256: sha}},
		{"attachment type", `"text/html" is not allowed`, workflows.UpdateSendAttachment,
			workflows.UserAttachment{ID: "a2", Name: "x.html", MimeType: "text/html; charset=utf-8", Size: 10, SHA256: sha}},
		{"attachment hash", "SHA256", workflows.UpdateSendAttachment,
			workflows.UserAttachment{ID: "a3", Name: "x.png", MimeType: "image/png", Size: 10, SHA256: "nothex"}},
	}
	recs := make([]*updateRecorder, len(cases))
	for i, c := range cases {
		recs[i] = h.updateAt(10*time.Second+time.Duration(i)*time.Millisecond, c.update, c.arg)
	}
	closedAgain := &updateRecorder{}
	h.at(20*time.Second, func() {
		h.env.UpdateWorkflow(workflows.UpdateClose, "close-1", &updateRecorder{}, workflows.UserClose{ID: "c1"})
		h.env.UpdateWorkflow(workflows.UpdateClose, "close-2", closedAgain, workflows.UserClose{ID: "c2"})
	})
	h.run(testInput())

	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { recs[i].requireRejected(t, c.contains) })
	}
	closedAgain.requireRejected(t, "session is closing")
	require.Equal(t, []string{"My invoice is wrong."}, h.sf.SentTexts())
	require.Empty(t, h.sf.Attachments())
}

// The listener is scheduled with the session's heartbeat timeout, or the
// default when the settings leave it 0 (sessions started before it existed).
func TestListenerHeartbeatTimeoutFromSettings(t *testing.T) {
	for _, c := range []struct {
		setting, want time.Duration
	}{{0, workflows.DefaultListenerHeartbeatTimeout}, {90 * time.Second, 90 * time.Second}} {
		h := newHarness(t)
		var got []time.Duration
		h.env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
			if info.ActivityType.Name == workflows.ActivityListen {
				got = append(got, info.HeartbeatTimeout)
			}
		})
		h.updateAt(time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
		in := testInput()
		in.Request.Settings.ListenerHeartbeatTimeout = c.setting
		h.run(in)
		require.Equal(t, workflows.CloseUserClosed, h.result().CloseReason)
		require.Equal(t, []time.Duration{c.want}, got, "setting %s", c.setting)
	}
}

func TestInvalidRequestFailsWithoutSideEffects(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(*workflows.SessionInput)
		contains string
	}{
		{"unknown topic", func(in *workflows.SessionInput) { in.Request.Topic = "sales" }, `Topic "sales" is not one of the configured topics`},
		{"empty user", func(in *workflows.SessionInput) { in.Request.UserID = "" }, "UserID is empty"},
		{"empty description", func(in *workflows.SessionInput) { in.Request.Description = " " }, "Description is empty"},
		{"no accept timeout", func(in *workflows.SessionInput) { in.Request.Settings.AcceptTimeout = 0 }, "Settings.AcceptTimeout must be positive"},
		{"same routing fields", func(in *workflows.SessionInput) { in.Request.Settings.RoutingTopicField = "LA_UserId" }, "RoutingUserField and RoutingTopicField"},
		{"negative idle timeout", func(in *workflows.SessionInput) { in.Request.Settings.IdleTimeout = -time.Second }, "Settings.IdleTimeout must not be negative"},
		{"negative routing result timeout", func(in *workflows.SessionInput) { in.Request.Settings.RoutingResultTimeout = -time.Second }, "Settings.RoutingResultTimeout must not be negative"},
		{"listener heartbeat timeout too short", func(in *workflows.SessionInput) { in.Request.Settings.ListenerHeartbeatTimeout = 5 * time.Second }, "Settings.ListenerHeartbeatTimeout must be 0 or between"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			in := testInput()
			c.mutate(&in)
			h.run(in)
			err := h.env.GetWorkflowError()
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Equal(t, workflows.ErrTypeInvalidRequest, appErr.Type())
			require.True(t, appErr.NonRetryable())
			require.Contains(t, appErr.Error(), c.contains)
			require.Empty(t, h.sf.Created())
			require.Empty(t, h.sf.Delivered())
		})
	}
}

func TestMIAWMessageIDIsDeterministic(t *testing.T) {
	conv := "0b0c4a52-2b0e-4c1e-9d53-3d8f1f2b7a10"
	a := workflows.MIAWMessageID(conv, "assistant-msg-1")
	require.Equal(t, a, workflows.MIAWMessageID(conv, "assistant-msg-1"))
	require.True(t, workflows.IsLowerUUID(a))
	require.NotEqual(t, a, workflows.MIAWMessageID(conv, "assistant-msg-2"))
	require.NotEqual(t, a, workflows.MIAWMessageID("1b0c4a52-2b0e-4c1e-9d53-3d8f1f2b7a10", "assistant-msg-1"))
	upper := "6F1C4A52-2B0E-4C1E-9D53-3D8F1F2B7A10"
	require.NotEqual(t, upper, workflows.MIAWMessageID(conv, upper), "an uppercase UUID is not used verbatim")
}

// An assistant (webhook) outage far longer than any single retry window
// delays what the user sees but never drops it: the agent's message is
// delivered once the assistant is back, exactly once, and in order.
func TestDeliveryOutageDelaysButNeverDrops(t *testing.T) {
	h := newHarness(t)
	// The assistant is down for 3 minutes (on the test clock) from the
	// first attempt to deliver the agent's first message.
	failures := 0
	var down time.Time
	var outage time.Duration
	h.sf.DeliverErr = func(_ context.Context, d workflows.Delivery) error {
		if d.ID != "msg-1" {
			return nil
		}
		now := h.env.Now()
		if down.IsZero() {
			down = now
		}
		if outage = now.Sub(down); outage < 3*time.Minute {
			failures++
			return temporal.NewApplicationError("assistant unavailable", "DeliveryFailed")
		}
		return nil
	}
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(5*time.Second, workflows.AgentEvent{EventID: "ev-5", EntryID: "msg-1", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Hello, how can I help?"})
	h.signalAt(6*time.Second, workflows.AgentEvent{EventID: "ev-6", EntryID: "msg-2", Kind: workflows.AgentMessage, SenderName: "Ann", Text: "Are you there?"})
	h.signalAt(time.Hour, workflows.AgentEvent{EventID: "ev-9", EntryID: "cc-1", Kind: workflows.AgentConversationShut})
	h.run(testInput())

	require.Equal(t, workflows.CloseAgentEnded, h.result().CloseReason)
	require.GreaterOrEqual(t, outage, 3*time.Minute, "delivered only after a 3-minute outage (%d failed attempts)", failures)
	require.Equal(t, []string{"Hello, how can I help?", "Are you there?"}, h.sf.DeliveredTexts(workflows.DeliverAgentMessage))
}
