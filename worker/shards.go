package worker

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/liveagent-bridge/liveagent/workflows"
)

// EnsureShards starts listener shards 0..n-1 (workflows.ShardWorkflow) that
// are not running; running ones are left alone, so every worker of a
// deployment may call it at start. A shard never completes by itself (it
// continues as new), so this only matters on a fresh namespace, after an
// operator terminated one, or when n grew. Shards start on
// workflows.ListenerShardTaskQueue; one started on workflows.TaskQueue by an
// older worker moves there when it next continues as new.
func EnsureShards(ctx context.Context, tc client.Client, n int) error {
	var errs []error
	for k := range n {
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       workflows.ShardWorkflowID(k),
			TaskQueue:                workflows.ListenerShardTaskQueue,
			WorkflowTaskTimeout:      workflows.WorkflowTaskTimeout,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		}, workflows.ShardWorkflowName, workflows.ShardInput{Shard: k})
		if err != nil {
			errs = append(errs, fmt.Errorf("start listener shard %d: %w", k, err))
		}
	}
	return errors.Join(errs...)
}
