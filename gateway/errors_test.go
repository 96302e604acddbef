package gateway_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// rejectingSessions refuses every message the way starter reports an
// activity failure inside the update.
type rejectingSessions struct{ *fakeSessions }

func (rejectingSessions) SendMessage(context.Context, string, string, string) (workflows.UpdateResult, error) {
	return workflows.UpdateResult{}, &starter.RejectedError{Update: "send-message", Reason: "file type not allowed",
		Err: errors.New("send m-1 to Salesforce: activity error (type: SendAttachment, scheduledEventID: 102, startedEventID: 103, identity: 20701@vm@): file type not allowed")}
}

// A 409 carries the root cause only, never the worker's identity or event ids.
func TestRejectionAnswersRootCauseOnly(t *testing.T) {
	h := newHarness(t, func(o *gateway.Options) { o.Sessions = rejectingSessions{newFake()} })
	status, body := h.json(http.MethodPost, "/v1/sessions/u-1/messages", `{"messageId":"m-1","text":"hi"}`)
	require.Equal(t, http.StatusConflict, status)
	assert.Equal(t, "file type not allowed", body["error"])
}

// A field given twice, or in another case, is refused: encoding/json alone
// would take {"topic":"Nope","TOPIC":"Payroll"} as topic Payroll.
func TestDuplicateAndCaseVariantKeysRefused(t *testing.T) {
	h := newHarness(t)
	for _, body := range []string{
		`{"userId":"u-1","topic":"Nope","TOPIC":"Payroll","description":"d"}`,
		`{"userId":"u-1","topic":"Nope","topic":"Payroll","description":"d"}`,
		`{"userId":"u-1","Topic":"Payroll","description":"d"}`,
		`{"userId":"u-1","USERID":"u-2","topic":"Payroll","description":"d"}`,
	} {
		status, resp := h.json(http.MethodPost, "/v1/sessions", body)
		assert.Equal(t, http.StatusBadRequest, status, "%s → %v", body, resp)
	}
	status, resp := h.json(http.MethodPost, "/v1/sessions", `{"userId":"u-1","topic":"Payroll","description":"d"}`)
	assert.Equal(t, http.StatusCreated, status, "%v", resp)
}
