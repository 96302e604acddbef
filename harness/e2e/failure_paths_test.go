package e2e

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
	"github.com/liveagent-bridge/liveagent/config"
	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/internal/wiring"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// gatewayWith serves the gateway over a starter whose sessions carry
// settings (the tests shorten timeouts below what config allows).
func gatewayWith(t *testing.T, s *stack, settings workflows.Settings) *gatewayClient {
	t.Helper()
	g, err := gateway.New(gateway.Options{
		Sessions:     starter.New(s.tc, settings, s.store),
		Files:        s.store,
		BearerToken:  gatewayToken,
		Topics:       settings.Topics,
		MaxBodyBytes: s.cfg.Gateway.MaxBodyBytes,
	})
	require.NoError(t, err)
	srv := serveChecked(t, g)
	return &gatewayClient{t: t, base: srv.URL}
}

// gatewayFor serves a gateway whose sessions are started the production way
// from cfg (wiring.Starter: availability, excluded topics, history import,
// locales), its answers checked against the OpenAPI document.
func gatewayFor(t *testing.T, s *stack, cfg *config.Config) *gatewayClient {
	t.Helper()
	sessions, err := wiring.Starter(cfg, s.tc, s.store, s.logger)
	require.NoError(t, err)
	g, err := gateway.New(gateway.Options{Sessions: sessions, Files: s.store, BearerToken: gatewayToken,
		Topics: cfg.Session.Topics, MaxBodyBytes: cfg.Gateway.MaxBodyBytes, Logger: s.logger})
	require.NoError(t, err)
	return &gatewayClient{t: t, base: serveChecked(t, g).URL}
}

func (c *gatewayClient) start(user, topic string) {
	c.t.Helper()
	var started gateway.StartSessionResponse
	require.Equal(c.t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: topic, Description: "Please help"}, &started))
}

func (c *gatewayClient) send(user, id, text string) string {
	c.t.Helper()
	var res gateway.UpdateResponse
	require.Equal(c.t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/messages",
		gateway.SendMessageRequest{MessageID: id, Text: text}, &res))
	return res.Status
}

func (s *stack) awaitNotice(t *testing.T, user, text string) workflows.Delivery {
	t.Helper()
	return s.sink.await(t, user, "notice "+text, func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == text
	})
}

func (s *stack) awaitClosed(t *testing.T, user string, reason workflows.CloseReason) workflows.Delivery {
	t.Helper()
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	require.Equal(t, reason, closed.CloseReason)
	return closed
}

// Every failure path around the chat, as the assistant sees it through the
// gateway and its deliveries, against the emulator on a real Temporal server.
func TestFailurePathsAreTold(t *testing.T) {
	// The emulator's deployment accepts a topic attribute of at most 2
	// characters: "HR" routes, "Payroll" is refused with 400.
	s := newBackendWith(t, emulator.Config{PrechatFields: map[string]int{config.Default().Session.Routing.TopicField: 2}})
	// The worker reaches the emulator through a front that can refuse
	// end-user sends for good, where the random faults only ever fail
	// transiently.
	front := emulator.NewScriptedFailures(s.emu.Handler())
	frontSrv := httptest.NewServer(front)
	t.Cleanup(func() {
		frontSrv.CloseClientConnections() // listener streams still open
		frontSrv.Close()
	})
	s.cfg.Salesforce.SCRTURL = frontSrv.URL
	s.startWorker(t)
	t.Cleanup(func() { s.stopWorker() })
	base := s.cfg.SessionSettings()
	c := gatewayWith(t, s, base)

	t.Run("failed transfer requeues until the next agent", func(t *testing.T) {
		const user = "u-transfer-fails"
		c.start(user, "HR")
		conv := s.conversationOf(t, user)
		require.NoError(t, s.emu.Accept(conv, agentName))
		eventually(t, "active", func() bool { return c.state(user).State == string(workflows.StateActive) })

		require.NoError(t, s.emu.FailTransfer(conv))
		notice := s.awaitNotice(t, user, "The transfer to another agent did not go through. Please wait while we find someone.")
		assert.Equal(t, workflows.StateWaiting, notice.State)
		eventually(t, "waiting again", func() bool { return c.state(user).State == string(workflows.StateWaiting) })
		assert.Equal(t, string(workflows.UpdateQueued), c.send(user, "m-1", "Is anyone taking over?"))

		require.NoError(t, s.emu.Accept(conv, "Bob Agent"))
		s.awaitNotice(t, user, "You are now chatting with Bob Agent.")
		s.awaitUserEntry(t, conv, "the message kept while requeued", func(e emulator.TranscriptEntry) bool {
			return e.Text == "Is anyone taking over?"
		})
		st := c.state(user)
		assert.Equal(t, string(workflows.StateActive), st.State)
		assert.Equal(t, "Bob Agent", st.AgentName)
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
		closed := s.awaitClosed(t, user, workflows.CloseUserClosed)
		s.awaitEmulatorState(t, conv, emulator.StateClosed)

		// The closed delivery sums up the session and names where its
		// transcript stays readable.
		sum := closed.Summary
		require.NotNil(t, sum)
		assert.Equal(t, workflows.ClosedByUser, sum.ClosedBy)
		assert.Equal(t, "Bob Agent", sum.AgentName)
		assert.Positive(t, sum.ChatTime)
		assert.Equal(t, 2, sum.UserMessages)
		var final gateway.SessionStateResponse
		require.Equal(t, http.StatusOK, c.call(http.MethodGet, activities.TranscriptPath(user, sum.RunID), "", nil, &final))
		assert.Equal(t, string(workflows.StateClosed), final.State)
		assert.True(t, slices.ContainsFunc(final.Transcript, func(e gateway.TranscriptEntry) bool { return e.Text == "Is anyone taking over?" }))
		var bad gateway.ErrorResponse
		assert.Equal(t, http.StatusUnprocessableEntity, c.call(http.MethodGet, "/v1/sessions/"+user+"?runId=nope", "", nil, &bad))
	})

	t.Run("inactive session is explained and stays open", func(t *testing.T) {
		const user = "u-inactive"
		c.start(user, "HR")
		conv := s.conversationOf(t, user)
		require.NoError(t, s.emu.Accept(conv, agentName))
		eventually(t, "active", func() bool { return c.state(user).State == string(workflows.StateActive) })
		require.NoError(t, s.emu.MarkInactive(conv))
		s.awaitNotice(t, user, "This chat is inactive because nobody wrote for a while. Send a message to continue it.")
		assert.Equal(t, string(workflows.UpdateSent), c.send(user, "m-1", "I am back"))
		s.awaitUserEntry(t, conv, "the reviving message", func(e emulator.TranscriptEntry) bool { return e.Text == "I am back" })
		require.Equal(t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{RequestID: "c-1"}, nil))
		s.awaitClosed(t, user, workflows.CloseUserClosed)
	})

	t.Run("Salesforce refusing the conversation", func(t *testing.T) {
		const user = "u-refused"
		c.start(user, "Payroll")
		s.awaitNotice(t, user, "Sorry, the live chat service could not take this request. Please try again later.")
		s.awaitClosed(t, user, workflows.CloseRefused)
	})

	t.Run("routing says nothing", func(t *testing.T) {
		const user = "u-void"
		settings := base
		settings.RoutingResultTimeout = 3 * time.Second
		void := gatewayWith(t, s, settings)
		s.emu.SetSilentRouting(true)
		void.start(user, "HR")
		conv := s.conversationOf(t, user)
		s.emu.SetSilentRouting(false)
		s.awaitNotice(t, user, "Sorry, we could not reach an agent queue. Please try again later.")
		s.awaitClosed(t, user, workflows.CloseNoRoutingResult)
		s.awaitEmulatorState(t, conv, emulator.StateClosed)
	})

	t.Run("idle chat ends", func(t *testing.T) {
		const user = "u-idle"
		settings := base
		settings.IdleTimeout = 3 * time.Second
		idle := gatewayWith(t, s, settings)
		idle.start(user, "HR")
		conv := s.conversationOf(t, user)
		require.NoError(t, s.emu.Accept(conv, agentName))
		s.awaitNotice(t, user, "This chat has ended because nobody wrote for a while.")
		s.awaitClosed(t, user, workflows.CloseIdle)
		s.awaitEmulatorState(t, conv, emulator.StateClosed)
	})

	t.Run("routing fails, then Salesforce ends the session", func(t *testing.T) { testRoutingFails(t, s, base) })
	t.Run("permanent failure after retries", func(t *testing.T) { testPermanentFailure(t, s, front, base) })
	t.Run("empty greeting shows none", func(t *testing.T) { testEmptyGreeting(t, s, base) })
	t.Run("failed transfer, then nobody accepts", func(t *testing.T) { testTransferFailsThenTimeout(t, s, base) })
	t.Run("excluded topic forwards no context", func(t *testing.T) { testExcludedTopic(t, s) })
	t.Run("stalled transfer is given up", func(t *testing.T) { testStalledTransfer(t, s, base) })
}
