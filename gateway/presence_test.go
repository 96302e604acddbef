package gateway_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// presenceSession answers typing and receipts like starter does: no
// session is ErrNoSession, a closed one is refused.
func (f *fakeSessions) presenceSession(userID string) error {
	switch {
	case f.completed[userID], !f.running[userID] && !f.closed[userID]:
		return fmt.Errorf("presence: %w for user session x", starter.ErrNoSession)
	case f.closed[userID]:
		return &starter.RejectedError{Update: "typing", Reason: "session is closed", Err: starter.ErrRejected}
	}
	return nil
}

func (f *fakeSessions) Typing(_ context.Context, userID string, typing bool) (starter.TypingResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.presenceSession(userID); err != nil {
		return starter.TypingResult{}, err
	}
	return starter.TypingResult{Forwarded: typing}, nil
}

func (f *fakeSessions) Receipts(_ context.Context, userID string, status workflows.ReceiptStatus, ids []string) (workflows.ReceiptsResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if status != workflows.ReceiptDelivered && status != workflows.ReceiptRead {
		return workflows.ReceiptsResult{}, fmt.Errorf("%w: status must be \"delivered\" or \"read\"", starter.ErrInvalid)
	}
	if len(ids) == 0 {
		return workflows.ReceiptsResult{}, fmt.Errorf("%w: messageIds must name 1 to 100 agent messages, got 0", starter.ErrInvalid)
	}
	if err := f.presenceSession(userID); err != nil {
		return workflows.ReceiptsResult{}, err
	}
	return workflows.ReceiptsResult{Queued: len(ids)}, nil
}

// presenceContractCases drive the typing and receipts routes into every
// documented status; they run after the contract's "close" closed u-1.
func presenceContractCases(main *gateway.Gateway) []contractCase {
	const js = "application/json"
	big := `{"typing":true,"x":"` + strings.Repeat("x", 70<<10) + `"}`
	const typing, receipts = "/v1/sessions/u-typist/typing", "/v1/sessions/u-typist/receipts"
	read := `{"status":"read","messageIds":["e1","e2"]}`
	return []contractCase{
		{"start typist", main, "POST", "/v1/sessions", js, `{"userId":"u-typist","topic":"Payroll","description":"d"}`, "", 201},
		{"typing", main, "POST", typing, js, `{"typing":true}`, "", 202},
		{"typing stopped", main, "POST", typing, js, `{"typing":false}`, "", 202},
		{"typing malformed", main, "POST", typing, js, `{"typing":`, "", 400},
		{"typing unknown key", main, "POST", typing, js, `{"typed":true}`, "", 400},
		{"typing no token", main, "POST", typing, js, `{"typing":true}`, "-", 401},
		{"typing no session", main, "POST", "/v1/sessions/nobody/typing", js, `{"typing":true}`, "", 404},
		{"typing closed", main, "POST", "/v1/sessions/u-1/typing", js, `{"typing":true}`, "", 409},
		{"typing finished", main, "POST", "/v1/sessions/u-done/typing", js, `{"typing":true}`, "", 409},
		{"typing too large", main, "POST", typing, js, big, "", 413},
		{"typing wrong type", main, "POST", typing, "text/plain", `{"typing":true}`, "", 415},
		{"typing missing", main, "POST", typing, js, `{}`, "", 422},
		{"receipts", main, "POST", receipts, js, read, "", 202},
		{"receipts malformed", main, "POST", receipts, js, `{"status":`, "", 400},
		{"receipts no token", main, "POST", receipts, js, read, "-", 401},
		{"receipts no session", main, "POST", "/v1/sessions/nobody/receipts", js, read, "", 404},
		{"receipts closed", main, "POST", "/v1/sessions/u-1/receipts", js, read, "", 409},
		{"receipts too large", main, "POST", receipts, js, big, "", 413},
		{"receipts wrong type", main, "POST", receipts, "text/plain", read, "", 415},
		{"receipts invalid", main, "POST", receipts, js, `{"status":"seen","messageIds":["e1"]}`, "", 422},
	}
}

func TestTypingAndReceiptsAnswers(t *testing.T) {
	h := newHarness(t)
	resp, _ := h.do(http.MethodPost, "/v1/sessions", "application/json", strings.NewReader(`{"userId":"u-9","topic":"Payroll","description":"d"}`), "Bearer "+token)
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	resp, data := h.do(http.MethodPost, "/v1/sessions/u-9/typing", "application/json", strings.NewReader(`{"typing":true}`), "Bearer "+token)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(data))
	assert.JSONEq(t, `{"typing":true,"forwarded":true}`, string(data))

	resp, data = h.do(http.MethodPost, "/v1/sessions/u-9/typing", "application/json", strings.NewReader(`{}`), "Bearer "+token)
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode)
	assert.Contains(t, string(data), "typing is required")

	resp, data = h.do(http.MethodPost, "/v1/sessions/u-9/receipts", "application/json",
		strings.NewReader(`{"status":"delivered","messageIds":["e1","e2","e3"]}`), "Bearer "+token)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(data))
	assert.JSONEq(t, `{"queued":3}`, string(data))
}
