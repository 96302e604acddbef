package starter

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

func TestSendChoiceRunsUpdateWithChoice(t *testing.T) {
	c, tc, _ := newTestClient(t)
	var opts client.UpdateWorkflowOptions
	tc.On("UpdateWorkflow", mock.Anything, mock.Anything).
		Run(func(args mock.Arguments) { opts = args.Get(1).(client.UpdateWorkflowOptions) }).
		Return(updateHandle(t, workflows.UpdateResult{Status: workflows.UpdateSent, EntryID: "e1"}, nil), nil)

	choice := workflows.ChoiceReply{InReplyTo: "entry-3", OptionID: "opt-b"}
	res, err := c.SendChoice(context.Background(), "u-42", "msg-8", "", choice)
	require.NoError(t, err)
	assert.Equal(t, workflows.UpdateSent, res.Status)
	assert.Equal(t, "msg-8", opts.UpdateID)
	assert.Equal(t, []any{workflows.UserMessage{ID: "msg-8", Choice: &choice}}, opts.Args)
}

func TestSendChoiceValidates(t *testing.T) {
	c, _, _ := newTestClient(t)
	ctx := context.Background()
	for name, ch := range map[string]workflows.ChoiceReply{
		"no message":      {OptionID: "a"},
		"no option":       {InReplyTo: "e"},
		"blank option":    {InReplyTo: "e", OptionID: "  "},
		"control in id":   {InReplyTo: "e\n1", OptionID: "a"},
		"option too long": {InReplyTo: "e", OptionID: strings.Repeat("x", MaxChoiceIDLen+1)},
	} {
		_, err := c.SendChoice(ctx, "u-42", "m1", "", ch)
		assert.True(t, errors.Is(err, ErrInvalid), "%s: %v", name, err)
	}
}
