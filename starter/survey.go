package starter

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// ErrSurveyNotOpen is wrapped when a session takes no survey: it has no
// survey window (none configured, no agent chatted, or it has ended) or a
// survey was already recorded. The message says which.
var ErrSurveyNotOpen = errors.New("no survey window")

// Survey records the user's post-chat survey (a rating from 1 to 5 and an
// optional comment) for a closed session in its survey window
// (session.survey_window). runID is the closed delivery summary's RunID;
// "" means the user's latest run. A session that takes no survey (still
// open, no or an ended window, already rated) is ErrSurveyNotOpen (or a
// *RejectedError of type workflows.ErrTypeSurveyNotOpen,
// ErrTypeSurveyRecorded or ErrTypeSessionOpen from the workflow); a user
// who never had a session is ErrNoSession.
func (c *Client) Survey(ctx context.Context, userID, runID string, survey workflows.Survey) (workflows.UpdateResult, error) {
	if err := validateUserID(userID); err != nil {
		return workflows.UpdateResult{}, err
	}
	if runID != "" {
		if _, err := uuid.Parse(runID); err != nil {
			return workflows.UpdateResult{}, invalid("run id %q is not a UUID", runID)
		}
	}
	if err := workflows.ValidateSurvey(survey); err != nil {
		return workflows.UpdateResult{}, invalid("%s", err.Error())
	}
	res, err := c.updateRun(ctx, userID, runID, workflows.UpdateSurvey, "survey-"+uuid.NewString(), survey)
	if !errors.Is(err, ErrNoSession) {
		return res, err
	}
	// The run has completed (or never existed): say which.
	view, stateErr := c.StateOfRun(ctx, userID, runID)
	switch {
	case stateErr != nil:
		return workflows.UpdateResult{}, err
	case view.Survey != nil:
		return workflows.UpdateResult{}, fmt.Errorf("%w: a survey was already recorded for this session", ErrSurveyNotOpen)
	case view.State != workflows.StateClosed:
		return workflows.UpdateResult{}, err
	}
	return workflows.UpdateResult{}, fmt.Errorf("%w: the session's survey window has ended (or it had none)", ErrSurveyNotOpen)
}

// finishLinger ends the survey window of the user's run runID, which a
// start found running, and waits until that run has completed. It reports
// false when the run is still an open session (the start then returns it).
// The finish is decided inside the workflow, so a session that closes just
// after this check is left to the caller to see on its next start.
func (c *Client) finishLinger(ctx context.Context, workflowID, runID string) (bool, error) {
	handle, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		RunID:        runID,
		UpdateName:   workflows.UpdateFinish,
		UpdateID:     "finish-" + uuid.NewString(),
		Args:         []any{workflows.Finish{Reason: "new session"}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.UpdateResult
		err = handle.Get(ctx, &res)
	}
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		return true, nil // it completed meanwhile
	case err != nil:
		if _, _, rejected := rootCause(err); rejected {
			// Open (ErrTypeSessionOpen), or a worker without the
			// finish handler: the run is the user's running session.
			return false, nil
		}
		return false, fmt.Errorf("finish survey window of %s: %w", workflowID, err)
	}
	if err := c.tc.GetWorkflow(ctx, workflowID, runID).Get(ctx, nil); err != nil && ctx.Err() != nil {
		return false, fmt.Errorf("wait for %s to complete: %w", workflowID, err)
	}
	return true, nil
}
