package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/activities"
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

// sessionsRejectingFiles fails every attachment the way Salesforce's 413 /
// 415 reach starter: a RejectedError whose root cause has the activity's
// error type.
type sessionsRejectingFiles struct {
	*fakeSessions
	errType, reason string
}

func (s sessionsRejectingFiles) SendAttachment(context.Context, string, string, string, string, string, io.Reader) (workflows.UpdateResult, error) {
	return workflows.UpdateResult{}, &starter.RejectedError{Update: "send-attachment", Reason: s.reason, Type: s.errType,
		Err: errors.New("send f-1 to Salesforce: activity error (type: SendAttachment): " + s.reason)}
}

// Salesforce's 413 / 415 for a user file reach the assistant as 413 / 415
// with Salesforce's reason, not as 409.
func TestSalesforceFileRefusalsKeepTheirStatus(t *testing.T) {
	for _, tc := range []struct {
		errType string
		status  int
		reason  string
	}{
		{activities.ErrTypeAttachmentTooLarge, http.StatusRequestEntityTooLarge, "send attachment: miaw: send file: POST /conversation/{id}/file: 413: The file is too large."},
		{activities.ErrTypeUnsupportedFileType, http.StatusUnsupportedMediaType, "send attachment: miaw: send file: POST /conversation/{id}/file: 415: The file type application/zip isn't supported."},
		{activities.ErrTypeSalesforcePermanent, http.StatusConflict, "send attachment: miaw: send file: 400: bad"},
	} {
		h := newHarness(t, func(o *gateway.Options) {
			o.Sessions = sessionsRejectingFiles{fakeSessions: newFake(), errType: tc.errType, reason: tc.reason}
		})
		ct, upload := multipartBody(t, map[string]string{"messageId": "f-1"}, "a.zip", "application/zip", []byte("PK"))
		resp, data := h.do(http.MethodPost, "/v1/sessions/u-1/attachments", ct, upload, "Bearer "+token)
		var body map[string]any
		require.NoError(t, json.Unmarshal(data, &body), "%s", data)
		assert.Equal(t, tc.status, resp.StatusCode, tc.errType)
		assert.Equal(t, tc.reason, body["error"], tc.errType)
	}
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
