package starter

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// finishRefused makes the session runID refuse UpdateFinish as open.
func finishRefused(t *testing.T, tc *mocks.Client, runID string) {
	t.Helper()
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.UpdateName == workflows.UpdateFinish && o.RunID == runID
	})).Return(nil, temporal.NewApplicationError("session is open", workflows.ErrTypeSessionOpen)).Once()
}

func describeRunning(wfID, runID string, status enumspb.WorkflowExecutionStatus) *workflowservice.DescribeWorkflowExecutionResponse {
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
		Status:    status,
	}}
}

// A start that finds the user's closed session waiting for its survey
// finishes that run, waits for it to complete and starts a new session:
// the new start is never answered with the closed run.
func TestStartFinishesLingeringSession(t *testing.T) {
	c, tc, _ := newTestClient(t)
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").
		Return(describeRunning(wfID, "run-1", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING), nil).Once()
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Return(runMock(t, wfID, "run-1"), nil).Once()
	var finish client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool {
		return o.UpdateName == workflows.UpdateFinish
	})).Run(func(args mock.Arguments) { finish = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateClosed}, nil), nil).Once()
	old := mocks.NewWorkflowRun(t)
	old.On("Get", mock.Anything, mock.Anything).Return(nil).Once()
	tc.On("GetWorkflow", mock.Anything, wfID, "run-1").Return(old).Once()
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").
		Return(describeRunning(wfID, "run-1", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED), nil).Once()
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Return(runMock(t, wfID, "run-2"), nil).Once()

	s, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "again"})
	require.NoError(t, err)
	assert.False(t, s.Existing)
	assert.Equal(t, "run-2", s.RunID)
	assert.Equal(t, "run-1", finish.RunID, "the finish is pinned to the run the start found")
}

func TestSurveyValidatesBeforeAnyCall(t *testing.T) {
	c, _, _ := newTestClient(t)
	for _, tc := range []struct {
		runID string
		s     workflows.Survey
		want  string
	}{
		{"", workflows.Survey{Rating: 0}, "rating must be 1 to 5"},
		{"", workflows.Survey{Rating: 3, Comment: string(make([]byte, workflows.MaxSurveyCommentBytes+1))}, "the limit is"},
		{"not-a-uuid", workflows.Survey{Rating: 3}, "not a UUID"},
	} {
		_, err := c.Survey(context.Background(), "u-42", tc.runID, tc.s)
		require.ErrorIs(t, err, ErrInvalid)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func TestSurveyUpdatesTheRun(t *testing.T) {
	c, tc, _ := newTestClient(t)
	const runID = "0196a6a4-7f43-7000-8000-000000000001"
	var opts client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { opts = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateRecorded}, nil), nil)
	res, err := c.Survey(context.Background(), "u-42", runID, workflows.Survey{Rating: 5, Comment: "thanks"})
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateRecorded, res.Status)
	assert.Equal(t, workflows.UpdateSurvey, opts.UpdateName)
	assert.Equal(t, runID, opts.RunID)
	assert.Equal(t, workflows.WorkflowID("u-42"), opts.WorkflowID)
	assert.Equal(t, []any{workflows.Survey{Rating: 5, Comment: "thanks"}}, opts.Args)
}

// A completed run takes no survey: already rated, or its window ended.
func TestSurveyOnCompletedRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		view workflows.SessionView
		want string
	}{
		{"rated", workflows.SessionView{State: workflows.StateClosed, Survey: &workflows.Survey{Rating: 2}}, "already recorded"},
		{"expired", workflows.SessionView{State: workflows.StateClosed}, "window has ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, mc, _ := newTestClient(t)
			mc.On("UpdateWorkflow", mock.Anything, mock.Anything).
				Return(nil, serviceerror.NewNotFound("workflow execution already completed"))
			mc.On("QueryWorkflow", mock.Anything, workflows.WorkflowID("u-42"), "", workflows.QueryState).
				Return(encodedView(t, tc.view), nil)
			_, err := c.Survey(context.Background(), "u-42", "", workflows.Survey{Rating: 4})
			require.ErrorIs(t, err, ErrSurveyNotOpen)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func encodedView(t *testing.T, v workflows.SessionView) converter.EncodedValue {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayloads(v)
	require.NoError(t, err)
	return converterValue(p)
}
