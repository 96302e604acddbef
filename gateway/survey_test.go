package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/liveagent-bridge/liveagent/gateway"
	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// Survey takes one survey per closed session, as the workflow does: an
// open session refuses it (409 from the workflow's rejection), a second is
// ErrSurveyNotOpen (409), an invalid one ErrInvalid (422).
func (f *fakeSessions) Survey(_ context.Context, userID, _ string, s workflows.Survey) (workflows.UpdateResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := workflows.ValidateSurvey(s); err != nil {
		return workflows.UpdateResult{}, fmt.Errorf("%w: %v", starter.ErrInvalid, err)
	}
	switch {
	case f.running[userID]:
		return workflows.UpdateResult{}, &starter.RejectedError{Update: workflows.UpdateSurvey, Reason: "this session takes no survey",
			Type: workflows.ErrTypeSurveyNotOpen, Err: fmt.Errorf("rejected")}
	case !f.closed[userID]:
		return workflows.UpdateResult{}, fmt.Errorf("survey: %w for user session x", starter.ErrNoSession)
	}
	if _, ok := f.surveys[userID]; ok {
		return workflows.UpdateResult{}, fmt.Errorf("%w: a survey was already recorded for this session", starter.ErrSurveyNotOpen)
	}
	if f.surveys == nil {
		f.surveys = map[string]workflows.Survey{}
	}
	f.surveys[userID] = s
	return workflows.UpdateResult{Status: workflows.UpdateRecorded}, nil
}

// surveyContractCases drive the survey route into every documented status;
// they run after the contract's "close" closed u-1.
func surveyContractCases(main *gateway.Gateway) []contractCase {
	const js = "application/json"
	const path = "/v1/sessions/u-1/survey"
	return []contractCase{
		{"survey invalid", main, "POST", path, js, `{"rating":6}`, "", 422},
		{"survey missing rating", main, "POST", path, js, `{"comment":"x"}`, "", 422},
		{"survey", main, "POST", path, js, `{"rating":5,"comment":"great","runId":"0196a6a4-7f43-7000-8000-000000000001"}`, "", 200},
		{"survey again", main, "POST", path, js, `{"rating":1}`, "", 409},
		{"survey open session", main, "POST", "/v1/sessions/u-typist/survey", js, `{"rating":3}`, "", 409},
		{"survey no session", main, "POST", "/v1/sessions/nobody/survey", js, `{"rating":3}`, "", 404},
		{"survey malformed", main, "POST", path, js, `{"rating":"five"}`, "", 400},
		{"survey no token", main, "POST", path, js, `{"rating":3}`, "-", 401},
		{"survey too large", main, "POST", path, js, `{"rating":3,"comment":"` + strings.Repeat("x", 70<<10) + `"}`, "", 413},
		{"survey wrong type", main, "POST", path, "text/plain", `{"rating":3}`, "", 415},
	}
}

// The state answer carries the survey window and the recorded survey.
func TestStateShowsSurvey(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)
	h.fake.stateView = &workflows.SessionView{State: workflows.StateClosed, UserID: "u-9", Topic: "Payroll",
		Survey: &workflows.Survey{Rating: 2, Comment: "slow <reply>", At: at}}
	resp, data := h.do(http.MethodGet, "/v1/sessions/u-9", "", nil, "Bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	var out gateway.SessionStateResponse
	require.NoError(t, json.Unmarshal(data, &out))
	require.NotNil(t, out.Survey)
	assert.Equal(t, gateway.Survey{Rating: 2, Comment: "slow <reply>", At: at}, *out.Survey)
	assert.False(t, out.SurveyOpen)
}
