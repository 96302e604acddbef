package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers SessionWorkflow under WorkflowName and ShardWorkflow
// under ShardWorkflowName on a worker (or a replayer, or the SDK test
// environment). The session worker keeps ShardWorkflow for the shards
// started on TaskQueue before shards had a task queue of their own.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(SessionWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	RegisterShard(r)
}

// RegisterShard registers ShardWorkflow alone, for the worker on
// ListenerShardTaskQueue.
func RegisterShard(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ShardWorkflow, workflow.RegisterOptions{Name: ShardWorkflowName})
}
