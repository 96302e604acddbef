package workflows_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/workflows"
)

const historiesGlob = "testdata/histories/*.json"

func replayLogger() tlog.Logger {
	return tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
}

func recordedHistories(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(historiesGlob)
	require.NoError(t, err)
	// An empty directory would make the replay test pass vacuously.
	require.NotEmpty(t, files, "no recorded histories in %s; run go run ./cmd/recordhistories", historiesGlob)
	return files
}

// TestReplayRecordedHistories replays every recorded history against the
// current SessionWorkflow. A failure means the change is not replay-safe:
// guard it with workflow.GetVersion (see the package documentation).
func TestReplayRecordedHistories(t *testing.T) {
	for _, f := range recordedHistories(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.Register(r)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(replayLogger(), f))
		})
	}
}

// alteredSessionWorkflow is SessionWorkflow with an unversioned extra step in
// front: the kind of change that breaks running sessions.
func alteredSessionWorkflow(ctx workflow.Context, in workflows.SessionInput) (workflows.SessionResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(actx, "UnversionedNewStep").Get(ctx, nil); err != nil {
		return workflows.SessionResult{}, err
	}
	return workflows.SessionWorkflow(ctx, in)
}

// alteredShardWorkflow is ShardWorkflow with an unversioned step first.
func alteredShardWorkflow(ctx workflow.Context, in workflows.ShardInput) error {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	if err := workflow.ExecuteActivity(actx, "UnversionedNewStep").Get(ctx, nil); err != nil {
		return err
	}
	return workflows.ShardWorkflow(ctx, in)
}

// TestReplayDetectsNondeterministicChange proves the replay test has teeth:
// every recorded history fails against the altered workflow.
func TestReplayDetectsNondeterministicChange(t *testing.T) {
	for _, f := range recordedHistories(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(alteredSessionWorkflow, workflow.RegisterOptions{Name: workflows.WorkflowName})
			r.RegisterWorkflowWithOptions(alteredShardWorkflow, workflow.RegisterOptions{Name: workflows.ShardWorkflowName})
			// The replayer logs the expected panic with its stack; keep it quiet.
			quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
			err := r.ReplayWorkflowHistoryFromJSONFile(quiet, f)
			require.Error(t, err)
			// TMPRL1100 is the SDK's code for a non-determinism error.
			require.ErrorContains(t, err, "TMPRL1100")
		})
	}
}
