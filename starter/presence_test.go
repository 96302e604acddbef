package starter

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/mocks"
	"go.temporal.io/sdk/temporal"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func noResultHandle(t *testing.T, err error) *mocks.WorkflowUpdateHandle {
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Return(err)
	return h
}

// A typing spell reaches the session once per refresh interval (half the
// quiet time, an hour here so no report can fall out of it); a stop always
// does and ends the spell.
func TestTypingCoalescesRepeatedReports(t *testing.T) {
	settings := testSettings()
	settings.TypingQuietTime = 2 * time.Hour
	tc := mocks.NewClient(t)
	c := New(tc, settings, nil)
	var args []any
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).Run(func(a mock.Arguments) {
		opts := a.Get(1).(client.UpdateWorkflowOptions)
		assert.Equal(t, workflows.UpdateTyping, opts.UpdateName)
		assert.Equal(t, workflows.WorkflowID("u-42"), opts.WorkflowID)
		assert.Equal(t, client.WorkflowUpdateStageCompleted, opts.WaitForStage)
		args = append(args, opts.Args...)
	}).Return(noResultHandle(t, nil), nil)

	ctx := context.Background()
	var forwarded []bool
	for _, typing := range []bool{true, true, true, false, true} {
		res, err := c.Typing(ctx, "u-42", typing)
		require.NoError(t, err)
		forwarded = append(forwarded, res.Forwarded)
	}
	assert.Equal(t, []bool{true, false, false, true, true}, forwarded)
	assert.Equal(t, []any{workflows.UserTyping{Typing: true}, workflows.UserTyping{Typing: false}, workflows.UserTyping{Typing: true}}, args)
}

func TestTypingRefusedBySessionIsForwardedAgain(t *testing.T) {
	settings := testSettings()
	settings.TypingQuietTime = 2 * time.Hour
	tc := mocks.NewClient(t)
	c := New(tc, settings, nil)
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Return(noResultHandle(t, temporal.NewApplicationError("session is waiting: typing is shown only while an agent chats with the user", "")), nil).Twice()

	for range 2 {
		_, err := c.Typing(context.Background(), "u-42", true)
		require.ErrorIs(t, err, ErrRejected)
		assert.Contains(t, err.Error(), "typing is shown only while an agent chats")
	}
}

func TestReceiptsValidateThenRunUpdate(t *testing.T) {
	c, tc, _ := newTestClient(t)
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"bad status": func() error { _, err := c.Receipts(ctx, "u-42", "seen", []string{"e1"}); return err },
		"no ids":     func() error { _, err := c.Receipts(ctx, "u-42", workflows.ReceiptRead, nil); return err },
		"empty id":   func() error { _, err := c.Receipts(ctx, "u-42", workflows.ReceiptRead, []string{" "}); return err },
		"bad user":   func() error { _, err := c.Receipts(ctx, "", workflows.ReceiptRead, []string{"e1"}); return err },
		"too many": func() error {
			_, err := c.Receipts(ctx, "u-42", workflows.ReceiptRead, make([]string, workflows.MaxReceiptIDs+1))
			return err
		},
	} {
		require.ErrorIs(t, call(), ErrInvalid, name)
	}

	var opts client.UpdateWorkflowOptions
	h := mocks.NewWorkflowUpdateHandle(t)
	h.On("Get", mock.Anything, mock.Anything).Run(func(a mock.Arguments) {
		*a.Get(1).(*workflows.ReceiptsResult) = workflows.ReceiptsResult{Queued: 2}
	}).Return(nil)
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(a mock.Arguments) { opts = a.Get(1).(client.UpdateWorkflowOptions) }).Return(h, nil).Once()
	res, err := c.Receipts(ctx, "u-42", workflows.ReceiptRead, []string{"e1", "e2"})
	require.NoError(t, err)
	assert.Equal(t, workflows.ReceiptsResult{Queued: 2}, res)
	assert.Equal(t, workflows.UpdateReceipts, opts.UpdateName)
	assert.Equal(t, []any{workflows.UserReceipts{Status: workflows.ReceiptRead, MessageIDs: []string{"e1", "e2"}}}, opts.Args)
}
