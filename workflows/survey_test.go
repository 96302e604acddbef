package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func surveyInput(window time.Duration) workflows.SessionInput {
	in := testInput()
	in.Request.Settings.SurveyWindow = window
	return in
}

// A closed session with a survey window takes one survey, refuses a
// second, then completes with the survey in its result and final view,
// without delivering anything more.
func TestSurveyRecordedAfterClose(t *testing.T) {
	mh := newCapturingMetrics()
	h := newHarnessWithMetrics(t, 365*24*time.Hour, nil, mh)
	acceptEvents(h, time.Second, "Ann")
	h.updateAt(10*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	during := h.queryAt(20 * time.Second)
	bad := h.updateAt(21*time.Second, workflows.UpdateSurvey, workflows.Survey{Rating: 6})
	msg := h.updateAt(22*time.Second, workflows.UpdateSendMessage, workflows.UserMessage{ID: "m-late", Text: "hello?"})
	first := h.updateAt(30*time.Second, workflows.UpdateSurvey, workflows.Survey{Rating: 4, Comment: "quick <b>help</b>"})
	// The run completes right after the first survey; a second one never
	// replaces it.
	var second updateRecorder
	h.at(30*time.Second, func() {
		h.env.UpdateWorkflow(workflows.UpdateSurvey, "survey-again", &second, workflows.Survey{Rating: 1})
	})
	h.run(surveyInput(15 * time.Minute))
	res := h.result()

	require.Equal(t, workflows.CloseUserClosed, res.CloseReason)
	require.NotNil(t, res.Survey)
	require.Equal(t, 4, res.Survey.Rating)
	require.Equal(t, "quick <b>help</b>", res.Survey.Comment)
	first.requireResult(t, workflows.UpdateRecorded)
	second.mu.Lock()
	require.False(t, second.completed && second.err == nil, "a second survey was recorded")
	second.mu.Unlock()
	bad.requireRejected(t, "rating must be 1 to 5")
	msg.requireRejected(t, "session is closed")

	require.Equal(t, workflows.StateClosed, during.State)
	require.True(t, during.SurveyOpen)
	require.Nil(t, during.Survey)
	final := h.finalView()
	require.False(t, final.SurveyOpen)
	require.Equal(t, res.Survey, final.Survey)
	closed := h.sf.Deliveries(workflows.DeliverClosed)
	require.Len(t, closed, 1, "the closed notice is delivered once")
	require.NotNil(t, closed[0].Summary)
	require.Equal(t, closed[0].At.Add(15*time.Minute), closed[0].Summary.SurveyUntil, "the closed delivery tells when the window ends")
	require.Equal(t, int64(1), mh.counter(workflows.MetricSurveyRatings+"{rating=4}"))
}

// Nobody rates: the window runs out and the run completes without a survey.
func TestSurveyWindowExpires(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	h.signalAt(10*time.Second, workflows.AgentEvent{EventID: "ev-9", EntryID: "cc-1", Kind: workflows.AgentConversationShut})
	// An event arriving in the window is dropped, not delivered.
	h.signalAt(time.Minute, workflows.AgentEvent{EventID: "ev-10", EntryID: "m-late", Kind: workflows.AgentMessage, Text: "late"})
	open := h.queryAt(14 * time.Minute)
	late := h.updateAt(16*time.Minute, workflows.UpdateSurvey, workflows.Survey{Rating: 5})
	h.run(surveyInput(15 * time.Minute))
	res := h.result()

	require.Equal(t, workflows.CloseAgentEnded, res.CloseReason)
	require.Nil(t, res.Survey)
	require.True(t, open.SurveyOpen)
	require.NotContains(t, h.sf.DeliveredTexts(workflows.DeliverAgentMessage), "late")
	require.Len(t, h.sf.Deliveries(workflows.DeliverClosed), 1)
	// The update after completion never reached a handler.
	late.mu.Lock()
	defer late.mu.Unlock()
	require.False(t, late.accepted)
	require.GreaterOrEqual(t, h.env.Now().Sub(h.finalView().StartedAt), 15*time.Minute, "the run waited out the window")
}

// A new start ends the window: finish is refused while the session is
// open and accepted once it is closed, after which the run completes at
// once and takes no survey.
func TestFinishEndsSurveyWindow(t *testing.T) {
	h := newHarness(t)
	acceptEvents(h, time.Second, "Ann")
	early := h.updateAt(5*time.Second, workflows.UpdateFinish, workflows.Finish{Reason: "new session"})
	h.updateAt(10*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
	finish := h.updateAt(20*time.Second, workflows.UpdateFinish, workflows.Finish{Reason: "new session"})
	h.run(surveyInput(15 * time.Minute))
	res := h.result()

	early.requireRejected(t, "session is open")
	finish.requireResult(t, workflows.UpdateClosed)
	require.Nil(t, res.Survey)
	require.Less(t, h.env.Now().Sub(h.finalView().StartedAt), time.Minute, "the run completed at the finish, not at the window's end")
}

// Without an accepted agent, or without a window, there is no survey: the
// run completes at once as before and refuses a survey.
func TestNoSurveyWithoutAgentOrWindow(t *testing.T) {
	t.Run("no agent", func(t *testing.T) {
		h := newHarness(t)
		h.updateAt(2*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
		h.run(surveyInput(15 * time.Minute))
		require.Nil(t, h.result().Survey)
		require.Less(t, h.env.Now().Sub(h.finalView().StartedAt), time.Minute)
	})
	t.Run("no window", func(t *testing.T) {
		h := newHarness(t)
		acceptEvents(h, time.Second, "Ann")
		closeUpd := h.updateAt(10*time.Second, workflows.UpdateClose, workflows.UserClose{ID: "c1"})
		h.run(surveyInput(0))
		closeUpd.requireResult(t, workflows.UpdateClosed)
		require.Nil(t, h.result().Survey)
		require.True(t, h.result().Summary.SurveyUntil.IsZero())
		require.Less(t, h.env.Now().Sub(h.finalView().StartedAt), time.Minute)
	})
}

func TestValidateSurvey(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   workflows.Survey
		err  string
	}{
		{"lowest", workflows.Survey{Rating: 1}, ""},
		{"highest with comment", workflows.Survey{Rating: 5, Comment: "great"}, ""},
		{"zero", workflows.Survey{Rating: 0}, "rating must be 1 to 5"},
		{"too high", workflows.Survey{Rating: 6}, "rating must be 1 to 5"},
		{"bad utf-8", workflows.Survey{Rating: 3, Comment: "\xff"}, "not valid UTF-8"},
		{"too long", workflows.Survey{Rating: 3, Comment: string(make([]byte, workflows.MaxSurveyCommentBytes+1))}, "the limit is 2000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := workflows.ValidateSurvey(tc.in)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.err)
		})
	}
}
