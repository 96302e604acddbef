package starter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/liveagent-bridge/liveagent/attachstore"
	"github.com/liveagent-bridge/liveagent/workflows"
)

func testSettings() workflows.Settings {
	return workflows.Settings{
		Topics:             []string{"HR", "Payroll"},
		AcceptTimeout:      time.Minute,
		TimeoutMessage:     "nobody",
		DefaultLocale:      "en_US",
		RoutingUserField:   "UserId",
		RoutingTopicField:  "Topic",
		MaxMessageBytes:    20,
		MaxAttachmentBytes: 16,
	}
}

// newTestClient returns a Client over a mock with no expectations: any call
// to Temporal the test did not set up fails it.
func newTestClient(t *testing.T) (*Client, *mocks.Client, *attachstore.Store) {
	tc := mocks.NewClient(t)
	store, err := attachstore.Open(t.TempDir())
	require.NoError(t, err)
	return New(tc, testSettings(), store), tc, store
}

func TestValidationRejectsBeforeTemporal(t *testing.T) {
	c, _, _ := newTestClient(t)
	ctx := context.Background()
	good := StartRequest{UserID: "u-42", Topic: "HR", Description: "my payslip"}

	startCases := map[string]struct {
		mutate func(*StartRequest)
		reason string
	}{
		"missing user":      {func(r *StartRequest) { r.UserID = "" }, "user id is required"},
		"user with space":   {func(r *StartRequest) { r.UserID = "u 42" }, "user id must be"},
		"user with quote":   {func(r *StartRequest) { r.UserID = `u"42` }, "user id must be"},
		"user too long":     {func(r *StartRequest) { r.UserID = strings.Repeat("u", MaxUserIDLen+1) }, "user id must be"},
		"missing topic":     {func(r *StartRequest) { r.Topic = "" }, "topic is required"},
		"unknown topic":     {func(r *StartRequest) { r.Topic = "Sales" }, `topic "Sales" is not configured`},
		"empty description": {func(r *StartRequest) { r.Description = "  " }, "description must not be empty"},
		"long description":  {func(r *StartRequest) { r.Description = strings.Repeat("x", 21) }, "more than the limit of 20"},
		"invalid utf8":      {func(r *StartRequest) { r.Description = "\xff" }, "not valid UTF-8"},
		"malformed locale":  {func(r *StartRequest) { r.Locale = "english" }, "locale"},
	}
	for name, tc := range startCases {
		t.Run("start/"+name, func(t *testing.T) {
			req := good
			tc.mutate(&req)
			_, err := c.Start(ctx, req)
			require.ErrorIs(t, err, ErrInvalid)
			assert.Contains(t, err.Error(), tc.reason)
		})
	}

	_, err := c.SendMessage(ctx, "u-42", "", "hi")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "message id is required")
	_, err = c.SendMessage(ctx, "u-42", "m1", " ")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.SendMessage(ctx, "u-42", "m1", strings.Repeat("x", 21))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.SendMessage(ctx, "u-42", "m\n1", "hi")
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.SendMessage(ctx, "", "m1", "hi")
	require.ErrorIs(t, err, ErrInvalid)

	_, err = c.SendAttachment(ctx, "u-42", "a1", "", "text/plain", "", strings.NewReader("x"))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.SendAttachment(ctx, "u-42", "a1", "f.txt", "not a mime", "", strings.NewReader("x"))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.SendAttachment(ctx, "u-42", "a1", "f.txt", "text/plain", "", strings.NewReader(strings.Repeat("x", 17)))
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "larger than 16 bytes")
	_, err = c.SendAttachment(ctx, "u-42", "a1", "f.txt", "text/plain", "", strings.NewReader(""))
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "empty")

	_, err = c.Close(ctx, "u-42", "", strings.Repeat("r", maxReasonLen+1))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = c.State(ctx, "")
	require.ErrorIs(t, err, ErrInvalid)
}

func TestAllowedAttachmentTypes(t *testing.T) {
	tc := mocks.NewClient(t)
	store, err := attachstore.Open(t.TempDir())
	require.NoError(t, err)
	s := testSettings()
	s.AllowedAttachmentTypes = []string{"image/png"}
	c := New(tc, s, store)
	_, err = c.SendAttachment(context.Background(), "u-42", "a1", "f.txt", "text/plain", "", strings.NewReader("x"))
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "text/plain is not allowed")
}

func runMock(t *testing.T, id, runID string) *mocks.WorkflowRun {
	run := mocks.NewWorkflowRun(t)
	run.On("GetID").Return(id).Maybe()
	run.On("GetRunID").Return(runID)
	return run
}

func TestStartNewSession(t *testing.T) {
	c, tc, _ := newTestClient(t)
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").
		Return(nil, serviceerror.NewNotFound("workflow not found"))

	var opts client.StartWorkflowOptions
	var input workflows.SessionInput
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Run(func(args mock.Arguments) {
			opts = args.Get(1).(client.StartWorkflowOptions)
			input = args.Get(3).(workflows.SessionInput)
		}).
		Return(runMock(t, wfID, "run-1"), nil)

	s, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "payslip", Locale: "fr_FR"})
	require.NoError(t, err)
	assert.Equal(t, &Session{WorkflowID: wfID, RunID: "run-1", Existing: false}, s)

	assert.Equal(t, wfID, opts.ID)
	assert.Equal(t, workflows.TaskQueue, opts.TaskQueue)
	assert.Equal(t, workflows.WorkflowTaskTimeout, opts.WorkflowTaskTimeout, "a lost task moves on after 5 s, not the server's 10 s")
	assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts.WorkflowIDConflictPolicy)
	assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, opts.WorkflowIDReusePolicy)
	assert.Equal(t, "Live chat u-42 → HR", opts.StaticSummary)
	assert.Contains(t, opts.StaticDetails, "fr_FR")
	state, ok := opts.TypedSearchAttributes.GetKeyword(workflows.SearchAttrState)
	assert.True(t, ok)
	assert.Equal(t, string(workflows.StateRouting), state)
	user, _ := opts.TypedSearchAttributes.GetKeyword(workflows.SearchAttrUser)
	assert.Equal(t, "u-42", user)
	topic, _ := opts.TypedSearchAttributes.GetKeyword(workflows.SearchAttrTopic)
	assert.Equal(t, "HR", topic)

	assert.Equal(t, "u-42", input.Request.UserID)
	assert.Equal(t, "payslip", input.Request.Description)
	assert.Equal(t, "fr_FR", input.Request.Locale)
	want := testSettings()
	want.OfflineMessage = DefaultOfflineMessage // an empty one is defaulted
	assert.Equal(t, want, input.Request.Settings)
	assert.True(t, input.Request.AvailableUntil.IsZero(), "no availability check: no known end")
	assert.Nil(t, input.Carry)
}

func TestStartReturnsExistingSession(t *testing.T) {
	c, tc, _ := newTestClient(t)
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
	assert.Equal(t, "run-1", s.RunID)
}

func TestStartAfterFinishedSessionIsNew(t *testing.T) {
	c, tc, _ := newTestClient(t)
	wfID := workflows.WorkflowID("u-42")
	tc.On("DescribeWorkflowExecution", mock.Anything, wfID, "").Return(&workflowservice.DescribeWorkflowExecutionResponse{
		WorkflowExecutionInfo: &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: "run-1"},
			Status:    enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		},
	}, nil)
	tc.On("ExecuteWorkflow", mock.Anything, mock.Anything, workflows.WorkflowName, mock.Anything).
		Return(runMock(t, wfID, "run-2"), nil)
	s, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "again"})
	require.NoError(t, err)
	assert.False(t, s.Existing)
	assert.Equal(t, "run-2", s.RunID)
}

func TestStartPropagatesTemporalErrors(t *testing.T) {
	c, tc, _ := newTestClient(t)
	tc.On("DescribeWorkflowExecution", mock.Anything, mock.Anything, "").
		Return(nil, serviceerror.NewUnavailable("down"))
	_, err := c.Start(context.Background(), StartRequest{UserID: "u-42", Topic: "HR", Description: "x"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "down")
}

func updateHandle(t *testing.T, res workflows.UpdateResult, err error) *mocks.WorkflowUpdateHandle {
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
		if err == nil {
			*args.Get(1).(*workflows.UpdateResult) = res
		}
	}).Return(err)
	return h
}

func TestSendMessageRunsUpdateWithMessageID(t *testing.T) {
	c, tc, _ := newTestClient(t)
	var opts client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { opts = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateSent, EntryID: "e1"}, nil), nil)

	res, err := c.SendMessage(context.Background(), "u-42", "msg-7", "hello")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateResult{Status: workflows.UpdateSent, EntryID: "e1"}, res)
	assert.Equal(t, workflows.WorkflowID("u-42"), opts.WorkflowID)
	assert.Equal(t, "", opts.RunID, "updates target the latest run (continue-as-new)")
	assert.Equal(t, workflows.UpdateSendMessage, opts.UpdateName)
	assert.Equal(t, "msg-7", opts.UpdateID)
	assert.Equal(t, client.WorkflowUpdateStageCompleted, opts.WaitForStage)
	assert.Equal(t, []any{workflows.UserMessage{ID: "msg-7", Text: "hello"}}, opts.Args)
}

func TestUpdateErrorMapping(t *testing.T) {
	c, tc, _ := newTestClient(t)
	ctx := context.Background()

	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "gone" })).
		Return(nil, serviceerror.NewNotFound("workflow execution already completed")).Once()
	_, err := c.SendMessage(ctx, "u-42", "gone", "hi")
	require.ErrorIs(t, err, ErrNoSession)

	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "late" })).
		Return(updateHandle(t, workflows.UpdateResult{}, temporal.NewApplicationError("session is closed", "")), nil).Once()
	_, err = c.SendMessage(ctx, "u-42", "late", "hi")
	require.ErrorIs(t, err, ErrRejected)
	assert.Contains(t, err.Error(), "session is closed")

	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "down" })).
		Return(nil, serviceerror.NewUnavailable("frontend down")).Once()
	_, err = c.SendMessage(ctx, "u-42", "down", "hi")
	require.Error(t, err)
	assert.False(t, errors.Is(err, ErrNoSession) || errors.Is(err, ErrRejected) || errors.Is(err, ErrInvalid))
}

func TestSendAttachmentStoresBytesAndSendsReference(t *testing.T) {
	c, tc, store := newTestClient(t)
	content := []byte("payslip-data")
	sum := sha256.Sum256(content)
	var opts client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { opts = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateQueued}, nil), nil)

	res, err := c.SendAttachment(context.Background(), "u-42", "att-1", "../../etc/payslip.txt", "text/plain; charset=utf-8", "my payslip", bytes.NewReader(content))
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateQueued, res.Status)
	assert.Equal(t, workflows.UpdateSendAttachment, opts.UpdateName)
	assert.Equal(t, "att-1", opts.UpdateID)
	require.Len(t, opts.Args, 1)
	att := opts.Args[0].(workflows.UserAttachment)
	assert.Equal(t, hex.EncodeToString(sum[:]), att.SHA256)
	assert.Equal(t, int64(len(content)), att.Size)
	assert.Equal(t, "text/plain", att.MimeType)
	assert.Equal(t, "my payslip", att.Caption)
	assert.NotContains(t, att.Name, "/", "the name is sanitized")
	assert.Equal(t, "att-1", att.ID)

	rc, size, err := store.Open(att.SHA256)
	require.NoError(t, err)
	defer rc.Close()
	assert.Equal(t, int64(len(content)), size)
}

func TestCloseMakesRequestIDWhenMissing(t *testing.T) {
	c, tc, _ := newTestClient(t)
	var opts client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { opts = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateClosed}, nil), nil)
	res, err := c.Close(context.Background(), "u-42", "", "done")
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateClosed, res.Status)
	assert.Equal(t, workflows.UpdateClose, opts.UpdateName)
	assert.True(t, strings.HasPrefix(opts.UpdateID, "close-"))
	assert.Equal(t, []any{workflows.UserClose{ID: opts.UpdateID, Reason: "done"}}, opts.Args)
}

func TestStateQueriesWorkflow(t *testing.T) {
	c, tc, _ := newTestClient(t)
	view := workflows.SessionView{State: workflows.StateActive, UserID: "u-42", AgentName: "Jane"}
	payloads, err := converter.GetDefaultDataConverter().ToPayloads(view)
	require.NoError(t, err)
	tc.On("QueryWorkflow", mock.Anything, workflows.WorkflowID("u-42"), "", workflows.QueryState).
		Return(converterValue(payloads), nil)
	got, err := c.State(context.Background(), "u-42")
	require.NoError(t, err)
	assert.Equal(t, view.State, got.State)
	assert.Equal(t, "Jane", got.AgentName)

	tc.On("QueryWorkflow", mock.Anything, workflows.WorkflowID("nobody"), "", workflows.QueryState).
		Return(nil, serviceerror.NewNotFound("not found"))
	_, err = c.State(context.Background(), "nobody")
	require.ErrorIs(t, err, ErrNoSession)
}

type encodedValue struct{ p *commonpb.Payloads }

func (v encodedValue) HasValue() bool { return v.p != nil }
func (v encodedValue) Get(ptr any) error {
	return converter.GetDefaultDataConverter().FromPayloads(v.p, ptr)
}
func converterValue(p *commonpb.Payloads) converter.EncodedValue { return encodedValue{p} }

func TestListOpenDecodesSearchAttributes(t *testing.T) {
	c, tc, _ := newTestClient(t)
	dc := converter.GetDefaultDataConverter()
	kw := func(s string) *commonpb.Payload {
		p, err := dc.ToPayload(s)
		require.NoError(t, err)
		return p
	}
	exec := func(user string, started time.Time) *workflowpb.WorkflowExecutionInfo {
		return &workflowpb.WorkflowExecutionInfo{
			Execution: &commonpb.WorkflowExecution{WorkflowId: workflows.WorkflowID(user), RunId: "r-" + user},
			StartTime: timestamppb.New(started),
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
				workflows.SearchAttrUser.GetName():           kw(user),
				workflows.SearchAttrTopic.GetName():          kw("HR"),
				workflows.SearchAttrState.GetName():          kw("waiting"),
				workflows.SearchAttrConversationID.GetName(): kw("conv-" + user),
			}},
		}
	}
	t0 := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
	tc.On("ListWorkflow", mock.Anything, mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return r.Query == OpenSessionsQuery && len(r.NextPageToken) == 0
	})).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{exec("a", t0)}, NextPageToken: []byte("p2"),
	}, nil).Once()
	tc.On("ListWorkflow", mock.Anything, mock.MatchedBy(func(r *workflowservice.ListWorkflowExecutionsRequest) bool {
		return string(r.NextPageToken) == "p2"
	})).Return(&workflowservice.ListWorkflowExecutionsResponse{
		Executions: []*workflowpb.WorkflowExecutionInfo{exec("b", t0.Add(time.Minute))},
	}, nil).Once()

	list, err := c.ListOpen(context.Background())
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "b", list[0].UserID, "newest first")
	assert.Equal(t, SessionSummary{
		WorkflowID: workflows.WorkflowID("a"), RunID: "r-a", UserID: "a", Topic: "HR",
		State: workflows.StateWaiting, ConversationID: "conv-a", StartTime: t0,
	}, list[1])
}

// An update that failed in an activity reaches the client as an
// ApplicationError whose message holds the whole chain (activity type, event
// ids, worker pid and host); only the root cause may reach the assistant.
func TestUpdateErrorKeepsOnlyRootCause(t *testing.T) {
	c, tc, _ := newTestClient(t)
	root := &failurepb.Failure{Message: "salesforce refused the file: file type not allowed",
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "SalesforcePermanent", NonRetryable: true}}}
	activity := &failurepb.Failure{Message: "activity error", Cause: root,
		FailureInfo: &failurepb.Failure_ActivityFailureInfo{ActivityFailureInfo: &failurepb.ActivityFailureInfo{
			ScheduledEventId: 102, StartedEventId: 103, Identity: "20701@vm@", ActivityType: &commonpb.ActivityType{Name: "SendAttachment"}}}}
	full := temporal.GetDefaultFailureConverter().FailureToError(&failurepb.Failure{
		Message: "send m-1 to Salesforce: " + temporal.GetDefaultFailureConverter().FailureToError(activity).Error(), Cause: activity,
		FailureInfo: &failurepb.Failure_ApplicationFailureInfo{ApplicationFailureInfo: &failurepb.ApplicationFailureInfo{Type: "wrapError"}}})
	require.Contains(t, full.Error(), "20701@vm@", "the test must start from the leaky error")

	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Return(updateHandle(t, workflows.UpdateResult{}, full), nil).Once()
	_, err := c.SendMessage(context.Background(), "u-42", "m-1", "hi")
	require.ErrorIs(t, err, ErrRejected)
	var rej *RejectedError
	require.ErrorAs(t, err, &rej)
	assert.Equal(t, "salesforce refused the file: file type not allowed", rej.Reason)
	assert.Equal(t, "SalesforcePermanent", rej.Type, "the root cause's type")
	for _, leak := range []string{"20701", "scheduledEventID", "SendAttachment", "activity error"} {
		assert.NotContains(t, err.Error(), leak)
	}
	assert.Contains(t, rej.Err.Error(), "20701@vm@", "the full error is kept for logs")
}

// A file the session does not take is not kept: no session (404), or a
// refusal by the workflow or Salesforce, removes the stored copy. Content
// that was stored before stays.
func TestSendAttachmentRemovesRefusedFile(t *testing.T) {
	c, tc, store := newTestClient(t)
	ctx := context.Background()
	content := []byte("refused-payslip")
	sum := sha256.Sum256(content)
	key := hex.EncodeToString(sum[:])

	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "a-1" })).
		Return(nil, serviceerror.NewNotFound("no such workflow")).Once()
	_, err := c.SendAttachment(ctx, "nobody", "a-1", "p.pdf", "application/pdf", "", bytes.NewReader(content))
	require.ErrorIs(t, err, ErrNoSession)
	assert.False(t, store.Has(key), "a file for no session is kept")

	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "a-2" })).
		Return(updateHandle(t, workflows.UpdateResult{}, temporal.NewApplicationError("file type not allowed", "")), nil).Once()
	_, err = c.SendAttachment(ctx, "u-42", "a-2", "p.pdf", "application/pdf", "", bytes.NewReader(content))
	require.ErrorIs(t, err, ErrRejected)
	assert.False(t, store.Has(key), "a file Salesforce refused is kept")

	// Already stored (sent before and accepted): a refusal leaves it.
	_, _, err = store.Put(bytes.NewReader(content), 0)
	require.NoError(t, err)
	tc.On("UpdateWorkflow", mock.Anything, mock.MatchedBy(func(o client.UpdateWorkflowOptions) bool { return o.UpdateID == "a-3" })).
		Return(nil, serviceerror.NewNotFound("no such workflow")).Once()
	_, err = c.SendAttachment(ctx, "nobody", "a-3", "p.pdf", "application/pdf", "", bytes.NewReader(content))
	require.ErrorIs(t, err, ErrNoSession)
	assert.True(t, store.Has(key), "content stored before was removed")
}

// A file whose update ends with an unknown outcome (a timeout, the server
// unavailable) stays stored: the session may have accepted it and send it
// later, after the assistant's retry with the same id got the same answer.
func TestSendAttachmentKeepsFileWhenTheOutcomeIsUnknown(t *testing.T) {
	c, tc, store := newTestClient(t)
	content := []byte("payslip-flying") // within the test client's 16-byte limit
	sum := sha256.Sum256(content)
	key := hex.EncodeToString(sum[:])
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Return(nil, serviceerror.NewUnavailable("frontend restarting")).Once()
	_, err := c.SendAttachment(context.Background(), "u-42", "a-1", "p.pdf", "application/pdf", "", bytes.NewReader(content))
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRejected)
	assert.True(t, store.Has(key), "a file the session may have accepted was removed")
}
