package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// The failure paths of TestFailurePathsAreTold that need more than the
// emulator's agent controls: their subtests share its stack.

// emulatorConversationOf waits until Salesforce (the emulator) has a
// conversation routed for user and returns its id; unlike conversationOf it
// does not wait for the session to be waiting.
func (s *stack) emulatorConversationOf(t *testing.T, user string) string {
	t.Helper()
	var conv string
	eventually(t, "a conversation in the emulator for "+user, func() bool {
		for _, c := range s.emu.Conversations() {
			if c.RoutingAttributes[s.cfg.Session.Routing.UserField] == user {
				conv = c.ID
				return true
			}
		}
		return false
	})
	return conv
}

// hasNotice reports whether user was told text.
func (s *stack) hasNotice(user, text string) bool {
	for _, d := range s.sink.forUser(user) {
		if d.Kind == workflows.DeliverSystem && d.Text == text {
			return true
		}
	}
	return false
}

// Routing gives up on a waiting conversation and Salesforce ends its
// session (the emulator's TimeoutQueue: a RoutingResult with a failure,
// then SessionStatusChanged Ended, usually handled in one batch): the user
// is told routing failed (session.routing_failed_message), not that an
// agent ended the chat, and the session closes as routing-failed.
func testRoutingFails(t *testing.T, s *stack, base workflows.Settings) {
	const user = "u-routing-fails"
	settings := base
	settings.RoutingFailedMessage = "No HR agent could take this chat. Please try again tomorrow."
	c := gatewayWith(t, s, settings)
	c.start(user, "HR")
	conv := s.conversationOf(t, user)

	require.NoError(t, s.emu.TimeoutQueue(conv))
	s.awaitClosed(t, user, workflows.CloseRoutingFailed)
	assert.True(t, s.hasNotice(user, settings.RoutingFailedMessage), "the routing-failed notice was delivered")
	assert.False(t, s.hasNotice(user, settings.AgentEndedMessage), "told that an agent ended a chat no agent took")
	s.awaitEmulatorState(t, conv, emulator.StateClosed)
	eventually(t, "state closed", func() bool { return c.state(user).State == string(workflows.StateClosed) })
	assert.Equal(t, string(workflows.CloseRoutingFailed), c.state(user).CloseReason)
}

// Salesforce fails the description send transiently (retried), then
// refuses it for good: the session ends as failed with
// session.failed_message, the run fails, and the conversation Salesforce
// created is closed.
func testPermanentFailure(t *testing.T, s *stack, front *emulator.ScriptedFailures, base workflows.Settings) {
	const user = "u-permanent-failure"
	settings := base
	settings.FailedMessage = "A technical problem ended this chat. Please start a new one."
	c := gatewayWith(t, s, settings)
	t.Cleanup(front.Clear)
	// No other session sends meanwhile: the first sends are this session's.
	require.NoError(t, front.FailSends("", 1, http.StatusServiceUnavailable))
	require.NoError(t, front.FailSends("", 1, http.StatusForbidden))

	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "My contract renewal is stuck"}, &started))
	closed := s.awaitClosed(t, user, workflows.CloseFailed)
	assert.True(t, s.hasNotice(user, settings.FailedMessage), "the failed notice was delivered")
	assert.Equal(t, 0, front.Pending(), "both scripted answers were used")
	assert.Equal(t, 2, front.Answered(), "the description send was retried after the 503, not after the 403")
	require.NotNil(t, closed.Summary)
	assert.Equal(t, workflows.ClosedBySystem, closed.Summary.ClosedBy)

	// The run failed rather than completed, on the refused send.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	err := s.tc.GetWorkflow(ctx, started.WorkflowID, started.RunID).Get(ctx, nil)
	require.Error(t, err, "the run failed")
	assert.Contains(t, err.Error(), "send description")

	conv := s.emulatorConversationOf(t, user)
	assert.Zero(t, countUserTexts(s.emu.Transcript(conv), "My contract renewal is stuck"), "the refused description reached the agent")
	s.awaitEmulatorState(t, conv, emulator.StateClosed)
}

// With Settings.Greeting "" the user is shown no greeting when an agent
// accepts, and no agent-joined notice either (that one is for the agent
// taking over after a transfer): the only notices are routing's.
func testEmptyGreeting(t *testing.T, s *stack, base workflows.Settings) {
	const user = "u-no-greeting"
	settings := base
	settings.Greeting = ""
	c := gatewayWith(t, s, settings)
	c.start(user, "HR")
	conv := s.conversationOf(t, user)
	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "active", func() bool {
		st := c.state(user)
		return st.State == string(workflows.StateActive) && st.AgentName == agentName
	})
	_, err := s.emu.AgentSend(conv, "Hi, Jane here.")
	require.NoError(t, err)
	s.sink.await(t, user, "the agent's first message", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverAgentMessage && d.Text == "Hi, Jane here."
	})
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
	s.awaitClosed(t, user, workflows.CloseUserClosed) // delivered after everything the session said

	for _, d := range deliveriesOf(s, user, workflows.DeliverSystem) {
		assert.True(t, d.QueuePosition > 0 || d.EstimatedWait > 0, "a notice other than routing's: %q", d.Text)
	}
	for _, e := range c.state(user).Transcript {
		if e.From == string(workflows.FromSystem) {
			assert.NotContains(t, []string{"", "An agent has joined the chat.", "You are now chatting with " + agentName + "."}, e.Text)
		}
	}
}

// A transfer finds no agent and nobody accepts afterwards: the user is
// told (session.transfer_failed_message) and waits again, and the accept
// timeout, run again from the failure, ends the session with
// session.timeout_message; Salesforce's conversation is closed.
func testTransferFailsThenTimeout(t *testing.T, s *stack, base workflows.Settings) {
	const user = "u-transfer-timeout"
	settings := base
	// Long enough that the first accept, made at once, reaches the session
	// before its first accept timer runs out even on a loaded machine: the
	// timer runs again from the failure, and that run is what is tested.
	settings.AcceptTimeout = 10 * time.Second
	settings.TransferFailedMessage = "Nobody could take over yet. Please hold on."
	settings.TimeoutMessage = "Nobody is free now. Please try again later."
	testRequeuedThenTimeout(t, s, settings, user, s.emu.FailTransfer)
}

// testRequeuedThenTimeout starts user's session with settings, has an agent
// accept it at once, then ends the transfer with transfer (a failure, or a
// stall the session gives up on): the user is told the transfer failed and
// waits again, the accept timeout, run again from then on workflow time,
// ends the session, and Salesforce's conversation is closed.
func testRequeuedThenTimeout(t *testing.T, s *stack, settings workflows.Settings, user string, transfer func(conv string) error) {
	t.Helper()
	c := gatewayWith(t, s, settings)
	c.start(user, "HR")
	// Accept as soon as Salesforce has the conversation: the accept timeout
	// runs from when the session starts waiting.
	conv := s.emulatorConversationOf(t, user)
	require.NoError(t, s.emu.Accept(conv, agentName))
	eventually(t, "active", func() bool { return c.state(user).State == string(workflows.StateActive) })

	require.NoError(t, transfer(conv))
	failed := s.awaitNotice(t, user, settings.TransferFailedMessage)
	assert.Equal(t, workflows.StateWaiting, failed.State)
	eventually(t, "waiting again", func() bool {
		st := c.state(user)
		return st.State == string(workflows.StateWaiting) || st.State == string(workflows.StateClosed)
	})
	timeout := s.awaitNotice(t, user, settings.TimeoutMessage)
	s.awaitClosed(t, user, workflows.CloseAcceptTimeout)
	assert.GreaterOrEqual(t, timeout.At.Sub(failed.At), settings.AcceptTimeout,
		"the accept timeout ran again from the requeue (workflow time)")
	assert.Equal(t, 1, len(noticesOf(s, user, settings.TransferFailedMessage)), "told once")
	s.awaitEmulatorState(t, conv, emulator.StateClosed)
}

// On a topic in session.handoff_excluded_topics the assistant's summary and
// history never reach the agent: the first message is the description
// alone and no file is attached.
func testExcludedTopic(t *testing.T, s *stack) {
	const (
		user        = "u-excluded"
		description = "I need to report a colleague"
		summary     = "excluded-summary: the user described a confidential HR matter."
	)
	cfg := *s.cfg
	cfg.Session.HandoffExcludedTopics = []string{"HR"}
	require.NoError(t, cfg.Validate())
	c := gatewayFor(t, s, &cfg)

	var started gateway.StartSessionResponse
	require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions", gateway.StartSessionRequest{
		UserID: user, Topic: "HR", Description: description, Summary: summary,
		History: []gateway.HistoryEntry{
			{From: "user", Text: "excluded-history: something happened at work"},
			{From: "assistant", Text: "excluded-history: I will get you a person."},
		},
	}, &started))
	assert.True(t, started.ContextWithheld, "the assistant is told its context was withheld")
	conv := s.conversationOf(t, user) // waiting: the handoff is over

	first := s.awaitUserEntry(t, conv, "the first message", func(e emulator.TranscriptEntry) bool { return e.Text != "" })
	assert.Equal(t, description, first.Text, "the first message is the description alone")
	for _, e := range s.emu.Transcript(conv) {
		assert.Nil(t, e.Attachment, "a file reached the agent: %+v", e.Attachment)
		assert.False(t, strings.Contains(e.Text, "excluded-"), "the assistant's context reached the agent: %q", e.Text)
	}
	imported, err := s.emu.ImportedHistory(conv)
	require.NoError(t, err)
	assert.Empty(t, imported)
	for _, e := range c.state(user).Transcript {
		assert.NotContains(t, e.Text, "excluded-")
		assert.Nil(t, e.Attachment)
	}
	require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
	s.awaitClosed(t, user, workflows.CloseUserClosed)
}
