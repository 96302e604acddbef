package e2e

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/miaw/emulator"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// startChat starts a session for user through the gateway and has the
// emulator's agent accept it; it returns the new run's id.
func (c *gatewayClient) startChat(s *stack, user string) string {
	c.t.Helper()
	var started gateway.StartSessionResponse
	require.Equal(c.t, http.StatusCreated, c.postJSON("/v1/sessions",
		gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "Please help"}, &started))
	conv := s.conversationOf(c.t, user)
	require.NoError(c.t, s.emu.Accept(conv, agentName))
	eventually(c.t, user+" active", func() bool { return c.state(user).State == string(workflows.StateActive) })
	return started.RunID
}

func (c *gatewayClient) closeChat(user string) {
	c.t.Helper()
	var res gateway.UpdateResponse
	require.Equal(c.t, http.StatusOK, c.postJSON("/v1/sessions/"+user+"/close", gateway.CloseRequest{Reason: "done"}, &res))
}

func (c *gatewayClient) survey(user string, req gateway.SurveyRequest) (int, gateway.UpdateResponse, gateway.ErrorResponse) {
	c.t.Helper()
	var raw map[string]any
	status := c.postJSON("/v1/sessions/"+user+"/survey", req, &raw)
	var ok gateway.UpdateResponse
	var fail gateway.ErrorResponse
	if s, found := raw["status"].(string); found {
		ok.Status = s
	}
	if e, found := raw["error"].(string); found {
		fail.Error = e
	}
	return status, ok, fail
}

func (c *gatewayClient) runState(user, runID string) gateway.SessionStateResponse {
	c.t.Helper()
	var st gateway.SessionStateResponse
	require.Equal(c.t, http.StatusOK, c.call(http.MethodGet, "/v1/sessions/"+user+"?runId="+runID, "", nil, &st))
	return st
}

func (c *gatewayClient) listed(user string) bool {
	c.t.Helper()
	var list gateway.SessionsResponse
	require.Equal(c.t, http.StatusOK, c.call(http.MethodGet, "/v1/sessions", "", nil, &list))
	return slices.ContainsFunc(list.Sessions, func(s gateway.SessionSummary) bool { return s.UserID == user })
}

func (s *stack) runResult(t *testing.T, user, runID string) workflows.SessionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	var res workflows.SessionResult
	require.NoError(t, s.tc.GetWorkflow(ctx, workflows.WorkflowID(user), runID).Get(ctx, &res))
	return res
}

// The post-chat survey through the gateway on a real Temporal server: a
// closed session takes one rating, keeps it in its result and final view,
// is not listed as open meanwhile, and never stands in the way of the
// user's next session.
func TestPostChatSurvey(t *testing.T) {
	s := newStack(t, emulator.Faults{})
	settings := s.cfg.SessionSettings()
	settings.SurveyWindow = 10 * time.Minute
	c := gatewayWith(t, s, settings)

	t.Run("survey recorded once and kept with the session", func(t *testing.T) {
		const user = "u-survey"
		runID := c.startChat(s, user)
		c.closeChat(user)
		closed := s.awaitClosed(t, user, workflows.CloseUserClosed)
		require.NotNil(t, closed.Summary)
		require.Equal(t, runID, closed.Summary.RunID)
		assert.False(t, closed.Summary.SurveyUntil.IsZero(), "the closed delivery offers the survey")
		eventually(t, "survey window open", func() bool { return c.state(user).SurveyOpen })
		assert.Equal(t, string(workflows.StateClosed), c.state(user).State)
		eventually(t, "closed session not listed as open", func() bool { return !c.listed(user) })

		status, _, fail := c.survey(user, gateway.SurveyRequest{RunID: runID, Rating: 9})
		assert.Equal(t, http.StatusUnprocessableEntity, status)
		assert.Contains(t, fail.Error, "rating must be 1 to 5")

		status, ok, fail := c.survey(user, gateway.SurveyRequest{RunID: runID, Rating: 4, Comment: "Quick & <kind>"})
		require.Equal(t, http.StatusOK, status, fail.Error)
		assert.Equal(t, string(workflows.UpdateRecorded), ok.Status)

		res := s.runResult(t, user, runID)
		require.NotNil(t, res.Survey)
		assert.Equal(t, 4, res.Survey.Rating)
		assert.Equal(t, "Quick & <kind>", res.Survey.Comment)
		final := c.runState(user, runID)
		require.NotNil(t, final.Survey)
		assert.Equal(t, 4, final.Survey.Rating)
		assert.Equal(t, "Quick & <kind>", final.Survey.Comment)
		assert.False(t, final.SurveyOpen)

		status, _, fail = c.survey(user, gateway.SurveyRequest{RunID: runID, Rating: 1})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, fail.Error, "already recorded")
		assert.Len(t, deliveriesOf(s, user, workflows.DeliverClosed), 1, "the closed notice is delivered once")

		// The user starts again right after rating.
		again := c.startChat(s, user)
		assert.NotEqual(t, runID, again)
		c.closeChat(user)
		s.sink.await(t, user, "second closed", func(d workflows.Delivery) bool {
			return d.Kind == workflows.DeliverClosed && d.Summary != nil && d.Summary.RunID == again
		})
	})

	t.Run("a new start ends the window and starts a new session", func(t *testing.T) {
		const user = "u-survey-skip"
		runID := c.startChat(s, user)
		c.closeChat(user)
		s.awaitClosed(t, user, workflows.CloseUserClosed)
		eventually(t, "survey window open", func() bool { return c.state(user).SurveyOpen })

		var started gateway.StartSessionResponse
		require.Equal(t, http.StatusCreated, c.postJSON("/v1/sessions",
			gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "Another thing"}, &started))
		assert.False(t, started.Existing)
		assert.NotEqual(t, runID, started.RunID)
		assert.Nil(t, s.runResult(t, user, runID).Survey, "the old run completed without a survey")
		s.conversationOf(t, user) // the new session is live

		// The old run no longer takes a survey; the new one is open.
		status, _, _ := c.survey(user, gateway.SurveyRequest{RunID: runID, Rating: 5})
		assert.Equal(t, http.StatusConflict, status)
		status, _, _ = c.survey(user, gateway.SurveyRequest{Rating: 5})
		assert.Equal(t, http.StatusConflict, status, "an open session takes no survey")
		c.closeChat(user)
	})

	// Starts racing with the close (its shutdown, then the window) are never
	// answered with the closed run: every one gets the same new session.
	t.Run("starts racing with the close", func(t *testing.T) {
		const user = "u-survey-race"
		runID := c.startChat(s, user)
		c.closeChat(user)
		const starts = 4
		answers := make([]gateway.StartSessionResponse, starts)
		codes := make([]int, starts)
		var wg sync.WaitGroup
		for i := range starts {
			wg.Go(func() {
				codes[i] = c.postJSON("/v1/sessions",
					gateway.StartSessionRequest{UserID: user, Topic: "HR", Description: "Racing"}, &answers[i])
			})
		}
		wg.Wait()
		created := 0
		for i, a := range answers {
			require.Contains(t, []int{http.StatusCreated, http.StatusOK}, codes[i])
			assert.NotEqual(t, runID, a.RunID, "a start got the closed run")
			assert.Equal(t, answers[0].RunID, a.RunID, "every start got the same new session")
			if codes[i] == http.StatusCreated {
				created++
			}
		}
		// Concurrent starts that all found no running session report
		// themselves created (as without a survey window): Existing is told
		// from a describe before the start.
		assert.GreaterOrEqual(t, created, 1)
		assert.Nil(t, s.runResult(t, user, runID).Survey)
		st := c.state(user)
		assert.NotEqual(t, string(workflows.StateClosed), st.State)
		c.closeChat(user)
	})

	t.Run("the window runs out", func(t *testing.T) {
		short := settings
		short.SurveyWindow = 2 * time.Second
		cs := gatewayWith(t, s, short)
		const user = "u-survey-expire"
		runID := cs.startChat(s, user)
		cs.closeChat(user)
		s.awaitClosed(t, user, workflows.CloseUserClosed)
		res := s.runResult(t, user, runID)
		assert.Equal(t, workflows.CloseUserClosed, res.CloseReason)
		assert.Nil(t, res.Survey)
		status, _, fail := cs.survey(user, gateway.SurveyRequest{RunID: runID, Rating: 3})
		assert.Equal(t, http.StatusConflict, status)
		assert.Contains(t, fail.Error, "window has ended")
	})
}

func deliveriesOf(s *stack, user string, kind workflows.DeliveryKind) []workflows.Delivery {
	var out []workflows.Delivery
	for _, d := range s.sink.forUser(user) {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}
