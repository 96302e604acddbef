package workflows

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Post-chat survey. A session configured with Settings.SurveyWindow stays
// "closed, accepting a survey" for that long after its shutdown: the run
// keeps running (the workflow id stays taken) but holds no listener, sends
// nothing and its search attribute state is closed, so it is not listed as
// open. It takes at most one UpdateSurvey and then completes with the survey
// in its SessionResult (and SessionView). A start for the same user first
// ends the window with UpdateFinish, so a lingering run never answers a new
// start (see starter.Client.Start).

// Update names of the survey window.
const (
	// UpdateSurvey takes a Survey and returns an UpdateResult with Status
	// UpdateRecorded. Its validator refuses an invalid survey
	// (ErrTypeInvalidSurvey), a session with no open window
	// (ErrTypeSurveyNotOpen) and a second survey (ErrTypeSurveyRecorded).
	UpdateSurvey = "survey"
	// UpdateFinish takes a Finish and ends a closed (or closing) session's
	// survey window at once, so the user's workflow id is free for a new
	// session; it returns an UpdateResult with Status UpdateClosed. Its
	// validator refuses a session that is still open (ErrTypeSessionOpen).
	UpdateFinish = "finish"
)

// UpdateRecorded is the status of an accepted survey.
const UpdateRecorded UpdateStatus = "recorded"

// ApplicationError types of refused survey and finish updates.
const (
	ErrTypeInvalidSurvey  = "InvalidSurvey"
	ErrTypeSurveyNotOpen  = "SurveyNotOpen"
	ErrTypeSurveyRecorded = "SurveyRecorded"
	ErrTypeSessionOpen    = "SessionOpen"
)

// Survey bounds.
const (
	MinSurveyRating = 1
	MaxSurveyRating = 5
	// MaxSurveyCommentBytes is the most UTF-8 bytes of a survey comment.
	MaxSurveyCommentBytes = 2000
)

// Survey is the user's post-chat rating (CSAT), the argument of
// UpdateSurvey and, with At set by the workflow, part of the result.
type Survey struct {
	Rating  int    // MinSurveyRating to MaxSurveyRating
	Comment string `json:",omitempty"`
	At      time.Time
}

// Finish is the argument of UpdateFinish.
type Finish struct {
	// Reason says who ends the window (for the log), e.g. "new session".
	Reason string `json:",omitempty"`
}

// surveyTimerSummary names the survey window's timer in the Web UI.
const surveyTimerSummary = "post-chat survey window"

// MetricSurveyRatings counts recorded surveys, tagged with
// MetricTagRating ("1" to "5").
const (
	MetricSurveyRatings = "liveagent_survey_ratings"
	MetricTagRating     = "rating"
)

// ValidateSurvey checks a survey's rating and comment.
func ValidateSurvey(v Survey) error {
	if v.Rating < MinSurveyRating || v.Rating > MaxSurveyRating {
		return fmt.Errorf("rating must be %d to %d, got %d", MinSurveyRating, MaxSurveyRating, v.Rating)
	}
	if !utf8.ValidString(v.Comment) {
		return errors.New("comment is not valid UTF-8")
	}
	if n := len(v.Comment); n > MaxSurveyCommentBytes {
		return fmt.Errorf("comment is %d bytes, the limit is %d", n, MaxSurveyCommentBytes)
	}
	return nil
}

// surveyDeadline is when the survey window of a session closing for
// reason ends, or zero when it offers none: it does when a window is
// configured, it did not fail or get cancelled, an agent chatted with the
// user, and no new start asked to finish it. The version is asked only
// then (never in sessions without a window, so every history recorded
// before the change replays unchanged). It is decided before the closed
// delivery, whose summary tells the assistant (CloseSummary.SurveyUntil).
func (s *session) surveyDeadline(ctx workflow.Context, reason CloseReason) time.Time {
	if s.req.Settings.SurveyWindow <= 0 || reason == CloseFailed || reason == CloseCancelled ||
		s.acceptedAt.IsZero() || s.finishing {
		return time.Time{}
	}
	if workflow.GetVersion(ctx, changeSurvey, workflow.DefaultVersion, 1) != 1 {
		return time.Time{}
	}
	return workflow.Now(ctx).Add(s.req.Settings.SurveyWindow)
}

// awaitSurvey is the survey window until deadline: one timer, until a
// survey is recorded, a new start finishes the window or the window runs
// out. Late agent events are dropped, never delivered.
func (s *session) awaitSurvey(ctx workflow.Context, deadline time.Time) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	timerCtx, cancelTimer := workflow.WithCancel(dctx)
	defer cancelTimer()
	s.surveyOpen = true
	s.logger.Info("Waiting for a survey", "surveyWindow", s.req.Settings.SurveyWindow)
	timer := workflow.NewTimerWithOptions(timerCtx, max(deadline.Sub(workflow.Now(dctx)), time.Millisecond),
		workflow.TimerOptions{Summary: surveyTimerSummary})
	err := workflow.Await(dctx, func() bool {
		return s.survey != nil || s.finishing || timer.IsReady() || ctx.Err() != nil
	})
	s.surveyOpen = false
	switch {
	case err != nil:
		s.logger.Warn("Survey window ended", "error", err)
	case s.survey != nil:
		s.logger.Info("Survey recorded", "rating", s.survey.Rating)
	case s.finishing:
		s.logger.Info("Survey window finished early", "reason", s.finishReason)
	case ctx.Err() != nil:
		s.logger.Info("Survey window cancelled")
	default:
		s.logger.Info("Survey window expired")
	}
	if err := workflow.Await(dctx, func() bool { return workflow.AllHandlersFinished(dctx) }); err != nil {
		s.logger.Warn("Waiting for update handlers failed", "error", err)
	}
	s.dropLateEvents()
}

func (s *session) validateSurvey(_ workflow.Context, v Survey) error {
	if err := ValidateSurvey(v); err != nil {
		return temporal.NewApplicationError(err.Error(), ErrTypeInvalidSurvey)
	}
	switch {
	case s.survey != nil:
		return temporal.NewApplicationError("a survey was already recorded for this session", ErrTypeSurveyRecorded)
	case !s.surveyOpen:
		return temporal.NewApplicationError("this session takes no survey (no survey window, or it has ended)", ErrTypeSurveyNotOpen)
	}
	return nil
}

func (s *session) onSurvey(ctx workflow.Context, v Survey) (UpdateResult, error) {
	v.At = workflow.Now(ctx)
	s.survey = &v
	workflow.GetMetricsHandler(ctx).
		WithTags(map[string]string{MetricTagRating: strconv.Itoa(v.Rating)}).
		Counter(MetricSurveyRatings).Inc(1)
	return UpdateResult{Status: UpdateRecorded}, nil
}

func (s *session) validateFinish(_ workflow.Context, _ Finish) error {
	if s.phase != phaseClosing && s.phase != phaseClosed && s.ending == "" {
		return temporal.NewApplicationError("session is open", ErrTypeSessionOpen)
	}
	return nil
}

func (s *session) onFinish(_ workflow.Context, f Finish) (UpdateResult, error) {
	s.finishing = true
	s.finishReason = f.Reason
	return UpdateResult{Status: UpdateClosed}, nil
}
