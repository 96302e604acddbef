package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Register registers SessionWorkflow under WorkflowName and ShardWorkflow
// under ShardWorkflowName on a worker (or a replayer, or the SDK test
// environment).
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(SessionWorkflow, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(ShardWorkflow, workflow.RegisterOptions{Name: ShardWorkflowName})
}
