package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func quickReplies() *workflows.Choices {
	return &workflows.Choices{Kind: workflows.ChoiceQuickReplies, MessageID: "miaw-msg-7", Prompt: "Which team?",
		Options: []workflows.ChoiceOption{{ID: "opt-b", Title: "Billing"}, {ID: "opt-p", Title: "Payroll"}}}
}

// The agent's choice reaches the user as structured data beside its
// fallback text; the user's pick is validated against it and goes to
// Salesforce as a choices response naming the MIAW message and option.
func TestChoiceOfferedAndAnswered(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(5*time.Second, workflows.AgentEvent{EventID: "ev-5", EntryID: "entry-choice", Kind: workflows.AgentMessage, SenderName: "Ann",
		Text: "Which team? Options: 1) Billing 2) Payroll", Choices: quickReplies()})
	h.signalAt(6*time.Second, workflows.AgentEvent{EventID: "ev-6", EntryID: "entry-web", Kind: workflows.AgentMessage, SenderName: "Ann",
		Text: "Pay: https://example.com/pay", WebView: &workflows.WebView{URL: "https://example.com/pay", Title: "Pay"}})
	unknownOption := h.updateAt(10*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "c0",
		Choice: &workflows.ChoiceReply{InReplyTo: "entry-choice", OptionID: "opt-x"}})
	unknownMessage := h.updateAt(11*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "c1",
		Choice: &workflows.ChoiceReply{InReplyTo: "entry-web", OptionID: "opt-b"}})
	picked := h.updateAt(12*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "c2",
		Choice: &workflows.ChoiceReply{InReplyTo: "entry-choice", OptionID: "opt-p"}})
	h.updateAt(20*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "close-1"})

	h.run(testInput())

	unknownOption.requireRejected(t, `option "opt-x" is not one of the options of message "entry-choice"`)
	unknownMessage.requireRejected(t, `no agent message "entry-web" offering a choice`)
	picked.requireResult(t, workflows.UpdateSent)

	sent := h.sf.Sent()
	last := sent[len(sent)-1]
	require.Equal(t, "Payroll", last.Text, "the option's title is the text")
	require.Equal(t, &workflows.ChoiceResponse{InReplyToMessageID: "miaw-msg-7", OptionID: "opt-p"}, last.Choice)
	for _, s := range sent[:len(sent)-1] {
		require.Nil(t, s.Choice, "only the choice reply is a choices response")
	}

	agent := h.sf.Deliveries(workflows.DeliverAgentMessage)
	require.Len(t, agent, 2)
	require.Equal(t, "Which team? Options: 1) Billing 2) Payroll", agent[0].Text)
	require.Equal(t, quickReplies(), agent[0].Choices)
	require.Equal(t, &workflows.WebView{URL: "https://example.com/pay", Title: "Pay"}, agent[1].WebView)
	require.Equal(t, "Pay: https://example.com/pay", agent[1].Text)

	final := h.finalView()
	var reply *workflows.TranscriptEntry
	for i := range final.Transcript {
		if final.Transcript[i].ID == "c2" {
			reply = &final.Transcript[i]
		}
	}
	require.NotNil(t, reply)
	require.Equal(t, "Payroll", reply.Text)
	require.Equal(t, &workflows.ChoiceReply{InReplyTo: "entry-choice", OptionID: "opt-p"}, reply.Choice)
}

// A choice the user makes while no agent is active yet cannot exist: the
// validator refuses it before anything is written.
func TestChoiceWithoutOfferIsRefused(t *testing.T) {
	h := newHarness(t)
	u := h.updateAt(time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "c1", Text: "Billing",
		Choice: &workflows.ChoiceReply{InReplyTo: "nothing", OptionID: "opt-b"}})
	h.updateAt(2*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "close-1"})
	h.run(testInput())
	u.requireRejected(t, `no agent message "nothing" offering a choice`)
	require.NotContains(t, h.sf.SentTexts(), "Billing")
}

// A choice offered before continue-as-new can be answered in the next run:
// the carried transcript keeps what was offered.
func TestChoiceAnsweredAfterContinueAsNew(t *testing.T) {
	h := newHarness(t)
	conv := "0b0c4a52-2b0e-4c1e-9d53-3d8f1f2b7a10"
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := testInput()
	in.Carry = &workflows.Carry{
		State: workflows.StateActive, ConversationID: conv, StartedAt: start, WaitingSince: start, AgentName: "Ann",
		LastEventID: "ev-10", SeenEntryIDs: []string{"entry-choice"},
		Transcript: []workflows.TranscriptEntry{{ID: "entry-choice", From: workflows.FromAgent, Text: "Which team? Options: 1) Billing 2) Payroll", Choices: quickReplies()}},
	}
	picked := h.updateAt(time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "c1", Text: "Billing please",
		Choice: &workflows.ChoiceReply{InReplyTo: "entry-choice", OptionID: "opt-b"}})
	h.updateAt(5*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "close-1"})
	h.run(in)

	picked.requireResult(t, workflows.UpdateSent)
	sent := h.sf.Sent()
	require.Len(t, sent, 1)
	require.Equal(t, "Billing please", sent[0].Text, "the user's own words are kept as the text")
	require.Equal(t, &workflows.ChoiceResponse{InReplyToMessageID: "miaw-msg-7", OptionID: "opt-b"}, sent[0].Choice)
}
