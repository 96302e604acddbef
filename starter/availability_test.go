package starter

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/mocks"

	"github.com/liveagent-bridge/liveagent/availability"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// fixedChecker answers one decision (or error) and records the topics asked.
type fixedChecker struct {
	d      availability.Decision
	err    error
	topics []string
}

func (f *fixedChecker) Check(_ context.Context, topic string) (availability.Decision, error) {
	f.topics = append(f.topics, topic)
	return f.d, f.err
}

func newCheckedClient(t *testing.T, ch AvailabilityChecker) (*Client, *mocks.Client) {
	tc := mocks.NewClient(t)
	settings := testSettings()
	settings.OfflineMessage = "Closed for today."
	return New(tc, settings, nil, WithAvailability(ch)), tc
}

func TestAvailabilityAnswers(t *testing.T) {
	next := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	ch := &fixedChecker{d: availability.Decision{NextOpen: next}}
	c, _ := newCheckedClient(t, ch)
	a, err := c.Availability(context.Background(), "Payroll")
	require.NoError(t, err)
	assert.Equal(t, Availability{Topic: "Payroll", Decision: availability.Decision{NextOpen: next}, OfflineMessage: "Closed for today."}, a)
	assert.Equal(t, []string{"Payroll"}, ch.topics)

	_, err = c.Availability(context.Background(), "Gardening")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), `topic "Gardening" is not configured`)
	_, err = c.Availability(context.Background(), "")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Len(t, ch.topics, 1, "invalid topics never reach the checker")

	ch.err = context.Canceled
	_, err = c.Availability(context.Background(), "HR")
	assert.ErrorIs(t, err, context.Canceled)

	// Without a checker agents are always available.
	plain := New(mocks.NewClient(t), testSettings(), nil)
	a, err = plain.Availability(context.Background(), "HR")
	require.NoError(t, err)
	assert.True(t, a.Available)
	assert.Equal(t, DefaultOfflineMessage, a.OfflineMessage)
}

// While agents are offline Start starts nothing (the mock fails the test on
// any ExecuteWorkflow) and returns an *OfflineError.
func TestStartWhileOfflineStartsNothing(t *testing.T) {
	next := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	c, tc := newCheckedClient(t, &fixedChecker{d: availability.Decision{NextOpen: next}})
	tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID("u-42"), "").
		Return(nil, serviceerror.NewNotFound("workflow not found"))
	_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip"})
	var off *OfflineError
	require.ErrorAs(t, err, &off)
	assert.ErrorIs(t, err, ErrOffline)
	assert.Equal(t, &OfflineError{Topic: "HR", Message: "Closed for today.", NextOpen: next}, off)
	assert.Equal(t, `live agents are offline for topic "HR" until 2026-11-30T08:00:00Z`, err.Error())
	tc.AssertNotCalled(t, "ExecuteWorkflow", mock.Anything, mock.Anything, mock.Anything, mock.Anything)
}

// While available the session learns when agents stop being available.
func TestStartWhileAvailableSetsAvailableUntil(t *testing.T) {
	until := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	c, tc := newCheckedClient(t, &fixedChecker{d: availability.Decision{Available: true, AvailableUntil: until}})
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").Return(nil, serviceerror.NewNotFound("workflow not found"))
	var input workflows.SessionInput
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) { input = args.Get(3).(workflows.SessionInput) }).
		Return(runMock(t, wfID, "run-1"), nil)
	_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip"})
	require.NoError(t, err)
	assert.Equal(t, until, input.Request.AvailableUntil)
	assert.Equal(t, "Closed for today.", input.Request.Settings.OfflineMessage)
}

// A user who already has a running session gets it back even while offline:
// nothing new is started, so nothing is refused.
func TestStartReturnsRunningSessionWhileOffline(t *testing.T) {
	ch := &fixedChecker{d: availability.Decision{}}
	c, tc := newCheckedClient(t, ch)
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: "run-1"},
			Status:    enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING,
		},
	}, nil)
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Return(runMock(t, wfID, "run-1"), nil)
	finishRefused(t, tc, "run-1")
	s, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "again"})
	require.NoError(t, err)
	assert.True(t, s.Existing)
	assert.Empty(t, ch.topics, "a running session needs no availability check")
}

// A checker failure (the caller's context ended) fails the start.
func TestStartCheckerErrorStartsNothing(t *testing.T) {
	c, tc := newCheckedClient(t, &fixedChecker{err: context.DeadlineExceeded})
	tc.On("DescribeWorkflowExecution", mock.Anything, workflows.WorkflowID("u-42"), "").
		Return(nil, serviceerror.NewNotFound("workflow not found"))
	_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, ErrOffline))
}
