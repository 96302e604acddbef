package e2e

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

const offlineText = "Our HR agents are offline now. Please come back during business hours."

// Availability before routing, through the gateway, with the production
// wiring (availability.source salesforce: the emulator's business hours).
func TestAvailability(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	cfg := *s.cfg
	cfg.Availability.Source = "salesforce"
	cfg.Availability.CacheTTL = 0 // follow the emulator at once: no waiting for a cache to expire
	cfg.Availability.OfflineMessage = offlineText
	require.NoError(t, cfg.Validate())
	c := gatewayFor(t, s, &cfg)

	t.Run("answer follows the business hours", func(t *testing.T) { testAvailabilityAnswer(t, s, c) })
	t.Run("start while closed creates nothing", func(t *testing.T) { testStartWhileClosed(t, s, c) })
	t.Run("hours end while the user waits", func(t *testing.T) { testHoursEndWhileWaiting(t, s, c) })
}

func (c *gatewayClient) availability(topic string) gateway.AvailabilityResponse {
	c.t.Helper()
	var out gateway.AvailabilityResponse
	require.Equal(c.t, http.StatusOK, c.call(http.MethodGet, "/v1/availability?topic="+topic, "", nil, &out))
	return out
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// (a) GET /v1/availability answers open or closed as the emulator's business
// hours say, with the end of the open window or the next opening.
func testAvailabilityAnswer(t *testing.T, s *stack, c *gatewayClient) {
	now := time.Now()
	end := now.Add(3 * time.Hour).Truncate(time.Second)
	s.emu.SetBusinessHours([]miaw.TimeWindow{{Start: now.Add(-time.Hour), End: end}})
	a := c.availability("HR")
	assert.Equal(t, gateway.AvailabilityResponse{Available: true, Topic: "HR", AvailableUntil: rfc3339(end), OfflineMessage: offlineText}, a)

	opens := now.Add(2 * time.Hour).Truncate(time.Second)
	s.emu.SetBusinessHours([]miaw.TimeWindow{{Start: opens, End: opens.Add(8 * time.Hour)}})
	a = c.availability("HR")
	assert.Equal(t, gateway.AvailabilityResponse{Available: false, Topic: "HR", NextOpen: rfc3339(opens), OfflineMessage: offlineText}, a)

	s.emu.SetBusinessHoursOpen(false) // the console's toggle
	a = c.availability("Payroll")
	assert.Equal(t, gateway.AvailabilityResponse{Available: false, Topic: "Payroll", OfflineMessage: offlineText}, a)

	s.emu.SetBusinessHoursOpen(true)
	assert.True(t, c.availability("HR").Available)

	var bad gateway.ErrorResponse
	require.Equal(t, http.StatusBadRequest, c.call(http.MethodGet, "/v1/availability?topic=Gardening", "", nil, &bad))
	assert.Contains(t, bad.Error, `topic "Gardening" is not configured`)
}

// (b) A start while closed is refused with the documented answer; nothing
// reaches Salesforce and no workflow is started.
func testStartWhileClosed(t *testing.T, s *stack, c *gatewayClient) {
	const user = "u-offline"
	opens := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	s.emu.SetBusinessHours([]miaw.TimeWindow{{Start: opens, End: opens.Add(time.Hour)}})
	t.Cleanup(func() { s.emu.SetBusinessHoursOpen(true) })
	before := s.emu.Stats().Conversations

	var off gateway.OfflineResponse
	status := c.postJSON("/v1/sessions", gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "I need a new badge"}, &off)
	require.Equal(t, http.StatusConflict, status)
	assert.Equal(t, gateway.OfflineResponse{Error: gateway.ErrorAgentsOffline, Topic: "HR", Message: offlineText, NextOpen: rfc3339(opens)}, off)

	assert.Equal(t, before, s.emu.Stats().Conversations, "no conversation created in Salesforce")
	for _, conv := range s.emu.Conversations() {
		assert.NotEqual(t, user, conv.RoutingAttributes[s.cfg.Session.Routing.UserField], "a conversation for the refused user")
	}
	_, err := s.tc.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(user), "")
	var notFound *serviceerror.NotFound
	assert.True(t, errors.As(err, &notFound), "no workflow started: %v", err)
	_, err = s.starter.State(context.Background(), user)
	assert.ErrorIs(t, err, starter.ErrNoSession)
}

// (c) A session started inside the hours that is still waiting when they end
// is closed: the user gets the offline message through the delivery path and
// the Salesforce conversation is closed, before the (10 minute) accept timeout.
func testHoursEndWhileWaiting(t *testing.T, s *stack, c *gatewayClient) {
	const user = "u-late"
	// The hours end 12 s after they are set. On a very busy machine the
	// start may land after that (409, nothing started): set a fresh window
	// and start again. Whenever the start lands, the workflow closes the
	// session at the window's end.
	var (
		started gateway.StartSessionResponse
		end     time.Time
	)
	t.Cleanup(func() { s.emu.SetBusinessHoursOpen(true) })
	for attempt := 1; ; attempt++ {
		end = time.Now().Add(12 * time.Second).Truncate(time.Millisecond)
		s.emu.SetBusinessHours([]miaw.TimeWindow{{Start: time.Now().Add(-time.Hour), End: end}})
		status := c.postJSON("/v1/sessions",
			gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "Is anyone still there?"}, &started)
		if status == http.StatusCreated {
			break
		}
		require.Equal(t, http.StatusConflict, status, "a refused start is the offline answer")
		require.Less(t, attempt, 5, "the start never landed within the 12 s window")
		t.Logf("start landed after the window ended (attempt %d); retrying with a new window", attempt)
	}

	notice := s.sink.await(t, user, "the offline message", func(d workflows.Delivery) bool {
		return d.Kind == workflows.DeliverSystem && d.Text == offlineText
	})
	closed := s.sink.await(t, user, "closed", func(d workflows.Delivery) bool { return d.Kind == workflows.DeliverClosed })
	assert.Equal(t, workflows.CloseAgentsOffline, closed.CloseReason)
	assert.False(t, notice.At.Before(end), "told before the hours ended: %v < %v", notice.At, end)

	// The session may have closed before it was ever seen waiting, so the
	// conversation comes from the result.
	res := s.result(t, &starter.Session{WorkflowID: started.WorkflowID, RunID: started.RunID})
	assert.Equal(t, workflows.CloseAgentsOffline, res.CloseReason)
	require.NotEmpty(t, res.ConversationID)
	s.awaitEmulatorState(t, res.ConversationID, emulator.StateClosed)
}
