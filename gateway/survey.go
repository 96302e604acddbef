package gateway

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/liveagent-bridge/liveagent/starter"
	"github.com/liveagent-bridge/liveagent/workflows"
)

// SurveyRequest is the body of POST /v1/sessions/{userId}/survey: the
// user's post-chat rating of a closed session.
type SurveyRequest struct {
	// RunID is the closed delivery summary's runId; empty means the user's
	// latest session.
	RunID string `json:"runId,omitempty"`
	// Rating is 1 (worst) to 5 (best).
	Rating int `json:"rating"`
	// Comment is optional free text (at most 2000 UTF-8 bytes).
	Comment string `json:"comment,omitempty"`
}

// Survey is a recorded post-chat survey in SessionStateResponse.
type Survey struct {
	Rating  int       `json:"rating"`
	Comment string    `json:"comment,omitempty"`
	At      time.Time `json:"at"`
}

// survey answers POST /v1/sessions/{userId}/survey: 200 recorded; 422 an
// invalid rating or comment; 409 a session that takes no survey (still
// open, no or an ended survey window, or already rated); 404 no session.
func (g *Gateway) survey(w http.ResponseWriter, r *http.Request) {
	var req SurveyRequest
	if err := decodeJSON(r, &req, false); err != nil {
		g.fail(w, r, err)
		return
	}
	res, err := g.sessions.Survey(r.Context(), r.PathValue("userId"), strings.TrimSpace(req.RunID),
		workflows.Survey{Rating: req.Rating, Comment: req.Comment})
	if errors.Is(err, starter.ErrSurveyNotOpen) {
		err = &requestError{status: http.StatusConflict, msg: err.Error()}
	}
	if err != nil {
		g.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updateResponse(res))
}

// surveyResponse adds a session's survey state to its state answer.
func surveyResponse(out *SessionStateResponse, v *workflows.SessionView) {
	out.SurveyOpen = v.SurveyOpen
	if s := v.Survey; s != nil {
		out.Survey = &Survey{Rating: s.Rating, Comment: s.Comment, At: s.At}
	}
}
