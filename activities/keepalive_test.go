package activities

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// keepAliveBeat is the heartbeat timeout of the tests' activities; each
// blocks for keepAliveRun, well past it.
const (
	keepAliveBeat = time.Second
	keepAliveRun  = 2500 * time.Millisecond
)

// runSlowActivity runs one attempt of the activity registered as name,
// which blocks for keepAliveRun, and returns the heartbeats recorded (their
// details; "" for a keep-alive's, which has none). The margins
// are wide (a beat every 500 ms against a 1 s timeout) for a loaded machine.
func runSlowActivity(t *testing.T, name string, interceptors []interceptor.WorkerInterceptor, own bool) ([]string, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: interceptors})
	var mu sync.Mutex
	var beats []string
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var d string
		if details.HasValues() {
			_ = details.Get(&d)
		}
		mu.Lock()
		beats = append(beats, d)
		mu.Unlock()
	})
	env.RegisterActivityWithOptions(func(ctx context.Context) error {
		if own {
			activity.RecordHeartbeat(ctx, "progress")
		}
		time.Sleep(keepAliveRun)
		return nil
	}, activity.RegisterOptions{Name: name})
	env.ExecuteWorkflow(func(ctx workflow.Context) error {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute,
			HeartbeatTimeout:    keepAliveBeat,
			RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 1},
		})
		return workflow.ExecuteActivity(ctx, name).Get(ctx, nil)
	})
	require.True(t, env.IsWorkflowCompleted())
	mu.Lock()
	defer mu.Unlock()
	return beats, env.GetWorkflowError()
}

// Without the keep-alive, a short activity that blocks past its heartbeat
// timeout fails the attempt: the test that the scenario is real.
func TestKeepAliveWithoutItABlockedActivityTimesOut(t *testing.T) {
	_, err := runSlowActivity(t, workflows.ActivityDownloadAttachment, nil, false)
	require.Error(t, err)
	var timeout *temporal.TimeoutError
	require.ErrorAs(t, err, &timeout)
}

// With it, the attempt is heartbeated while it runs and completes.
func TestKeepAliveHeartbeatsABlockedActivity(t *testing.T) {
	beats, err := runSlowActivity(t, workflows.ActivityDownloadAttachment, []interceptor.WorkerInterceptor{KeepAlive()}, false)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(beats), 2, "one keep-alive heartbeat every half heartbeat timeout")
}

// An activity that heartbeats its own progress is left alone: a keep-alive
// without details would overwrite the progress its next attempt resumes
// from.
func TestKeepAliveLeavesSelfHeartbeatingActivities(t *testing.T) {
	beats, _ := runSlowActivity(t, workflows.ActivityImportHistory, []interceptor.WorkerInterceptor{KeepAlive()}, true)
	require.NotEmpty(t, beats)
	for _, b := range beats {
		assert.Equal(t, "progress", b, "only the activity's own heartbeats")
	}
}
